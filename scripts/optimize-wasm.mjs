// Optimizes each wasm-bindgen output with binaryen's wasm-opt (npm's binaryen@132), in place of
// wasm-pack's own wasm-opt run (Cargo.toml turns that off), so that one step can come first:
// taking the panic messages' formatting out.
//
// The crate is no_std with a panic handler that traps without reading its message (src/lib.rs).
// Yet the standard library is precompiled: its panics (a RefCell borrowed twice, an index out of
// bounds) build `fmt::Arguments` in static data that point at `Display` impls through the
// function table, and since nothing can prove that data is never read, those impls and the
// `core::fmt` machinery under them (Formatter::pad, integer printing) stay in the module: 2.2
// KiB raw, 1.1 KiB gz of the browser build, measured. Nightly's `panic_immediate_abort` removes
// them at the source; on stable, the table entries of `core::fmt` trait impls are pointed at
// another function here, and wasm-opt then drops the code nobody can reach. Only panics read
// those entries, and every panic traps before formatting anything.
//
// For the same reason the source paths panics carry as their location (`src/wasm/body.rs`,
// `/rustc/<hash>/library/alloc/src/raw_vec/mod.rs`, `js-sys-0.3.107/src/futures/mod.rs`) are
// never read: they are zeroed where they lie in the data section, offsets unchanged, which is
// what nightly's `-Zlocation-detail=none` would leave out (~0.2 KiB gz of the browser build).

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, capture } from './lib.mjs';

export const WASM_OPT = path.join(ROOT, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
/** The target features rustc enables for wasm32 (parsing the module needs them too). */
export const FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-reference-types', '--enable-sign-ext'];

/**
 * --low-memory-unused lets binaryen fold `pointer + constant` into a load's or store's offset
 * without proving the add cannot wrap (it assumes no access to the first KiB, which Rust reaches
 * only through a wrapped pointer: data starts at 1 MiB, and the stack, below it, is addressed as
 * the stack pointer plus small offsets). --flatten --rereloop rebuild the control flow of the big
 * async state machines more compactly, best after a first -Oz has simplified them and before a
 * last one. Each step was kept for what it saved, measured on the browser .wasm (gz): the order
 * -Oz -Oz, flatten, rereloop, -Oz 0.3 KiB less than flatten, rereloop, -Oz. Last,
 * --merge-similar-functions (not part of -Oz) makes one function of those that differ only in
 * constants (Rust's monomorphized copies), and a final -Oz tidies up: 0.2 KiB gz less again.
 */
const PASSES = ['--low-memory-unused', '-Oz', '-Oz', '--flatten', '--rereloop', '-Oz', '--merge-similar-functions', '-Oz'];

/** Reads unsigned LEB128 numbers from `bytes`, from `at` (here and in size.mjs). */
export class Reader {
  constructor(bytes, at = 0) {
    this.bytes = bytes;
    this.at = at;
  }

  u32() {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = this.bytes[this.at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  }
}

/** The module's function names by index (its `name` section), where its element section starts, and its data section's bounds. */
function layout(bytes) {
  const reader = new Reader(bytes, 8);
  const names = new Map();
  let elements = null;
  let data = null;
  while (reader.at < bytes.length) {
    const id = bytes[reader.at++];
    const end = reader.u32() + reader.at;
    if (id === 9) elements = reader.at;
    if (id === 11) data = { start: reader.at, end };
    if (id === 0) {
      const length = reader.u32();
      const name = bytes.subarray(reader.at, reader.at + length).toString();
      reader.at += length;
      while (name === 'name' && reader.at < end) {
        const subsection = bytes[reader.at++];
        const subsectionEnd = reader.u32() + reader.at;
        if (subsection === 1) {
          for (let count = reader.u32(); count > 0; count--) {
            const index = reader.u32();
            const nameLength = reader.u32();
            names.set(index, bytes.subarray(reader.at, reader.at + nameLength).toString());
            reader.at += nameLength;
          }
        }
        reader.at = subsectionEnd;
      }
    }
    reader.at = end;
  }
  return { names, elements, data };
}

/** A `core::fmt` trait impl: `<u32 as core[…]::fmt::Display>::fmt` and the like. */
const FORMATTING = /core(\[[0-9a-f]+\])?::fmt::(Display|Debug|LowerHex|UpperHex)>::fmt$/;

/**
 * Points the function table's entries for `core::fmt` trait impls at the table's first function,
 * in place (same LEB128 width), given the module's `layout`. Returns the names of the impls
 * taken out.
 */
export function dropPanicFormatting(bytes, { names, elements }, file) {
  if (names.size === 0) throw new Error(`optimize-wasm: ${file} has no function names (was it optimized already?)`);
  if (elements === null) return [];
  const reader = new Reader(bytes, elements);
  if (reader.u32() !== 1 || reader.u32() !== 0) {
    throw new Error(`optimize-wasm: ${file}: expected one active element segment of function indices (wasm-bindgen's layout)`);
  }
  while (bytes[reader.at] !== 0x0b) reader.at++; // its offset expression: i32.const N, end
  reader.at++;
  const dropped = [];
  let first = null;
  for (let count = reader.u32(); count > 0; count--) {
    const start = reader.at;
    const index = reader.u32();
    first ??= index;
    if (!FORMATTING.test(names.get(index) ?? '')) continue;
    const width = reader.at - start;
    for (let i = 0, rest = first; i < width; i++, rest >>>= 7) bytes[start + i] = (rest & 0x7f) | (i < width - 1 ? 0x80 : 0);
    dropped.push(names.get(index));
  }
  return dropped;
}

/**
 * A Rust source path as a panic location holds it: the crate's own (`src/…`), a dependency's
 * (`<crate>-<version>/src/…`, as the build's --remap-path-prefix writes them) or the standard
 * library's (`/rustc/<commit>/library/…`). Preceded by a byte that cannot be part of a path.
 */
const SOURCE_PATH = /(?<![\w./-])(?:\/rustc\/[0-9a-f]{40}\/library\/|[a-z][\w-]*-\d+\.\d+\.\d+\/src\/|src\/)[\w/.-]+\.rs/g;

/** Zeroes the panic locations' source paths in the data section (from the module's `layout`), in place; returns how many. */
export function dropPanicLocations(bytes, { data }, file) {
  if (data === null) throw new Error(`optimize-wasm: ${file} has no data section`);
  const text = bytes.subarray(data.start, data.end).toString('latin1');
  let count = 0;
  for (const path of text.matchAll(SOURCE_PATH)) {
    bytes.fill(0, data.start + path.index, data.start + path.index + path[0].length);
    count++;
  }
  if (count === 0) throw new Error(`optimize-wasm: ${file}: no panic location paths found (has rustc's layout changed?)`);
  return count;
}

/** Optimizes `wasmPath` (wasm-bindgen's output, names kept) in place; returns the impls dropped. */
export async function optimizeWasm(wasmPath) {
  const bytes = fs.readFileSync(wasmPath);
  // Both edit in place without moving anything, so the one layout serves both.
  const shape = layout(bytes);
  const dropped = dropPanicFormatting(bytes, shape, wasmPath);
  dropPanicLocations(bytes, shape, wasmPath);
  const unoptimized = `${wasmPath}.unoptimized`;
  fs.writeFileSync(unoptimized, bytes);
  try {
    await capture(WASM_OPT, [unoptimized, ...FEATURES, ...PASSES, '-o', wasmPath]);
  } finally {
    fs.rmSync(unoptimized, { force: true });
  }
  return dropped;
}
