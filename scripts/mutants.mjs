#!/usr/bin/env node
// npm run mutants [-- --shard k/n] [-- --file src/protocol/retry.rs ...]
// Mutation testing of the pure protocol modules: cargo-mutants changes their code one small
// way at a time (an operator, a constant, a function's whole body) and checks that a native
// unit test then fails. What it examines and how it tests are in .cargo/mutants.toml
// (src/protocol only, `cargo test --lib`); arguments pass through to `cargo mutants`, so
// `--shard k/n` runs one of n slices and `--file` narrows to some modules. It writes its
// report to mutants.out/ (missed.txt lists the survivors) and this prints, per module and in
// all, how many of the viable mutants (those that build) the tests caught. Slow: each mutant
// is a build and a test run, ~1,350 of them in all; prefix `nice -n 19` on a shared machine.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, capture, log, onInterrupt, run } from './lib.mjs';

const OUTCOMES = path.join(ROOT, 'mutants.out', 'outcomes.json');

/**
 * Whether a mutant changes the tests' own code (helpers, simulated servers), which is not
 * under test: .cargo/mutants.toml leaves most such mutants out by name, but a deleted struct
 * field is named without its function.
 */
const inTests = (mutant) => /^tests::/.test(mutant.function?.function_name ?? '');

/** Per file and in all: caught, missed, timed out (counted as caught) and unviable mutants. */
function tally(outcomes) {
  const files = new Map();
  const total = { caught: 0, missed: 0, timeout: 0, unviable: 0 };
  const column = { CaughtMutant: 'caught', MissedMutant: 'missed', Timeout: 'timeout', Unviable: 'unviable' };
  for (const outcome of outcomes) {
    const mutant = outcome.scenario?.Mutant;
    if (!mutant || inTests(mutant)) continue; // the unmutated baseline, or a test's own code
    const key = column[outcome.summary];
    if (!key) throw new Error(`mutants.out: unknown outcome ${outcome.summary} for ${mutant.name}`);
    if (!files.has(mutant.file)) files.set(mutant.file, { caught: 0, missed: 0, timeout: 0, unviable: 0 });
    files.get(mutant.file)[key] += 1;
    total[key] += 1;
  }
  return { files, total };
}

function score({ caught, missed, timeout }) {
  const viable = caught + missed + timeout;
  const percent = viable === 0 ? 'n/a' : `${((100 * (caught + timeout)) / viable).toFixed(1)}%`;
  return `${String(caught + timeout).padStart(4)} / ${String(viable).padEnd(4)} ${percent.padStart(6)}`;
}

function report({ files, total }) {
  log('\nmodule                              caught / viable      (missed, timeouts, unviable)');
  for (const [file, counts] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    log(`${file.padEnd(36)}${score(counts)}   (${counts.missed}, ${counts.timeout}, ${counts.unviable})`);
  }
  log(`${'in all'.padEnd(36)}${score(total)}   (${total.missed}, ${total.timeout}, ${total.unviable})`);
  log('Timeouts count as caught. The survivors are listed in mutants.out/missed.txt.');
}

async function main() {
  try {
    await capture('cargo', ['mutants', '--version']);
  } catch {
    log('mutants: cargo-mutants is not installed; install it with `cargo install cargo-mutants --locked`');
    process.exit(1);
  }
  onInterrupt(async () => {});
  fs.rmSync(OUTCOMES, { force: true });
  const { code, signal } = await run('cargo', ['mutants', ...process.argv.slice(2)]);
  // cargo-mutants exits 2 when mutants were missed and 3 on timeouts: the report says which.
  if (![0, 2, 3].includes(code)) {
    log(`mutants: cargo mutants failed (${code ?? signal})`);
    process.exit(code || 1);
  }
  if (!fs.existsSync(OUTCOMES)) return; // --list and the like test nothing
  report(tally(JSON.parse(fs.readFileSync(OUTCOMES, 'utf8')).outcomes));
}

await main();
