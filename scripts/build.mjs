#!/usr/bin/env node
// npm run build [-- --force]
// Runs setup (unless SKIP_SETUP=1; no browsers: only npm test's browsers stage needs them),
// then three builds, each `cargo build --lib --release --target wasm32-unknown-unknown` and
// the wasm-bindgen CLI on its .wasm (what wasm-pack build runs, with the same arguments and
// byte-for-byte the same output, without wasm-pack), followed by scripts/optimize-wasm.mjs
// (panic formatting taken out, then npm's wasm-opt) and scripts/minify-interface.mjs (shorter
// names between the .wasm and its glue):
//   pkg/node     --target nodejs, default features (`server`): Node, Deno and Bun
//   pkg/workerd  --target web, default features: Cloudflare Workers. Its .wasm must be
//                byte-for-byte pkg/node's (checked), so it is not kept: js/workerd imports
//                pkg/node's, and only the ESM glue ships from here
//   pkg/web      --target web, --no-default-features (no server-only code: access policies,
//                signed URLs, serving, Replit's environment): browsers and bundlers, the
//                .wasm inlined by scripts/build-web.mjs (zopfli gzip, base64)
// The browser build compiles in target/browser, so switching feature sets does not make cargo
// rebuild the other one each time. A build is skipped when its inputs (src/, Cargo.toml,
// Cargo.lock, the scripts that rewrite its output, its commands; for pkg/workerd also
// pkg/node's .wasm) are unchanged since its last success (stamps in .cache/), unless --force.
// Then the CommonJS copies of js/shared's modules for the Node entry (pkg/node/errors.cjs
// and client-base.cjs, scripts/build-shared.mjs), written every time.
// Last, `npm pack --dry-run` must hold every file the package's entries load (lib.mjs).
//
// npm run demo calls build({ nodeOnly: true }): pkg/node alone and without the wasm-opt steps
// (they take half a minute and need npm's binaryen, which a fresh machine would install
// first), so the demo runs wasm-bindgen's output as it is. Its stamp says so, and a later
// full build makes pkg/node again; the demo takes a full build's pkg/node as up to date.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { emitCommonJsCopies } from './build-shared.mjs';
import { GLUE, INLINE, MODULE_TYPE, WASM, checkBrowserFeatures, finishWebGlue, inlineWasm } from './build-web.mjs';
import { minifyInterface } from './minify-interface.mjs';
import { optimizeWasm } from './optimize-wasm.mjs';
import { ROOT, checkPack, kb, log, onInterrupt, removeWasmPackGitignores, run, runSetup, toolEnv } from './lib.mjs';

const script = (name) => path.join(ROOT, 'scripts', name);

/**
 * The builds, in order (pkg/workerd is checked against pkg/node's .wasm). `keep`: the files
 * the entries load, whose absence means the build must run again.
 */
export const TARGETS = [
  { name: 'node', target: 'nodejs', keep: [GLUE, WASM], scripts: ['optimize-wasm.mjs', 'minify-interface.mjs'] },
  { name: 'workerd', target: 'web', keep: [GLUE, MODULE_TYPE], scripts: ['optimize-wasm.mjs', 'minify-interface.mjs', 'build-web.mjs'], sameWasmAs: 'node' },
  {
    name: 'web',
    target: 'web',
    keep: [GLUE, MODULE_TYPE, WASM, INLINE],
    scripts: ['optimize-wasm.mjs', 'minify-interface.mjs', 'build-web.mjs'],
    cargo: ['--no-default-features'],
    targetDir: path.join(ROOT, 'target', 'browser'),
  },
];

