#!/usr/bin/env node
// node scripts/other-runtimes.mjs   (scripts/setup.sh runs it)
// The runtime versions the tests run beside the ones npm's devDependencies bring (the newest):
// Node 18, the oldest package.json's `engines` allows, and 24, the newest LTS line (the whole
// Node suite runs under both too), and 22 between them; the oldest Deno and Bun the README
// names (the public-API suite runs under each). Node's own builds come from npm's
// node-<platform>-<arch> packages (what the `node` package installs), Deno and Bun from their
// npm packages, so only the npm registry is needed. They go into .cache/runtimes; a run that finds them there installs nothing.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT, log, run } from './lib.mjs';

/** The oldest Node `engines` allows and the newest LTS line: the whole Node suite runs under each too. */
export const OLDEST_NODE = '18.20.8';
export const NEWEST_NODE = '24.22.3';
/** The Node LTS lines between: the public-API suite runs under each. */
export const MIDDLE_NODES = ['22.23.5'];
/** The oldest Deno and Bun the suite passes in (older ones' Node compatibility fails it; see the README). */
export const OLDEST_DENO = '2.2.15';
export const OLDEST_BUN = '1.3.3';

const DIR = path.join(ROOT, '.cache', 'runtimes');
const platformNode = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;

/** Each runtime: its npm package, where its binary lands, and how its `--version` line begins. */
const RUNTIMES = {
  node: { npm: platformNode, binary: ['bin', 'node'], says: (version) => `v${version} ` },
  deno: { npm: 'deno', binary: ['deno'], says: (version) => `deno ${version} ` },
  bun: { npm: 'bun', binary: ['bin', 'bun.exe'], says: (version) => `${version} ` },
};

const alias = (runtime, version) => `${runtime}-${version}`;

/** The path of the binary of `runtime` (node, deno or bun) at `version`. */
export const runtimeBinary = (runtime, version) => path.join(DIR, 'node_modules', alias(runtime, version), ...RUNTIMES[runtime].binary);
export const nodeBinary = (version) => runtimeBinary('node', version);

const wanted = () => [
  ['node', OLDEST_NODE],
  ...MIDDLE_NODES.map((version) => ['node', version]),
  ['node', NEWEST_NODE],
  ['deno', OLDEST_DENO],
  ['bun', OLDEST_BUN],
];

function installed([runtime, version]) {
  try {
    const said = execFileSync(runtimeBinary(runtime, version), ['--version'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return said.trim().split('\n')[0].concat(' ').startsWith(RUNTIMES[runtime].says(version));
  } catch {
    return false;
  }
}

const named = (list) => list.map(([runtime, version]) => `${runtime} ${version}`).join(', ');

/** Installs every runtime version that is not in place; throws when one still does not run after. */
export async function installOtherRuntimes() {
  const missing = wanted().filter((entry) => !installed(entry));
  if (missing.length) {
    fs.mkdirSync(DIR, { recursive: true });
    if (!fs.existsSync(path.join(DIR, 'package.json'))) fs.writeFileSync(path.join(DIR, 'package.json'), '{ "private": true }\n');
    log(`setup: ${named(missing)} from npm into ${path.relative(ROOT, DIR)}`);
    const specs = missing.map(([runtime, version]) => `${alias(runtime, version)}@npm:${RUNTIMES[runtime].npm}@${version}`);
    const { code } = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: DIR });
    if (code !== 0) throw new Error(`npm install of ${specs.join(' ')} failed (${code})`);
  }
  const broken = wanted().filter((entry) => !installed(entry));
  if (broken.length) throw new Error(`${named(broken)} does not run from ${path.relative(ROOT, DIR)}`);
  log(`setup: ${named(wanted())}: ok`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  installOtherRuntimes().catch((error) => {
    process.stderr.write(`other-runtimes: ${error.message}\n`);
    process.exit(1);
  });
}
