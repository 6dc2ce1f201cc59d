#!/usr/bin/env node
// npm test [-- --only=cargo,wasm,node,oldest-node,newest-node,browsers,runtimes,types]
// Setup, build, then with the test servers running (tests/support/servers.mjs: emulator on
// 4443, sidecar stand-in on 1106, gate on 4480, or free ports when those are taken):
//   cargo   cargo test, then cargo test --lib --no-default-features (native; the browser
//           build's feature set, in target/browser)
//   wasm    wasm-pack test --node --mode no-install      (GCS_EMULATOR_URL, SIDECAR_URL and
//           GATE_URL are read at compile time with option_env!)
//   node    the Node suite (tests/node/**/*.test.{mjs,cjs}) against the npm-packed package,
//           installed into a scratch project in tests/node/.scratch/
//   oldest-node, newest-node  the Node suite again under Node 18 and under Node 24 (the
//           newest LTS line; scripts/other-runtimes.mjs), without the 1 GiB tests
//   browsers scripts/test-browsers.mjs: tests/emulator.rs under --headless --chrome and
//           --firefox, the public-API suite built by Vite, esbuild, Bun and webpack in Chromium
//           and Firefox, and examples/browser and examples/web-app driven in both (output in
//           test-output/browsers/)
//   runtimes scripts/test-runtimes.mjs: the public-API suite under Deno and Bun (the newest
//           and the oldest supported), the browser build under Bun (JavaScriptCore) and
//           Deno, a workerd Worker, and Node 22
//   types   scripts/test-types.mjs: tsc (TypeScript 5.9 and 7) over Node, browser and Worker
//           projects using the packed package, and over the README's TypeScript blocks
// Each stage prints a summary line; the last line is `N passed, N failed`. A stage that ran
// no tests, or that failed without a failing test (a build error), counts as one failure.
//
// Environment: SKIP_SETUP=1 skips scripts/setup.sh; NODE_TEST_CONCURRENCY (default 1: the
// servers' control state is shared); NODE_TEST_TIMEOUT (ms per test, default 600000);
// NODE_TEST_FILES (comma-separated parts of file names: run only those Node test files).

import fs from 'node:fs';
import path from 'node:path';
import { build } from './build.mjs';
import { run as browsersStage } from './test-browsers.mjs';
import { run as runtimesStage } from './test-runtimes.mjs';
import { run as typesStage } from './test-types.mjs';
import { cargoCounter } from './stages.mjs';
import { ROOT, WASM_TEST_FEATURES, interruption, log, makeScratchProject, onInterrupt, packInto, run, runSetup, toolEnv } from './lib.mjs';
import { DEFAULT_PORTS, startServers } from '../tests/support/servers.mjs';
import { NEWEST_NODE, OLDEST_NODE, nodeBinary } from './other-runtimes.mjs';

const STAGES = ['cargo', 'wasm', 'node', 'oldest-node', 'newest-node', 'browsers', 'runtimes', 'types'];
const NEEDS_BUILD = ['node', 'oldest-node', 'newest-node', 'browsers', 'runtimes', 'types'];
const NODE_TESTS = path.join(ROOT, 'tests', 'node');
const SCRATCH = path.join(NODE_TESTS, '.scratch');