const outDir = (target) => `pkg/${target.name}`;
const WASM_TARGET = 'wasm32-unknown-unknown';
const cargoArgs = (target) => ['build', '--lib', '--release', '--target', WASM_TARGET, ...(target.cargo ?? [])];
/** Where cargo puts the target's build: its own dir, else CARGO_TARGET_DIR, else target/. */
const cargoTargetDir = (target) => target.targetDir ?? path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
/** What cargo writes: the crate's name with `_` for `-`, in the release profile. */
const cargoWasm = (target) => path.join(cargoTargetDir(target), WASM_TARGET, 'release', WASM.replace(/_bg\.wasm$/, '.wasm'));
/** wasm-pack build's wasm-bindgen arguments for a release build (its defaults: TypeScript on). */
const bindgenArgs = (target) => [path.relative(ROOT, cargoWasm(target)), '--out-dir', outDir(target), '--typescript', '--target', target.target];
const stampPath = (target) => path.join(ROOT, '.cache', `build-${target.name}.stamp`);
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

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

/** What a build depends on, in parts (so a build that only rewrote Cargo.lock still counts). */
function inputs(target) {
  const extra = ['build.rs', '.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain']
    .map((f) => path.join(ROOT, f))
    .filter((f) => fs.existsSync(f));
  const same = target.sameWasmAs && path.join(ROOT, 'pkg', target.sameWasmAs, WASM);
  return {
    src: hashFiles([...listFiles(path.join(ROOT, 'src')), ...extra]),
    manifest: hashFiles([path.join(ROOT, 'Cargo.toml')]),
    lock: hashFiles([path.join(ROOT, 'Cargo.lock')]),
    // The build's last steps rewrite the .wasm and its glue: a change to them is a change of output.
    scripts: hashFiles(target.scripts.map(script)),
    command: JSON.stringify([cargoArgs(target), bindgenArgs(target), rustflags(toolEnv()), process.env.CARGO_PROFILE_RELEASE_OPT_LEVEL ?? '']),
    sameWasm: same && fs.existsSync(same) ? sha256(fs.readFileSync(same)) : '',
  };
}

function outputsPresent(target) {
  return target.keep.every((f) => fs.existsSync(path.join(ROOT, outDir(target), f)));
}

function readStamp(target) {
  try {
    return JSON.parse(fs.readFileSync(stampPath(target), 'utf8'));
  } catch {
    return null;
  }
}

function printSizes(target) {
  const dir = path.join(ROOT, outDir(target));
  for (const f of target.keep.filter((name) => name === WASM || name === GLUE)) {
    const bytes = fs.readFileSync(path.join(dir, f));
    const gz = zlib.gzipSync(bytes, { level: 9 }).length;
    log(`build: ${outDir(target)}/${f}: ${kb(bytes.length)} raw, ${kb(gz)} gzip`);
  }
}

/**
 * The caller's rustflags, and crates' source paths made the same on every machine: a .wasm
 * keeps the paths of the files its panics could come from (their messages are taken out, their
 * locations stay), and crates.io sources become `<crate>-<version>/...` instead of paths under
 * the builder's cargo home. So the .wasm does not depend on where it was built, and the
 * browser's is ~30 bytes smaller gzipped. (The standard library's are `/rustc/<commit>/...`
 * already.)
 */
function rustflags(env) {
  const given = env.CARGO_ENCODED_RUSTFLAGS
    ? env.CARGO_ENCODED_RUSTFLAGS.split('\x1f')
    : (env.RUSTFLAGS ?? '').split(/\s+/).filter(Boolean);
  return [...given, ...registrySources(env).map((index) => `--remap-path-prefix=${index}/=`)];
}

/** The folders cargo unpacks crates.io's crates into, one per registry index. */
function registrySources(env) {
  const registry = path.join(env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'registry', 'src');
  return fs.existsSync(registry) ? fs.readdirSync(registry).map((index) => path.join(registry, index)) : [];
}

/**
 * Builds one target: cargo, wasm-bindgen and, when `optimize`, the wasm-opt steps; throws on
 * any failed check.
 */
