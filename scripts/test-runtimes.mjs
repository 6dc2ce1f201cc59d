#!/usr/bin/env node
// node scripts/test-runtimes.mjs   (after npm run build)
// The package in the runtimes beside Node and browsers, each importing it by name from the
// npm-packed tarball installed in a scratch project, so each picks its entry through
// package.json's `exports`:
//   deno, bun  tests/runtimes/main.mjs: the public-API suite (tests/runtimes/suite.mjs, node
//              flavour: the `deno`/`bun` exports, Buffers, Node streams, files, sidecar)
//   workerd    tests/runtimes/worker.mjs, bundled as wrangler bundles a Worker (esbuild with
//              the workerd/worker/browser conditions, the .wasm kept as a module) and served
//              by workerd: the suite again, web flavour, inside the Worker
//   types      tsc over a browser, a Worker and a Node (ESM and CommonJS) project using the
//              package's types (browser and Worker projects have no @types/node)
// Exports run(env) for scripts/test.mjs; `env` names the test servers.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, log, run as runCommand } from './lib.mjs';
import { OUTPUT, scratchWithPackage, standalone, tally } from './stages.mjs';
import { getFreePort } from '../tests/support/servers.mjs';

const STAGE_DIR = path.join(OUTPUT, 'runtimes');
const SUITE_TIMEOUT_S = 300;
const BIN = (name) => path.join(ROOT, 'node_modules', '.bin', name);

/** Runs a command under `timeout`, collecting the suite's `SUITE {...}` line. */
async function suiteProcess(name, command, args, { cwd, env }) {
  let summary = null;
  const exit = await runCommand('timeout', ['-k', '5', String(SUITE_TIMEOUT_S), command, ...args], {
    cwd,
    env,
    onLine(line) {
      const m = /^SUITE (\{.*\})$/.exec(line);
      if (m) summary = JSON.parse(m[1]);
    },
  });
  if (!summary) return { name, problem: `no SUITE line (exit ${exit.code ?? exit.signal}${exit.code === 124 ? ': timed out' : ''})` };
  const suite = { name, ...summary };
  if (exit.code !== 0 && suite.failed === 0) suite.problem = `exited with ${exit.code ?? exit.signal}`;
  return suite;
}

async function bundleWorker(project, outDir) {
  const esbuild = await import('esbuild');
  fs.rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: project,
    entryPoints: ['worker.mjs'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    outfile: path.join(outDir, 'worker.js'),
    logLevel: 'warning',
    plugins: [
      {
        // As wrangler does: a .wasm import stays an import, of a module uploaded beside the Worker.
        name: 'wasm-modules',
        setup(build) {
          build.onResolve({ filter: /\.wasm$/ }, (args) => {
            const file = path.resolve(args.resolveDir, args.path);
            fs.mkdirSync(outDir, { recursive: true });
            fs.copyFileSync(file, path.join(outDir, path.basename(file)));
            return { path: path.basename(file), external: true };
          });
        },
      },
    ],
  });
  return fs.readdirSync(outDir).filter((f) => f.endsWith('.wasm'));
}

const capnpString = (value) => JSON.stringify(value);

