#!/usr/bin/env node
// node scripts/test-types.mjs   (after npm run build)
// The package's TypeScript types in the projects users have, each compiled by tsc against the
// npm-packed tarball installed offline into a scratch project (TypeScript and the @types
// packages come from this repository's node_modules, linked in):
//   node     tests/types/node-*.ts (code written for @replit/object-storage, import changed)
//            under nodenext ESM, nodenext CommonJS, bundler and commonjs (node10 in TypeScript
//            5.9; TypeScript 7 resolves it as bundler), with @types/node: Buffer, Node streams
//   browser  tests/types/browser-app.ts under bundler with the DOM library, no @types/node:
//            Uint8Array, web streams
//   worker   tests/types/worker-app.ts under the `workerd` condition (the Workers build)
//   readme   every ```ts block of README.md (```ts browser and ```ts worker for the others),
//            each its own module beside tests/types/readme-<context>.d.ts, which declares what
//            a reader's app has (an Express app, a signed-in user)
// each with TypeScript 5.9 and 7, and the node and browser setups with
// exactOptionalPropertyTypes on and off. Every tsc run is one test.
// Exports run() for scripts/test.mjs (the `types` stage).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, log, makeScratchProject, packInto, run as runCommand } from './lib.mjs';
import { OUTPUT, tally } from './stages.mjs';

const STAGE_DIR = path.join(OUTPUT, 'types');
const SOURCES = path.join(ROOT, 'tests', 'types');
const README = path.join(ROOT, 'README.md');
const TYPESCRIPTS = { '5.9': 'typescript-5.9', 7: 'typescript' };
const PARALLEL = Math.max(1, Math.min(2, os.availableParallelism?.() ?? 2));

/** What every project sets: strict, and what `tsc --init` turns on besides. */
const BASE = {
  strict: true,
  noEmit: true,
  target: 'es2022',
  skipLibCheck: false, // the package's declarations are checked too
  noUncheckedIndexedAccess: true,
  isolatedModules: true,
  moduleDetection: 'force',
};

const NODE = { lib: ['es2022'], types: ['node'] };
const BROWSER = { lib: ['es2022', 'dom', 'dom.iterable'], types: [] };
const NODE_FILES = ['node-app.ts', 'node-subpaths.ts'];

/** name -> [package.json "type", compilerOptions, files] */
const KINDS = {
  'nodenext-esm': ['module', { ...NODE, module: 'nodenext', verbatimModuleSyntax: true }, NODE_FILES],
  'nodenext-cjs': ['commonjs', { ...NODE, module: 'nodenext' }, [...NODE_FILES, 'node-require.ts']],
  bundler: ['module', { ...NODE, module: 'esnext', moduleResolution: 'bundler', verbatimModuleSyntax: true }, NODE_FILES],
  commonjs: ['commonjs', { ...NODE, module: 'commonjs', esModuleInterop: true }, [...NODE_FILES, 'node-require.ts']],
  browser: ['module', { ...BROWSER, module: 'esnext', moduleResolution: 'bundler', verbatimModuleSyntax: true }, ['browser-app.ts']],
  worker: ['module', { lib: ['es2022', 'webworker'], types: [], module: 'esnext', moduleResolution: 'bundler', customConditions: ['workerd'] }, ['worker-app.ts']],
};

/** README contexts: the info string after ```ts -> the setup its blocks are compiled in. */
const README_KINDS = { '': 'nodenext-esm', browser: 'browser', worker: 'worker' };

