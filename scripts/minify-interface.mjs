// Shortens the names the .wasm and its wasm-bindgen glue use to talk to each other.
// wasm-bindgen names each import after its Rust binding plus a 16-digit hash
// (`__wbg_abort_f8d1589eb0c65ee2`), in a module called "./replit_object_storage_wasm_bg.js",
// and some exports as long (`wasm_bindgen__convert__closures_____invoke__h070e…`). Every name
// is written twice, in the .wasm and in the glue, and gzip finds little to share in the
// hashes: about 4 KiB of a browser build, measured. binaryen's
// --minify-imports-and-exports-and-modules renames them in the .wasm and prints the map; the
// glue is rewritten with the same map, and checked to name every import and export the
// minified module has. Run on each wasm-pack output, so both targets still get one .wasm.

import fs from 'node:fs';
import { capture } from './lib.mjs';
import { FEATURES, WASM_OPT } from './optimize-wasm.mjs';

/**
 * Run in the same wasm-opt call: the producers and target-features sections are for linkers
 * and tools, not runtimes; and -Oz once more finds a little after optimize-wasm.mjs's run (together
 * -0.4 KiB gz, measured).
 */
const LAST_PASSES = ['--strip-producers', '--strip-target-features', '-Oz'];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces every match of `pattern` (a RegExp source, multi-line) and insists there was one. */
function replaceAll(text, pattern, replace, what) {
  let found = false;
  const out = text.replace(new RegExp(pattern, 'gm'), (...match) => {
    found = true;
    return replace(...match);
  });
  if (!found) throw new Error(`minify-interface: ${what} not found in the glue`);
  return out;
}

/** Minifies `wasmPath` in place and rewrites the glue at `gluePath` to match. */
export async function minifyInterface(wasmPath, gluePath) {
  const minified = `${wasmPath}.minified`;
  const printed = await capture(WASM_OPT, [wasmPath, ...FEATURES, ...LAST_PASSES, '--minify-imports-and-exports-and-modules', '-o', minified]);
  if (!printed.includes('{')) throw new Error(`minify-interface: wasm-opt printed no name map for ${wasmPath}`);
  const map = JSON.parse(printed.slice(printed.indexOf('{')));
  const module = new WebAssembly.Module(fs.readFileSync(minified));
  const [newModule, ...others] = [...new Set(WebAssembly.Module.imports(module).map((entry) => entry.module))];
  if (others.length) throw new Error(`minify-interface: expected one import module, got ${[newModule, ...others]}`);

  let glue = fs.readFileSync(gluePath, 'utf8');
  for (const oldModule of new Set(map.imports.map(([oldModule]) => oldModule))) {
    glue = replaceAll(glue, `"${escape(oldModule)}":`, () => `"${newModule}":`, `import module ${oldModule}`);
  }
  // The import object's keys, one per line: `    __wbg_abort_f8d1…: function(arg0) {`.
  for (const [, oldName, newName] of map.imports) {
    glue = replaceAll(glue, `^(\\s+)${escape(oldName)}:`, (_, indent) => `${indent}"${newName}":`, `import ${oldName}`);
  }
  // Reads of the instance's exports (a few, such as `__instance_terminated`, the glue never reads).
  for (const [oldName, newName] of map.exports) {
    glue = glue.replace(new RegExp(`\\bwasm\\.${escape(oldName)}\\b`, 'g'), () => `wasm["${newName}"]`);
  }
  // What the glue now says must be what the module has: every export it reads, every import.
  const unread = [...glue.matchAll(/\bwasm\.(\w+)/g)].map(([read]) => read);
  if (unread.length) throw new Error(`minify-interface: the glue reads exports the map lacks: ${unread}`);
  const exported = new Set(WebAssembly.Module.exports(module).map(({ name }) => name));
  const missing = [...glue.matchAll(/\bwasm\["([^"]+)"\]/g)].map(([, name]) => name).filter((name) => !exported.has(name));
  if (missing.length) throw new Error(`minify-interface: the glue reads exports the module lacks: ${missing}`);
  const keys = new Set([...glue.matchAll(/^\s+"([^"]+)":/gm)].map((match) => match[1]));
  const unnamed = WebAssembly.Module.imports(module).filter(({ name }) => !keys.has(name)).map(({ name }) => name);
  if (unnamed.length) throw new Error(`minify-interface: the glue lacks imports ${unnamed}`);
  fs.writeFileSync(gluePath, glue);
  fs.renameSync(minified, wasmPath);
}