function parseArgs(argv) {
  let only = STAGES;
  for (const a of argv) {
    const m = /^--only=(.*)$/.exec(a);
    if (m) {
      only = m[1].split(',').map((s) => s.trim()).filter(Boolean);
      const bad = only.filter((s) => !STAGES.includes(s));
      if (bad.length || !only.length) usage(`unknown stage ${bad.join(', ') || '(none)'}`);
    } else if (a === '-h' || a === '--help') {
      usage();
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  return { only: STAGES.filter((s) => only.includes(s)) };
}

function usage(problem) {
  const text = `usage: npm test [-- --only=${STAGES.join(',')}]\n`;
  if (problem) {
    process.stderr.write(`test.mjs: ${problem}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

/** Reads the top-level `# pass N` / `# fail N` / `# cancelled N` of node --test's TAP. */
function tapCounter() {
  const counts = { passed: 0, failed: 0, results: 0 };
  return {
    counts,
    onLine(line) {
      const m = /^# (pass|fail|cancelled) (\d+)\s*$/.exec(line);
      if (!m) return;
      if (m[1] === 'pass') {
        counts.passed = Number(m[2]);
        counts.results++;
      } else if (m[1] === 'fail') counts.failed = Number(m[2]);
      else counts.cancelled = Number(m[2]);
    },
  };
}

/** Turns a command's exit and its parsed counts into a stage result. */
function judge(name, { code, signal }, counts) {
  const result = { name, passed: counts.passed, failed: counts.failed + (counts.cancelled ?? 0), problem: null };
  if (counts.results === 0) {
    result.problem = `ran 0 tests (${code === 0 ? 'exit 0: were all suites skipped or filtered out?' : `exit ${code ?? signal}: did it build?`})`;
  } else if (result.passed + result.failed === 0) {
    result.problem = 'ran 0 tests (is every test ignored, or configured for a browser only?)';
  } else if (code !== 0 && result.failed === 0) {
    result.problem = `exited with ${code ?? signal} but reported no failing test (a build or runner error?)`;
  }
  if (result.problem && result.failed === 0) result.failed = 1; // the stage itself counts as a failure
  return result;
}

function copyTree(from, to, skip) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (skip.includes(e.name)) continue;
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) copyTree(src, dst, skip);
    else if (e.isFile()) fs.copyFileSync(src, dst);
  }
}

function findTests(dir, rel = '') {
  let out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out = out.concat(findTests(dir, r));
    else if (/\.test\.(mjs|cjs)$/.test(e.name)) out.push(r);
  }
  return out.sort();
}

/**
 * The scratch project the Node suite runs in, made once per run:
 *   tests/node/.scratch/                the tarball
 *     tests/node/                       the scratch project (type: module) + a copy of tests/node
 *     tests/support/                    a copy of tests/support (tests import ../support/*.mjs)
 *     tests/runtimes/                   a copy of tests/runtimes (its suite's fixtures are shared)
 */
let nodeProject;
async function prepareNodeProject() {
  if (nodeProject) return nodeProject;
  const tarball = await packInto(SCRATCH);
  const project = path.join(SCRATCH, 'tests', 'node');
  copyTree(NODE_TESTS, project, ['.scratch', 'node_modules', 'package.json', 'package-lock.json']);
  for (const shared of ['support', 'runtimes']) copyTree(path.join(ROOT, 'tests', shared), path.join(SCRATCH, 'tests', shared), ['node_modules']);
  await makeScratchProject(project, tarball);
  nodeProject = project;
  return project;
}

// The Node test files (tests/node/**/*.test.{mjs,cjs}, or NODE_TEST_FILES' picks) under the
// `node` binary given. `fileByFile`: for a Node whose test runner has no --test-concurrency or
// --test-timeout (18): each file in a run of its own, under `timeout`, their counts added up.
async function nodeSuite(name, node, env, buildError, { fileByFile = false } = {}) {
  if (buildError) return { name, passed: 0, failed: 1, problem: `not run: the build failed (${buildError})` };
  if (!fs.existsSync(node)) return { name, passed: 0, failed: 1, problem: `${node} not found (run scripts/setup.sh)` };
  const project = await prepareNodeProject();
  const only = (process.env.NODE_TEST_FILES || '').split(',').filter(Boolean);
  const files = findTests(project)
    .filter((f) => !f.startsWith(`node_modules${path.sep}`))
    .filter((f) => !only.length || only.some((part) => f.includes(part)));
  if (!files.length) return { name, passed: 0, failed: 1, problem: 'ran 0 tests: no tests/node/**/*.test.{mjs,cjs}' };
  log(`node: ${files.length} test files: ${files.join(' ')}`);
  const timeoutMs = Number(process.env.NODE_TEST_TIMEOUT || 600000);
  if (!fileByFile) {
    const c = tapCounter();
    const args = ['--test', '--test-reporter=tap', `--test-concurrency=${process.env.NODE_TEST_CONCURRENCY || 1}`, `--test-timeout=${timeoutMs}`, ...files];
    return judge(name, await run(node, args, { cwd: project, env, onLine: c.onLine }), c.counts);
  }
  const total = { passed: 0, failed: 0, cancelled: 0, results: 0 };
  let failedExit = null;
  for (const file of files) {
    const c = tapCounter();
    const exit = await run('timeout', ['-k', '5', String(Math.ceil(timeoutMs / 1000)), node, '--test', '--test-reporter=tap', file], { cwd: project, env, onLine: c.onLine });
    for (const key of Object.keys(total)) total[key] += c.counts[key] ?? 0;
    if (c.counts.results === 0) total.failed++; // a file that reported nothing (it did not load, or timed out)
    if (exit.code !== 0) failedExit ??= exit;
  }
  return judge(name, failedExit ?? { code: 0 }, total);
}

const stageRunners = {
  async cargo(env) {
    const c = cargoCounter();
    const exit = await run('cargo', ['test'], { env, onLine: c.onLine });
    // The browser build's feature set too (no server-only code; CRC32C eight bytes a step),
    // in the browser build's target dir, so neither feature set makes cargo rebuild the other.
    const browserEnv = { ...env, CARGO_TARGET_DIR: path.join(ROOT, 'target', 'browser') };
    const browser = await run('cargo', ['test', '--lib', '--no-default-features'], { env: browserEnv, onLine: c.onLine });
    return judge('cargo test', exit.code === 0 ? browser : exit, c.counts);
  },

  async wasm(env) {
    const c = cargoCounter();
    const exit = await run('wasm-pack', ['test', '--node', '--mode', 'no-install', '--', ...WASM_TEST_FEATURES], {
      env: { ...env, WASM_BINDGEN_TEST_TIMEOUT: env.WASM_BINDGEN_TEST_TIMEOUT || '60' },
      onLine: c.onLine,
    });
    return judge('wasm-pack test --node', exit, c.counts);
  },

  async node(env, { buildError }) {
    return nodeSuite('node --test', process.execPath, env, buildError);
  },

  // The Node suite again under the oldest Node `engines` allows, where the package takes
  // other paths (no `fs.openAsBlob`: files go up as streams; ES modules in `.js` files need
  // their `"type"`). The 1 GiB tests stay with the main run: they measure that Node's memory.
  async 'oldest-node'(env, { buildError }) {
    return nodeSuite(`node --test under Node ${OLDEST_NODE}`, nodeBinary(OLDEST_NODE), { ...env, LARGE_TESTS: '0' }, buildError, { fileByFile: true });
  },

  // And under the newest LTS line, where apps move to.
  async 'newest-node'(env, { buildError }) {
    return nodeSuite(`node --test under Node ${NEWEST_NODE}`, nodeBinary(NEWEST_NODE), { ...env, LARGE_TESTS: '0' }, buildError);
  },

  // Each has suites of its own (one per browser, bundler, runtime), every one of which must
  // have run tests; their counts add up here.
  async browsers(env, { buildError }) {
    return otherRuntimes('browsers (Chrome, Firefox, bundlers, examples)', browsersStage, env, buildError);
  },

  async runtimes(env, { buildError }) {
    return otherRuntimes('runtimes (Deno and Bun, newest and oldest; the browser build under Bun; workerd; Node 22)', runtimesStage, env, buildError);
  },

  async types(env, { buildError }) {
    return otherRuntimes('types (tsc 5.9 and 7 over 24 Node and browser setups, a Worker, the README)', typesStage, env, buildError);
  },
};

async function otherRuntimes(name, stage, env, buildError) {
  if (buildError) return { name, passed: 0, failed: 1, problem: `not run: the build failed (${buildError})` };
  const { passed, failed, suites } = await stage(env);
  const empty = suites.filter((s) => s.problem).map((s) => `${s.name}: ${s.problem}`);
  return { name, passed, failed, problem: empty.length ? empty.join('; ') : passed === 0 ? 'ran 0 tests' : null };
}

function summaryLine(r) {
  const verdict = r.problem ? `FAILED: ${r.problem}` : r.failed ? 'FAILED' : 'ok';
  return `${r.name}: ${r.passed} passed, ${r.failed} failed${r.seconds !== undefined ? ` (${r.seconds.toFixed(1)} s)` : ''} -- ${verdict}`;
}

async function main() {
  const { only } = parseArgs(process.argv.slice(2));
  let servers = null;
  const stopServers = async () => {
    const s = servers;
    servers = null;
    if (s) await s.stop();
  };
  // On Ctrl-C the running stage is stopped; the summary still prints (within 10 s).
  onInterrupt(stopServers, { graceMs: 10000 });

  const results = [];
  const finish = async (code) => {
    await stopServers();
    log('');
    for (const r of results) log(summaryLine(r));
    const passed = results.reduce((n, r) => n + r.passed, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    log(`${passed} passed, ${failed} failed`);
    process.exit(interruption.signal ? interruption.exitCode : code ?? (failed > 0 || passed === 0 ? 1 : 0));
  };

  log(`test: stages ${only.join(', ')}`);
  try {
    await runSetup({ browsers: only.includes('browsers') });
  } catch (err) {
    results.push({ name: 'setup', passed: 0, failed: 1, problem: err.message });
    return finish(1);
  }

  let buildError = null;
  if (NEEDS_BUILD.some((stage) => only.includes(stage)) && !interruption.signal) {
    try {
      await build({ setup: false });
    } catch (err) {
      buildError = err.message;
      log(`build: FAILED: ${err.message}`);
    }
  }

  if (interruption.signal) {
    results.push({ name: 'setup/build', passed: 0, failed: 1, problem: `interrupted by ${interruption.signal}` });
    return finish();
  }
  try {
    servers = await startServers({ ...DEFAULT_PORTS, log: (line) => process.stderr.write(`${line}\n`) });
  } catch (err) {
    results.push({ name: 'servers', passed: 0, failed: 1, problem: err.message });
    return finish(1);
  }
  log(`servers: emulator ${servers.emulatorUrl} (GCS front ${servers.gcsUrl}), sidecar stand-in ${servers.sidecarUrl}, gate ${servers.gateUrl}`);
  const env = toolEnv(servers.env);

  for (const stage of only) {
    if (interruption.signal) break;
    log(`\n=== ${stage} ===`);
    const t0 = Date.now();
    let result;
    try {
      result = await stageRunners[stage](env, { buildError });
    } catch (err) {
      result = { name: stage, passed: 0, failed: 1, problem: err.message };
    }
    if (interruption.signal) {
      result.problem = `interrupted by ${interruption.signal}`;
      result.failed = Math.max(result.failed, 1);
    }
    result.seconds = (Date.now() - t0) / 1000;
    results.push(result);
    log(`=== ${summaryLine(result)}`);
  }
  return finish();
}

main().catch(async (err) => {
  process.stderr.write(`test: ${err.stack || err.message}\n`);
  log('0 passed, 1 failed');
  process.exit(1);
});
