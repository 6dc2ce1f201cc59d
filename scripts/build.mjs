#!/usr/bin/env node
// npm run build [-- --force]
// Runs setup (unless SKIP_SETUP=1), then
//   wasm-pack build --release --target nodejs --out-dir pkg/node --mode no-install
// with npm's wasm-opt (binaryen@132) first on PATH, shortens the names between the .wasm and
// its glue (scripts/minify-interface.mjs), and prints the sizes of the .wasm.
// Skipped when src/, Cargo.toml, Cargo.lock (and the command) are unchanged since the last
// successful build (stamp in .cache/), unless --force.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { buildWeb } from './build-web.mjs';
import { minifyInterface } from './minify-interface.mjs';
import { ROOT, kb, log, onInterrupt, removeWasmPackGitignores, run, runSetup } from './lib.mjs';

const OUT_DIR = 'pkg/node';
const WASM_PACK_ARGS = ['build', '--release', '--target', 'nodejs', '--out-dir', OUT_DIR, '--mode', 'no-install'];
const STAMP = path.join(ROOT, '.cache', 'build-node.stamp');

function listFiles(dir) {
  let out = [];
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function hashFiles(files) {
  const h = crypto.createHash('sha256');
  for (const f of files.sort()) {
    h.update(path.relative(ROOT, f));
    h.update('\0');
    try {
      h.update(fs.readFileSync(f));
    } catch {
      h.update('(missing)');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/** What the build depends on, in parts (so a build that only rewrote Cargo.lock still counts). */
function inputs() {
  const extra = ['build.rs', '.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain']
    .map((f) => path.join(ROOT, f))
    .filter((f) => fs.existsSync(f));
  return {
    src: hashFiles([...listFiles(path.join(ROOT, 'src')), ...extra]),
    manifest: hashFiles([path.join(ROOT, 'Cargo.toml')]),
    lock: hashFiles([path.join(ROOT, 'Cargo.lock')]),
    // The build's last step rewrites the .wasm and its glue: a change to it is a change of output.
    scripts: hashFiles([path.join(ROOT, 'scripts', 'minify-interface.mjs')]),
    command: JSON.stringify([WASM_PACK_ARGS, process.env.RUSTFLAGS ?? '', process.env.CARGO_PROFILE_RELEASE_OPT_LEVEL ?? '']),
  };
}

function outputsPresent() {
  return ['replit_object_storage_wasm_bg.wasm', 'replit_object_storage_wasm.js'].every((f) => fs.existsSync(path.join(ROOT, OUT_DIR, f)));
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return null;
  }
}

function printSizes() {
  const dir = path.join(ROOT, OUT_DIR);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.wasm') || f.endsWith('.js'));
  for (const f of files.sort()) {
    const bytes = fs.readFileSync(path.join(dir, f));
    const gz = zlib.gzipSync(bytes, { level: 9 }).length;
    log(`build: ${OUT_DIR}/${f}: ${kb(bytes.length)} raw, ${kb(gz)} gzip`);
  }
}

/** Builds pkg/node unless it is up to date, then pkg/web from it. Returns true when it built. */
export async function build({ force = false, setup = true } = {}) {
  if (setup) await runSetup();
  const before = inputs();
  const stamp = readStamp();
  const same = stamp && ['src', 'manifest', 'lock', 'scripts', 'command'].every((k) => stamp[k] === before[k]);
  if (!force && same && outputsPresent()) {
    log('build: up to date (no change in src/, Cargo.toml, Cargo.lock; --force to rebuild)');
    printSizes();
    await buildWeb(); // pkg/web, for browsers and Workers (skipped when the .wasm is unchanged)
    return false;
  }
  log(`build: wasm-pack ${WASM_PACK_ARGS.join(' ')}`);
  fs.rmSync(STAMP, { force: true });
  const t0 = Date.now();
  const { code, signal } = await run('wasm-pack', WASM_PACK_ARGS);
  if (code !== 0) throw new Error(`wasm-pack build failed (${code ?? signal})`);
  // wasm-pack writes a .gitignore of `*` into the out dir, which would keep it out of npm pack.
  removeWasmPackGitignores();
  await minifyInterface(path.join(ROOT, OUT_DIR, 'replit_object_storage_wasm_bg.wasm'), path.join(ROOT, OUT_DIR, 'replit_object_storage_wasm.js'));
  const after = inputs();
  if (after.src !== before.src || after.manifest !== before.manifest) {
    log('build: warning: sources changed during the build; not marking it up to date');
  } else {
    fs.mkdirSync(path.dirname(STAMP), { recursive: true });
    fs.writeFileSync(STAMP, `${JSON.stringify(after)}\n`);
  }
  log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  printSizes();
  await buildWeb();
  return true;
}

async function main() {
  const args = process.argv.slice(2);
  for (const a of args) {
    if (a !== '--force') {
      process.stderr.write(`build.mjs: unknown argument ${a} (usage: node scripts/build.mjs [--force])\n`);
      process.exit(2);
    }
  }
  onInterrupt(async () => {});
  try {
    await build({ force: args.includes('--force') });
  } catch (err) {
    process.stderr.write(`build: error: ${err.message}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
