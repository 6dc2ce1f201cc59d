// Shared by the test stages for runtimes other than Node (scripts/test-browsers.mjs,
// scripts/test-runtimes.mjs): each stage is a module exporting `run(env)` that resolves
// `{passed, failed, suites}`, where every suite is `{name, passed, failed, problem?}`, and
// that can also be run on its own (`node scripts/test-<name>.mjs`), then starting the test
// servers itself and printing `N passed, N failed` last.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, log, makeScratchProject, onInterrupt, packInto, toolEnv } from './lib.mjs';

export const OUTPUT = path.join(ROOT, 'test-output');

/** A suite that ran nothing, or failed without a failing test, counts as one failure. */
export function settle(suite) {
  const settled = { ...suite, passed: suite.passed ?? 0, failed: suite.failed ?? 0 };
  if (!settled.problem && settled.passed + settled.failed === 0) settled.problem = 'ran 0 tests';
  if (settled.problem && settled.failed === 0) settled.failed = 1;
  return settled;
}

export function tally(suites) {
  const settled = suites.map(settle);
  for (const s of settled) log(`  ${s.name}: ${s.passed} passed, ${s.failed} failed${s.problem ? ` (${s.problem})` : ''}`);
  return {
    passed: settled.reduce((n, s) => n + s.passed, 0),
    failed: settled.reduce((n, s) => n + s.failed, 0),
    suites: settled,
  };
}

/** Sums `test result: ok. N passed; M failed` lines (cargo test, wasm-bindgen-test-runner). */
export function cargoCounter() {
  const counts = { passed: 0, failed: 0, results: 0 };
  return {
    counts,
    onLine(line) {
      const m = /test result: \w+\. (\d+) passed; (\d+) failed/.exec(line);
      if (m) {
        counts.passed += Number(m[1]);
        counts.failed += Number(m[2]);
        counts.results++;
      }
    },
  };
}

/** `npm pack`s the repo and installs it into a fresh scratch project under `dir`. */
export async function scratchWithPackage(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  const tarball = await packInto(path.join(dir, 'pack'));
  const project = path.join(dir, 'project');
  await makeScratchProject(project, tarball);
  return { tarball, project };
}

/** Runs `stage` as a script: servers started here unless the env names them. */
export async function standalone(stageUrl, runStage) {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(stageUrl)) return;
  const { startServers } = await import('../tests/support/servers.mjs');
  let servers;
  onInterrupt(async () => servers?.stop());
  let outcome;
  try {
    let env = toolEnv();
    if (!env.GCS_EMULATOR_URL) {
      servers = await startServers({ emulatorPort: 0, sidecarPort: 0, gatePort: 0 });
      env = { ...env, ...servers.env };
    }
    outcome = await runStage(env);
  } catch (error) {
    process.stderr.write(`${path.basename(fileURLToPath(stageUrl))}: ${error.stack ?? error}\n`);
    outcome = { passed: 0, failed: 1 };
  } finally {
    await servers?.stop();
  }
  log(`${outcome.passed} passed, ${outcome.failed} failed`);
  process.exit(outcome.failed === 0 && outcome.passed > 0 ? 0 : 1);
}