function workerdConfig({ port, wasmModules, suiteEnv }) {
  const modules = [
    '(name = "worker.js", esModule = embed "worker.js")',
    ...wasmModules.map((f) => `(name = ${capnpString(f)}, wasm = embed ${capnpString(f)})`),
  ];
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .suiteWorker),
    # The test servers listen on 127.0.0.1, which the default "internet" service refuses.
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const suiteWorker :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')}
  ],
  compatibilityDate = "2025-09-01",
  bindings = [ (name = "SUITE_ENV", text = ${capnpString(JSON.stringify(suiteEnv))}) ],
  globalOutbound = "loopback",
);
`;
}

async function workerdSuite(project, env, suiteEnv) {
  const name = 'workerd (Worker, js/workerd)';
  const outDir = path.join(STAGE_DIR, 'worker');
  fs.copyFileSync(path.join(ROOT, 'tests', 'runtimes', 'worker.mjs'), path.join(project, 'worker.mjs'));
  const wasmModules = await bundleWorker(project, outDir);
  if (wasmModules.length !== 1) return { name, problem: `the Worker bundle imports ${wasmModules.length} .wasm modules, expected 1` };
  const port = await getFreePort();
  fs.writeFileSync(path.join(outDir, 'config.capnp'), workerdConfig({ port, wasmModules, suiteEnv }));
  const logFile = path.join(outDir, 'workerd.log');
  const logFd = fs.openSync(logFile, 'w');
  const child = spawn(BIN('workerd'), ['serve', 'config.capnp'], { cwd: outDir, env, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    const deadline = Date.now() + SUITE_TIMEOUT_S * 1000;
    let answer;
    while (!answer && !exited && Date.now() < deadline) {
      try {
        answer = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(deadline - Date.now()) });
      } catch (error) {
        if (error.name === 'TimeoutError') break;
        await new Promise((r) => setTimeout(r, 100)); // not listening yet
      }
    }
    if (!answer) return { name, problem: `no answer from workerd (see ${path.relative(ROOT, logFile)})` };
    const outcome = await answer.json();
    for (const line of outcome.lines) log(`workerd: ${line}`);
    return { name, passed: outcome.passed, failed: outcome.failed };
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((r) => (exited ? r() : child.once('exit', r)));
    }
  }
}

const TYPES_USE = {
  web: `import { Client, StreamRequestError, downloadFromUrl, uploadToUrl, type RequestError } from 'replit-object-storage-wasm';
const client = new Client({ bucketId: 'b', accessToken: async () => 'token' });
export async function use(file: File): Promise<number> {
  const up = await client.uploadFromBytes(file.name, file);
  if (!up.ok) { const error: RequestError = up.error; return error.kind.length; }
  const bytes = await client.downloadAsBytes('x');
  const first: Uint8Array | undefined = bytes.ok ? bytes.value[0] : undefined;
  const stream: ReadableStream<Uint8Array> = client.downloadAsStream('x');
  await client.uploadFromStream('y', stream).catch((error: StreamRequestError) => error.getRequestError());
  return first?.length ?? 0;
}
export function handle(request: Request): Promise<Response> {
  // @ts-expect-error disposition is 'inline' or 'attachment'
  void client.serve('x', null, { disposition: 'download' });
  return client.serve(new URL(request.url).pathname.slice(1), request, { disposition: 'inline', cacheControl: 'no-store' });
}
const found = await client.findPublic('logo.png');
export const foundName: string | undefined = found.ok && found.value !== null ? found.value.objectName : undefined;
export async function viaSignedUrls(url: string, file: File, bar: { value: number }): Promise<Uint8Array | RequestError> {
  const sent = await uploadToUrl(url, file, { headers: { 'Content-Type': file.type }, onProgress: ({ loaded, total }) => { bar.value = total ? loaded / total : 0; } });
  if (!sent.ok) return sent.error;
  const back = await downloadFromUrl(url, { range: { suffix: 10 }, signal: AbortSignal.timeout(5000) });
  return back.ok ? back.value : back.error;
}
`,
  worker: `import { objectPaths, type ObjectPaths } from 'replit-object-storage-wasm';
export function paths(env: { PRIVATE_OBJECT_DIR?: string }): ObjectPaths | string {
  const result = objectPaths(env);
  return result.ok ? result.value : result.error.message;
}
`,
  browser: `// @ts-expect-error: objectPaths is in the server entries only (Node, Deno, Bun, Workers)
import { objectPaths } from 'replit-object-storage-wasm';
export const none: unknown = objectPaths;
`,
  nodeEsm: `import { Client, downloadFromUrl, objectPaths, uploadToUrl, type ErrorKind } from 'replit-object-storage-wasm';
