#!/usr/bin/env node
// node scripts/other-nodes.mjs   (scripts/setup.sh runs it)
// The Node versions the tests run beside the one running them: 18, the oldest package.json's
// `engines` allows (the whole Node suite runs there too), and the newer LTS lines (the
// public-API suite). Each is Node's own build, taken from npm's node-<platform>-<arch>
// packages (the binaries the `node` package installs), so only the npm registry is needed.
// They go into .cache/nodes; a run that finds the right versions there installs nothing.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT, log, run } from './lib.mjs';

/** The oldest Node `engines` allows: the Node suite runs under it as well. */
export const OLDEST_NODE = '18.20.8';
/** Newer LTS lines: the public-API suite runs under each. */
export const NEWER_NODES = ['22.23.5', '24.22.3'];

const DIR = path.join(ROOT, '.cache', 'nodes');
const alias = (version) => `node-${version.split('.')[0]}`;

/** The path of the `node` binary of `version` (installed by `installOtherNodes`). */
export const nodeBinary = (version) => path.join(DIR, 'node_modules', alias(version), 'bin', 'node');

function installed(version) {
  try {
    return execFileSync(nodeBinary(version), ['--version'], { encoding: 'utf8' }).trim() === `v${version}`;
  } catch {
    return false;
  }
}

/** Installs every version that is not in place; throws when one is still missing after. */
export async function installOtherNodes() {
  const versions = [OLDEST_NODE, ...NEWER_NODES];
  const missing = versions.filter((version) => !installed(version));
  if (missing.length) {
    const npmPackage = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
    fs.mkdirSync(DIR, { recursive: true });
    if (!fs.existsSync(path.join(DIR, 'package.json'))) fs.writeFileSync(path.join(DIR, 'package.json'), '{ "private": true }\n');
    log(`setup: Node ${missing.join(', ')} from npm's ${npmPackage} into ${path.relative(ROOT, DIR)}`);
    const specs = missing.map((version) => `${alias(version)}@npm:${npmPackage}@${version}`);
    const { code } = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: DIR });
    if (code !== 0) throw new Error(`npm install of ${specs.join(' ')} failed (${code})`);
  }
  const broken = versions.filter((version) => !installed(version));
  if (broken.length) throw new Error(`Node ${broken.join(', ')} does not run from ${path.relative(ROOT, DIR)}`);
  log(`setup: Node ${versions.join(', ')}: ok`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  installOtherNodes().catch((error) => {
    process.stderr.write(`other-nodes: ${error.message}\n`);
    process.exit(1);
  });
}