async function buildTarget(target, { optimize }) {
  const dir = path.join(ROOT, outDir(target));
  const env = target.targetDir ? toolEnv({ CARGO_TARGET_DIR: target.targetDir }) : toolEnv();
  log(`build: cargo ${cargoArgs(target).join(' ')}${target.targetDir ? ` (CARGO_TARGET_DIR=${path.relative(ROOT, target.targetDir)})` : ''}`);
  const cargo = await run('cargo', cargoArgs(target), { env: { ...env, CARGO_ENCODED_RUSTFLAGS: rustflags(env).join('\x1f') } });
  if (cargo.code !== 0) throw new Error(`cargo build for ${outDir(target)} failed (${cargo.code ?? cargo.signal})`);
  log(`build: wasm-bindgen ${bindgenArgs(target).join(' ')}`);
  const bindgen = await run('wasm-bindgen', bindgenArgs(target), { env });
  if (bindgen.code !== 0) throw new Error(`wasm-bindgen for ${outDir(target)} failed (${bindgen.code ?? bindgen.signal})`);
  // A pkg/ dir made by an earlier wasm-pack build holds a .gitignore of `*`, which would keep it out of npm pack.
  removeWasmPackGitignores();
  if (optimize) {
    const dropped = await optimizeWasm(path.join(dir, WASM));
    log(`build: ${outDir(target)}: panic formatting taken out (${dropped.length} core::fmt impls), wasm-opt done`);
    await minifyInterface(path.join(dir, WASM), path.join(dir, GLUE));
  } else {
    log(`build: ${outDir(target)}: wasm-opt steps left out (the demo's build)`);
  }
  if (target.target === 'web') finishWebGlue(dir);
  if (target.sameWasmAs) {
    const other = `pkg/${target.sameWasmAs}/${WASM}`;
    if (!fs.readFileSync(path.join(dir, WASM)).equals(fs.readFileSync(path.join(ROOT, other)))) {
      throw new Error(
        `${outDir(target)}/${WASM} differs from ${other}: the two targets no longer share one .wasm ` +
          '(were they built from different sources or flags? run `npm run build -- --force`)',
      );
    }
    fs.rmSync(path.join(dir, WASM)); // one copy ships: the entry imports the other target's
  }
  if (target.keep.includes(INLINE)) {
    await checkBrowserFeatures(dir);
    await inlineWasm(dir);
  }
}

/**
 * Builds every target that is not up to date. Returns true when any was built. `nodeOnly`:
 * npm run demo's build, pkg/node alone without the wasm-opt steps (see the top).
 */
export async function build({ force = false, setup = true, nodeOnly = false } = {}) {
  if (setup) await runSetup({ browsers: false });
  const optimize = !nodeOnly;
  // On a machine that never built a crate, fetch them first: their paths go in the flags.
  if (registrySources(toolEnv()).length === 0 && (await run('cargo', ['fetch'], { env: toolEnv() })).code !== 0) {
    throw new Error('cargo fetch failed');
  }
  let built = false;
  for (const target of nodeOnly ? TARGETS.filter((t) => t.name === 'node') : TARGETS) {
    const before = inputs(target);
    const stamp = readStamp(target);
    const same = stamp && Object.keys(before).every((k) => stamp[k] === before[k]);
    const optimizedEnough = stamp?.optimized || !optimize;
    if (!force && same && optimizedEnough && outputsPresent(target)) {
      log(`build: ${outDir(target)} up to date (no change in its inputs; --force to rebuild)`);
    } else {
      fs.rmSync(stampPath(target), { force: true });
      const t0 = Date.now();
      await buildTarget(target, { optimize });
      const after = inputs(target);
      if (after.src !== before.src || after.manifest !== before.manifest) {
        log(`build: warning: sources changed during the build of ${outDir(target)}; not marking it up to date`);
      } else {
        fs.mkdirSync(path.dirname(stampPath(target)), { recursive: true });
        fs.writeFileSync(stampPath(target), `${JSON.stringify({ ...after, optimized: optimize })}\n`);
      }
      log(`build: ${outDir(target)} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      built = true;
    }
    printSizes(target);
  }
  emitCommonJsCopies();
  await checkPack({ nodeOnly });
  return built;
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