/** The ```ts blocks of the README: { context, line (of the first code line), code }. */
export function readmeBlocks(text = fs.readFileSync(README, 'utf8')) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts(?:\s+(\w+))?\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    blocks.push({ context: open[1] ?? '', line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

const NODE_KINDS = ['nodenext-esm', 'nodenext-cjs', 'bundler', 'commonjs'];
/** The @types/node of Node 18, the oldest `engines` allows (a devDependency under another name). */
const OLDEST_NODE_TYPES = { ts: '5.9', from: path.join(ROOT, 'node_modules', 'types-node-18') };

/**
 * The setups: 16 Node and 4 browser (two TypeScripts, exactOptionalPropertyTypes on and off),
 * Workers, 4 Node ones with Node 18's @types/node (`oldTypes`), and the README.
 */
function setups() {
  const list = [];
  for (const ts of Object.keys(TYPESCRIPTS)) {
    for (const kind of [...NODE_KINDS, 'browser']) {
      for (const exact of [true, false]) list.push({ kind, ts, exact, name: `${kind} ts${ts}${exact ? ' exactOptionalPropertyTypes' : ''}` });
    }
    list.push({ kind: 'worker', ts, exact: true, name: `worker ts${ts}` });
  }
  for (const kind of NODE_KINDS) {
    list.push({ kind, ts: OLDEST_NODE_TYPES.ts, exact: true, oldTypes: true, name: `${kind} ts${OLDEST_NODE_TYPES.ts} @types/node 18` });
  }
  const blocks = readmeBlocks();
  for (const [context, kind] of Object.entries(README_KINDS)) {
    const mine = blocks.filter((b) => b.context === context);
    if (!mine.length) continue;
    for (const ts of Object.keys(TYPESCRIPTS)) {
      list.push({ kind, ts, exact: true, readme: { context: context || 'node', blocks: mine }, name: `README ${context || 'node'} blocks (${mine.length}) ts${ts}` });
    }
  }
  return list;
}

/** Writes one setup's folder (package.json, tsconfig.json, sources) under its scratch project. */
function writeSetup(project, setup, index) {
  const [type, options, files] = KINDS[setup.kind];
  const dir = path.join(project, `${String(index).padStart(2, '0')}-${setup.name.replace(/[^\w.]+/g, '-')}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, type }, null, 2)}\n`);
  const names = [];
  const lineOf = {};
  if (setup.readme) {
    const prelude = `readme-${setup.readme.context}.d.ts`;
    fs.copyFileSync(path.join(SOURCES, prelude), path.join(dir, prelude));
    names.push(prelude);
    for (const block of setup.readme.blocks) {
      const file = `readme-line-${block.line}.ts`;
      fs.writeFileSync(path.join(dir, file), `${block.code}\n`);
      lineOf[file] = block.line;
      names.push(file);
    }
  } else {
    for (const file of files) fs.copyFileSync(path.join(SOURCES, file), path.join(dir, file));
    names.push(...files);
  }
  const compilerOptions = { ...BASE, ...options, exactOptionalPropertyTypes: setup.exact };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, files: names }, null, 2)}\n`);
  return { dir, lineOf };
}

/** Our node_modules/@types/<name>. */
const ourTypes = (name) => path.join(ROOT, 'node_modules', '@types', name);

/** A scratch project with the tarball installed and `typePackages` (@types name -> folder) linked in. */
async function project(dir, tarball, typePackages) {
  fs.rmSync(dir, { recursive: true, force: true });
  await makeScratchProject(dir, tarball);
  for (const [name, from] of Object.entries(typePackages)) {
    if (!fs.existsSync(from)) throw new Error(`${path.relative(ROOT, from)} is missing: run npm install`);
    fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(from, path.join(dir, 'node_modules', '@types', name), 'dir');
  }
}

/** tsc -p over one setup; README errors are told by README line. */
async function compile(setup, { dir, lineOf }) {
  const tsc = path.join(ROOT, 'node_modules', TYPESCRIPTS[setup.ts], 'bin', 'tsc');
  if (!fs.existsSync(tsc)) return { ok: false, output: [`${path.relative(ROOT, tsc)} is missing: run npm install`] };
  const output = [];
  const { code, signal } = await runCommand(process.execPath, [tsc, '-p', dir], { cwd: dir, quiet: true, onLine: (line) => line && output.push(line) });
  const told = output.map((line) => {
    const m = /^(readme-line-(\d+)\.ts)\((\d+),(\d+)\)(.*)$/.exec(line);
    return m ? `README.md:${lineOf[m[1]] + Number(m[3]) - 1}:${m[4]}${m[5]}` : line;
  });
  return { ok: code === 0, output: code === 0 || told.length ? told : [`tsc exited with ${code ?? signal}`] };
}

/** Runs `jobs` (functions returning promises) at most `limit` at a time, in order of start. */
async function pool(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

export async function run() {
  const name = 'types (tsc 5.9 and 7: Node, browser, Worker, README; Node 18 @types)';
  fs.mkdirSync(STAGE_DIR, { recursive: true });
  const tarball = await packInto(path.join(STAGE_DIR, 'pack'));
  // Node projects have @types/node (and, for the README, @types/express); browser projects none.
  const nodeProject = path.join(STAGE_DIR, 'node-project');
  const webProject = path.join(STAGE_DIR, 'browser-project');
  const oldTypesProject = path.join(STAGE_DIR, 'node-18-types-project');
  await project(nodeProject, tarball, { node: ourTypes('node'), express: ourTypes('express') });
  await project(webProject, tarball, {});
  await project(oldTypesProject, tarball, { node: OLDEST_NODE_TYPES.from });
  const list = setups();
  const t0 = Date.now();
  const results = await pool(
    list.map((setup, i) => async () => {
      const written = writeSetup(['browser', 'worker'].includes(setup.kind) ? webProject : setup.oldTypes ? oldTypesProject : nodeProject, setup, i);
      const started = Date.now();
      const result = await compile(setup, written);
      log(`types: ${result.ok ? 'ok' : 'not ok'} - ${setup.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      for (const line of result.ok ? [] : result.output) log(`types:   ${line}`);
      return result;
    }),
    PARALLEL,
  );
  // The README's code is TypeScript, so that all of it is checked here.
  const untyped = fs.readFileSync(README, 'utf8').split('\n').flatMap((line, i) => (/^```(js|javascript|mjs|cjs)\b/.test(line) ? [i + 1] : []));
  log(`types: ${untyped.length ? 'not ok' : 'ok'} - README code blocks are TypeScript${untyped.length ? ` (JavaScript at README.md lines ${untyped.join(', ')})` : ''}`);
  results.push({ ok: untyped.length === 0 });
  const passed = results.filter((r) => r.ok).length;
  log(`types: ${list.length} projects in ${((Date.now() - t0) / 1000).toFixed(1)} s (${PARALLEL} at a time)`);
  return tally([{ name, passed, failed: results.length - passed }]);
}

// Run on its own (no test servers needed): `node scripts/test-types.mjs`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outcome = await run().catch((error) => {
    process.stderr.write(`test-types.mjs: ${error.stack ?? error}\n`);
    return { passed: 0, failed: 1 };
  });
  log(`${outcome.passed} passed, ${outcome.failed} failed`);
  process.exit(outcome.failed === 0 && outcome.passed > 0 ? 0 : 1);
}
