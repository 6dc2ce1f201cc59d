#!/usr/bin/env node
// npm run build [-- --force]
// Runs setup (unless SKIP_SETUP=1; no browsers: only npm test's browsers stage needs them),
// then three wasm-pack builds (--release, --mode no-install; wasm-pack's own wasm-opt run is off
// in Cargo.toml), each followed by scripts/optimize-wasm.mjs (panic formatting taken out, then
// npm's wasm-opt) and scripts/minify-interface.mjs (shorter names between the .wasm and its glue):
//   pkg/node     --target nodejs, default features (`server`): Node, Deno and Bun
//   pkg/workerd  --target web, default features: Cloudflare Workers. Its .wasm must be
//                byte-for-byte pkg/node's (checked), so it is not kept: js/workerd imports
//                pkg/node's, and only the ESM glue ships from here
//   pkg/web      --target web, --no-default-features (no server-only code: access policies,
//                signed URLs, serving, Replit's environment): browsers and bundlers, the
//                .wasm inlined by scripts/build-web.mjs (zopfli gzip, base64)
// The browser build compiles in target/browser, so switching feature sets does not make cargo
// rebuild the other one each time. A build is skipped when its inputs (src/, Cargo.toml,
// Cargo.lock, the scripts that rewrite its output, its command; for pkg/workerd also
// pkg/node's .wasm) are unchanged since its last success (stamps in .cache/), unless --force.
// Then pkg/node/errors.cjs, the CommonJS copy of js/shared/errors.mjs for the Node
// entry (scripts/build-shared.mjs), written every time.
// Last, `npm pack --dry-run` must hold every file the package's entries load (lib.mjs).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { emitCommonJsCopies } from './build-shared.mjs';
import { GLUE, INLINE, WASM, finishWebGlue, inlineWasm } from './build-web.mjs';
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
  { name: 'workerd', target: 'web', keep: [GLUE], scripts: ['optimize-wasm.mjs', 'minify-interface.mjs', 'build-web.mjs'], sameWasmAs: 'node' },
  {
    name: 'web',
    target: 'web',
    keep: [GLUE, WASM, INLINE],
    scripts: ['optimize-wasm.mjs', 'minify-interface.mjs', 'build-web.mjs'],
    cargo: ['--no-default-features'],
    targetDir: path.join(ROOT, 'target', 'browser'),
  },
];

const outDir = (target) => `pkg/${target.name}`;
const argsOf = (target) => [
  'build', '--release', '--target', target.target, '--out-dir', outDir(target), '--mode', 'no-install',
  ...(target.cargo ? ['--', ...target.cargo] : []),
];
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
    command: JSON.stringify([argsOf(target), process.env.RUSTFLAGS ?? '', process.env.CARGO_PROFILE_RELEASE_OPT_LEVEL ?? '']),
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

/** Runs wasm-pack for one target and rewrites its output; throws on any failed check. */
async function buildTarget(target) {
  const dir = path.join(ROOT, outDir(target));
  const env = target.targetDir ? toolEnv({ CARGO_TARGET_DIR: target.targetDir }) : toolEnv();
  log(`build: wasm-pack ${argsOf(target).join(' ')}${target.targetDir ? ` (CARGO_TARGET_DIR=${path.relative(ROOT, target.targetDir)})` : ''}`);
  const { code, signal } = await run('wasm-pack', argsOf(target), { env });
  if (code !== 0) throw new Error(`wasm-pack build of ${outDir(target)} failed (${code ?? signal})`);
  // wasm-pack writes a .gitignore of `*` into the out dir, which would keep it out of npm pack.
  removeWasmPackGitignores();
  const dropped = await optimizeWasm(path.join(dir, WASM));
  log(`build: ${outDir(target)}: panic formatting taken out (${dropped.length} core::fmt impls), wasm-opt done`);
  await minifyInterface(path.join(dir, WASM), path.join(dir, GLUE));
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
  if (target.keep.includes(INLINE)) await inlineWasm(dir);
}

/** Builds every target that is not up to date. Returns true when any was built. */
export async function build({ force = false, setup = true } = {}) {
  if (setup) await runSetup({ browsers: false });
  let built = false;
  for (const target of TARGETS) {
    const before = inputs(target);
    const stamp = readStamp(target);
    const same = stamp && Object.keys(before).every((k) => stamp[k] === before[k]);
    if (!force && same && outputsPresent(target)) {
      log(`build: ${outDir(target)} up to date (no change in its inputs; --force to rebuild)`);
    } else {
      fs.rmSync(stampPath(target), { force: true });
      const t0 = Date.now();
      await buildTarget(target);
      const after = inputs(target);
      if (after.src !== before.src || after.manifest !== before.manifest) {
        log(`build: warning: sources changed during the build of ${outDir(target)}; not marking it up to date`);
      } else {
        fs.mkdirSync(path.dirname(stampPath(target)), { recursive: true });
        fs.writeFileSync(stampPath(target), `${JSON.stringify(after)}\n`);
      }
      log(`build: ${outDir(target)} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      built = true;
    }
    printSizes(target);
  }
  emitCommonJsCopies();
  await checkPack();
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
