// Shared helpers of scripts/build.mjs, scripts/test.mjs and scripts/demo.mjs (node: built-ins only).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `cargo test` arguments for the wasm test runs: wasm-bindgen-test links std, so the crate is
 * built with its `std` feature there (no own panic handler or allocator; see Cargo.toml).
 */
export const WASM_TEST_FEATURES = ['--features', 'std'];

/** The environment every child gets: npm's wasm-opt and cargo-installed tools first on PATH. */
export function toolEnv(extra = {}) {
  const cargoBin = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin');
  const parts = [path.join(ROOT, 'node_modules', '.bin'), cargoBin, ...(process.env.PATH || '').split(path.delimiter)];
  const PATH = [...new Set(parts.filter(Boolean))].join(path.delimiter);
  return { ...process.env, PATH, ...extra };
}

export function log(line) {
  process.stdout.write(`${line}\n`);
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
export const stripAnsi = (s) => s.replace(ANSI, '');

const children = new Set();

/**
 * Runs a command in its own process group, streaming its output to ours. `onLine` gets
 * every line of stdout and stderr (ANSI codes removed). Resolves { code, signal }.
 */
export function run(cmd, args, { cwd = ROOT, env = toolEnv(), onLine, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    children.add(child);
    const pump = (stream, out) => {
      let partial = '';
      stream.on('data', (chunk) => {
        if (!quiet) out.write(chunk);
        if (!onLine) return;
        const text = partial + chunk.toString('utf8');
        const lines = text.split(/\r?\n/);
        partial = lines.pop();
        for (const line of lines) onLine(stripAnsi(line));
      });
      stream.on('end', () => {
        if (onLine && partial) onLine(stripAnsi(partial));
        partial = '';
      });
    };
    pump(child.stdout, process.stdout);
    pump(child.stderr, process.stderr);
    child.on('error', (err) => {
      children.delete(child);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
}

/** Runs a command and returns its stdout (stderr streams through); throws on failure. */
export function capture(cmd, args, { cwd = ROOT, env = toolEnv() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.on('error', (err) => {
      children.delete(child);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      const out = Buffer.concat(chunks).toString('utf8');
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal})`));
    });
  });
}

/** Sends `signal` to every running child's process group (only the ones started here). */
export function killChildren(signal = 'SIGTERM') {
  for (const child of children) {
    try {
      if (process.platform !== 'win32') process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {}
  }
}

/** Set when a SIGINT/SIGTERM/SIGHUP arrived: { signal, exitCode }. */
export const interruption = { signal: null, exitCode: 0 };

/**
 * On SIGINT/SIGTERM/SIGHUP: records it in `interruption` and stops the children (their process
 * groups). After `graceMs` (0: at once) awaits `cleanup` and exits 130/143/129; within the
 * grace period the caller may finish on its own (report, clean up, exit). A second signal
 * kills the children outright.
 */
export function onInterrupt(cleanup, { graceMs = 0 } = {}) {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  const handler = async (signal) => {
    if (interruption.signal) {
      killChildren('SIGKILL');
      return;
    }
    interruption.signal = signal;
    interruption.exitCode = codes[signal] ?? 1;
    process.stderr.write(`\n${signal}: stopping...\n`);
    killChildren('SIGTERM');
    setTimeout(() => killChildren('SIGKILL'), 5000).unref();
    if (graceMs) await new Promise((r) => setTimeout(r, graceMs).unref());
    try {
      await cleanup();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${err.message}\n`);
    }
    process.exit(interruption.exitCode);
  };
  for (const s of Object.keys(codes)) process.on(s, handler);
  return () => {
    for (const s of Object.keys(codes)) process.removeListener(s, handler);
  };
}

/**
 * Runs scripts/setup.sh unless SKIP_SETUP=1; throws when it fails. `browsers`: also install
 * Chromium, Firefox and their drivers (only the browsers stage of npm test needs them;
 * SETUP_BROWSERS=0/1 still overrides). `demo`: only what npm run demo needs (setup.sh --demo).
 */
export async function runSetup({ browsers = true, demo = false } = {}) {
  if (process.env.SKIP_SETUP === '1') {
    log('setup: skipped (SKIP_SETUP=1)');
    return;
  }
  const mode = demo ? '--demo' : browsers ? '--browsers' : '--no-browsers';
  const { code, signal } = await run('bash', [path.join(ROOT, 'scripts', 'setup.sh'), mode]);
  if (code !== 0) throw new Error(`scripts/setup.sh failed (${code ?? signal})`);
}

/** Deletes the `.gitignore` (`*`) wasm-pack writes into every out dir: npm pack obeys it. */
export function removeWasmPackGitignores() {
  let dirs = [];
  try {
    dirs = fs.readdirSync(path.join(ROOT, 'pkg'), { withFileTypes: true }).filter((e) => e.isDirectory());
  } catch {
    return;
  }
  for (const d of dirs) {
    const f = path.join(ROOT, 'pkg', d.name, '.gitignore');
    try {
      if (fs.readFileSync(f, 'utf8').trim() === '*') fs.rmSync(f);
    } catch {}
  }
}

/**
 * Every string in package.json's `main`, `types` and `exports` (the entries and their types).
 * `nodeOnly`: only Node's entry (`main`, `types`, `.` under the `node` condition, and `./node`),
 * for a package of pkg/node alone (npm run demo).
 */
function entryPoints(manifest, { nodeOnly = false } = {}) {
  const out = [];
  const walk = (value) => {
    if (typeof value === 'string') out.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  const exports = nodeOnly ? [manifest.exports['.'].node, manifest.exports['./node']] : manifest.exports;
  walk([manifest.main, manifest.types, exports]);
  return out.filter((entry) => entry.startsWith('./')).map((entry) => path.normalize(entry.slice(2)));
}

/**
 * The relative files a module loads: static and dynamic imports, `export … from`, `require`,
 * and a `.wasm` named in a string beside it (how wasm-bindgen's glue finds its module). In a
 * declaration file, `x.js` means `x.d.ts`.
 */
function referencedFiles(file) {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const dir = path.dirname(file);
  const specifiers = [
    ...[...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]),
    ...[...text.matchAll(/\brequire\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/['"`]([\w.-]+\.wasm)['"`]/g)].map((m) => m[1]),
  ];
  const files = specifiers.map((specifier) => {
    const target = path.normalize(path.join(dir, specifier));
    const declared = target.replace(/\.(m?)js$/, '.d.$1ts');
    return /\.d\.[cm]?ts$/.test(file) && !fs.existsSync(path.join(ROOT, target)) && fs.existsSync(path.join(ROOT, declared)) ? declared : target;
  });
  // An ES module in a `.js` file is one only where a package.json beside it says so (the
  // root's does not): Node before 20.19 reads it as CommonJS otherwise.
  if (file.endsWith('.js') && /^(import|export)\s/m.test(text)) files.push(path.join(dir, 'package.json'));
  return files;
}

/**
 * The files the package's entries need, found by following every entry of package.json
 * (code and types) through what each file loads, so a new file an entry imports cannot be
 * left out of the tarball unnoticed. Run after a build (the glue files are read too).
 * `nodeOnly`: Node's entry only (see entryPoints).
 */
export function filesEntriesNeed({ nodeOnly = false } = {}) {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const needed = new Set();
  const pending = entryPoints(manifest, { nodeOnly });
  while (pending.length) {
    const file = pending.pop();
    if (needed.has(file)) continue;
    needed.add(file);
    if (/\.(m|c)?(j|t)s$/.test(file) && fs.existsSync(path.join(ROOT, file))) pending.push(...referencedFiles(file));
  }
  return [...needed].sort();
}

/** The files the entries need that `files` (the list `npm pack` gives) lacks, or are not built. */
export function missingFromPack(files, { nodeOnly = false } = {}) {
  return filesEntriesNeed({ nodeOnly }).filter((file) => !files.has(file) || !fs.existsSync(path.join(ROOT, file)));
}

/** `npm pack --dry-run`: throws when the tarball would lack a file an entry loads. */
export async function checkPack({ nodeOnly = false } = {}) {
  removeWasmPackGitignores();
  const out = await capture('npm', ['pack', '--dry-run', '--json', '--loglevel=error']);
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const missing = missingFromPack(new Set(info.files.map((f) => f.path)), { nodeOnly });
  if (missing.length) throw new Error(`npm pack would leave out ${missing.join(', ')}, which the entries load: add them to package.json's files`);
  const which = nodeOnly ? 'Node entry loads' : 'entries load';
  log(`pack: the tarball holds every file the ${which} (${filesEntriesNeed({ nodeOnly }).length} files; ${info.entryCount} in all)`);
}

/**
 * `npm pack`s the repo into `destDir` (emptied first) and returns the tarball's path.
 * wasm-pack writes pkg/node/.gitignore (`*`), which would keep the build out of the tarball.
 * `nodeOnly`: the tarball need only hold what Node's entry loads (npm run demo's build).
 */
export async function packInto(destDir, { nodeOnly = false } = {}) {
  removeWasmPackGitignores();
  fs.rmSync(destDir, { recursive: true, force: true });
  fs.mkdirSync(destDir, { recursive: true });
  const out = await capture('npm', ['pack', '--json', '--pack-destination', destDir, '--loglevel=error']);
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const files = new Set(info.files.map((f) => f.path));
  const missing = missingFromPack(files, { nodeOnly });
  if (missing.length) throw new Error(`npm pack left out ${missing.join(', ')}, which the entries load: run \`npm run build\` first, or add them to package.json's files`);
  const tarball = path.join(destDir, info.filename);
  log(`pack: ${path.relative(ROOT, tarball)} (${info.entryCount} files, ${kb(info.size)} packed, ${kb(info.unpackedSize)} unpacked)`);
  return tarball;
}

/** A scratch project in `dir` (type: module) with the tarball installed offline. */
export async function makeScratchProject(dir, tarball) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'scratch', private: true, version: '0.0.0', type: 'module' }, null, 2)}\n`,
  );
  const { code, signal } = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir });
  if (code !== 0) throw new Error(`npm install of ${path.basename(tarball)} failed (${code ?? signal})`);
  log(`scratch project: ${path.relative(ROOT, dir)} (package installed)`);
}

export function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
