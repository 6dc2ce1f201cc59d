#!/usr/bin/env node
// node scripts/test-runtimes.mjs   (after npm run build)
// The package in the runtimes beside Node and browsers, each importing it by name from the
// npm-packed tarball installed in a scratch project, so each picks its entry through
// package.json's `exports`:
//   deno, bun  tests/runtimes/main.mjs: the public-API suite (tests/runtimes/suite.mjs, node
//              flavour: the `deno`/`bun` exports, Buffers, Node streams, files, sidecar)
//   also       main.mjs under the oldest Deno and Bun the README names and under Node 22
//              (scripts/other-runtimes.mjs; the whole Node suite runs under the test runner's
//              Node, Node 18 and Node 24), and its web flavour with the browser build
//              (js/web) under Bun (JavaScriptCore, Safari's engine) and Deno (with and
//              without --location)
//   workerd    tests/runtimes/worker.mjs, bundled as wrangler bundles a Worker (esbuild with
//              the workerd/worker/browser conditions, the .wasm kept as a module) and served
//              by workerd: the suite again, web flavour, inside the Worker
// (The package's TypeScript types are checked by scripts/test-types.mjs, the `types` stage.)
// Exports run(env) for scripts/test.mjs; `env` names the test servers.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, log, run as runCommand } from './lib.mjs';
import { OUTPUT, scratchWithPackage, standalone, tally } from './stages.mjs';
import { getFreePort } from '../tests/support/servers.mjs';
import { MIDDLE_NODES, OLDEST_BUN, OLDEST_DENO, nodeBinary, runtimeBinary } from './other-runtimes.mjs';

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
  const denoArgs = ['run', '--no-code-cache', '--allow-all', 'main.mjs'];
  const main = (name, command, args, vars = childEnv) =>
    fs.existsSync(command) ? suiteProcess(name, command, args, { cwd: project, env: vars }) : { name, problem: `${command} not found (run scripts/setup.sh)` };
  suites.push(await main('deno (js/node via the deno export)', BIN('deno'), denoArgs));
  suites.push(await main(`deno ${OLDEST_DENO}, the oldest supported`, runtimeBinary('deno', OLDEST_DENO), denoArgs));
  suites.push(await main('bun (js/node via the bun export)', BIN('bun'), ['main.mjs']));
  suites.push(await main(`bun ${OLDEST_BUN}, the oldest supported`, runtimeBinary('bun', OLDEST_BUN), ['main.mjs']));
  // The browser build on JavaScriptCore, the engine of Safari, which no machine here has.
  const webEnv = { ...childEnv, SUITE_ENV: JSON.stringify({ ...suiteEnv, flavour: 'web' }) };
  suites.push(await main('bun, the browser build (js/web) on JavaScriptCore', BIN('bun'), ['main.mjs'], webEnv));
  suites.push(await main('deno, the browser build (js/web)', BIN('deno'), denoArgs, webEnv));
  // Again with --location, as a Deno app serving pages may run: Deno then has a `location`,
  // and still no CORS.
  const denoWithLocation = ['run', '--location=http://localhost/', ...denoArgs.slice(1)];
  suites.push(await main('deno --location, the browser build (js/web)', BIN('deno'), denoWithLocation, webEnv));
  for (const version of MIDDLE_NODES) suites.push(await main(`node ${version} (js/node via the node export)`, nodeBinary(version), ['main.mjs']));
  try {
    suites.push(await workerdSuite(project, env, suiteEnv));
  } catch (error) {
    suites.push({ name: 'workerd (Worker, js/workerd)', problem: error.message });
  }
  log('runtimes:');
  return tally(suites);
}

standalone(import.meta.url, run);