const client = new Client();
const result = await client.downloadAsBytes('x');
export const kind: ErrorKind | undefined = result.ok ? undefined : result.error.kind;
export const buffer: Buffer | undefined = result.ok ? result.value[0] : undefined;
client.downloadAsStream('x').pipe(process.stdout);
import http from 'node:http';
http.createServer(async (req, res) => {
  const served = await client.serveTo(res, 'x', req, { filename: 'a.txt', signal: AbortSignal.timeout(1000) });
  const failed: ErrorKind | undefined = served.ok ? undefined : served.error.kind;
  const web: Response = await client.serve('x', { method: req.method, headers: req.headers });
  res.setHeader('x-kind', failed ?? web.status);
});
const paths = objectPaths();
export const privateBucket: string | undefined = paths.ok ? paths.value.privateDir.bucketId : undefined;
const found = await client.findPublic('logo.png');
export const foundIn: string | undefined = found.ok ? found.value?.bucketId : undefined;
const signed = await client.signUrl('x', { method: 'PUT', expiresIn: 60 });
export const put: { url: string; method: 'PUT'; expiresAt: Date } | undefined = signed.ok ? signed.value : undefined;
const upload = await client.createUploadUrl('x', { contentType: 'image/png' });
export const headers: Record<string, string> | undefined = upload.ok ? upload.value.headers : undefined;
if (upload.ok) await uploadToUrl(upload.value.url, Buffer.from('x'), { headers: upload.value.headers });
const fetched = await downloadFromUrl('https://example.com/o', { range: { start: 0, end: 9 } });
export const fetchedBuffer: Buffer | undefined = fetched.ok ? fetched.value : undefined;
`,
  nodeCjs: `import storage = require('replit-object-storage-wasm');
export const done: Promise<unknown> = new storage.Client().uploadFromFilename('a', 'b');
`,
};

/** tsc over projects of each kind; each project is one test. */
async function typesSuite(project) {
  const name = 'types (tsc: browser, Worker, Node ESM, Node CJS)';
  const tsc = BIN('tsc');
  if (!fs.existsSync(tsc)) return { name, problem: 'typescript is not installed (npm install)' };
  const base = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false };
  const nodeTypes = path.join(ROOT, 'node_modules', '@types', 'node');
  const kinds = [
    ['browser', { ...base, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] }, { 'app.ts': TYPES_USE.web, 'server-only.ts': TYPES_USE.browser }],
    ['worker', { ...base, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'webworker'], types: [], customConditions: ['workerd'] }, { 'app.ts': TYPES_USE.web, 'paths.ts': TYPES_USE.worker }],
    ['node', { ...base, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'], typeRoots: [path.dirname(nodeTypes)] }, { 'app.mts': TYPES_USE.nodeEsm, 'app.cts': TYPES_USE.nodeCjs }],
  ];
  let passed = 0;
  let failed = 0;
  for (const [kind, compilerOptions, files] of kinds) {
    const dir = path.join(project, `types-${kind}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }, null, 2));
    const { code } = await runCommand(tsc, ['-p', dir], { cwd: dir });
    log(`types: ${code === 0 ? 'ok' : 'not ok'} - ${kind}`);
    if (code === 0) passed++;
    else failed++;
  }
  return { name, passed, failed };
}

export async function run(env) {
  fs.mkdirSync(STAGE_DIR, { recursive: true });
  const { project } = await scratchWithPackage(path.join(STAGE_DIR, 'scratch'));
  for (const file of ['main.mjs', 'suite.mjs']) fs.copyFileSync(path.join(ROOT, 'tests', 'runtimes', file), path.join(project, file));
  const tmpDir = path.join(STAGE_DIR, 'files');
  fs.mkdirSync(tmpDir, { recursive: true });
  const suiteEnv = { apiEndpoint: env.GCS_EMULATOR_URL, gateUrl: env.GATE_URL, sidecarUrl: env.SIDECAR_URL, bucket: 'test-bucket' };
  const childEnv = { ...env, SUITE_ENV: JSON.stringify({ ...suiteEnv, tmpDir }), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const suites = [];
  // --no-code-cache: Deno's V8 code cache for the package's CommonJS files outlived a rebuild
  // that changed them in place (the next run failed with a SyntaxError in code that parses),
  // so each run compiles afresh, as on a clean machine.
  suites.push(await suiteProcess('deno (js/node via the deno export)', BIN('deno'), ['run', '--no-code-cache', '--allow-all', 'main.mjs'], { cwd: project, env: childEnv }));
  suites.push(await suiteProcess('bun (js/node via the bun export)', BIN('bun'), ['main.mjs'], { cwd: project, env: childEnv }));
  try {
    suites.push(await workerdSuite(project, env, suiteEnv));
  } catch (error) {
    suites.push({ name: 'workerd (Worker, js/workerd)', problem: error.message });
  }
  suites.push(await typesSuite(project));
  log('runtimes:');
  return tally(suites);
}

standalone(import.meta.url, run);
