// Builds a page that runs the public-API suite (tests/runtimes/suite.mjs, web flavour) with
// Vite, esbuild and webpack 5, each with no configuration at all (no wasm plugin, no loader,
// no config file: only the bundler's defaults), from the npm-packed package, and runs each
// build in headless Chromium against the emulator. One result per bundler; its tests are
// the suite's.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, kb, log, run } from '../../scripts/lib.mjs';
import { serveDir } from './chromium.mjs';

const PAGE_SCRIPT = `import * as storage from 'replit-object-storage-wasm';
import { runSuite } from './suite.mjs';

const env = JSON.parse(new URLSearchParams(location.search).get('env'));
runSuite({ ...storage, flavour: 'web', env, log: (line) => console.log(line) }).then(
  (outcome) => { window.__suite = outcome; },
  (error) => { window.__suite = { passed: 0, failed: 1, results: [{ title: 'the suite', ok: false, error: String(error) }] }; },
);
`;
const html = (script, module) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>suite</title></head><body>` +
  `<script ${module ? 'type="module" ' : ''}src="${script}"></script></body></html>\n`;

/** The bundlers, each as: build the project in `dir` into `out` (which gets an index.html). */
const BUNDLERS = {
  async vite(dir, out) {
    fs.writeFileSync(path.join(dir, 'index.html'), html('/src/index.js', true));
    const { code } = await run(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { cwd: dir });
    if (code !== 0) throw new Error(`vite build exited with ${code}`);
  },
  async esbuild(dir, out) {
    const { code } = await run(path.join(ROOT, 'node_modules', '.bin', 'esbuild'), ['src/index.js', '--bundle', `--outfile=${path.join(out, 'main.js')}`], { cwd: dir });
    if (code !== 0) throw new Error(`esbuild exited with ${code}`);
    fs.writeFileSync(path.join(out, 'index.html'), html('main.js', false));
  },
  async webpack(dir, out) {
    // `webpack --mode production` in the project, through webpack's API (webpack-cli is not
    // needed for that): its defaults are entry ./src/index.js and output ./dist/main.js.
    const script =
      `require(${JSON.stringify(path.join(ROOT, 'node_modules', 'webpack'))})({ mode: 'production' }, (error, stats) => {` +
      ` if (error || stats.hasErrors()) { console.error(error ?? stats.toString({ all: false, errors: true })); process.exit(1); } });`;
    const { code } = await run(process.execPath, ['-e', script], { cwd: dir });
    if (code !== 0) throw new Error(`webpack exited with ${code}`);
    fs.rmSync(out, { recursive: true, force: true });
    fs.cpSync(path.join(dir, 'dist'), out, { recursive: true });
    fs.writeFileSync(path.join(out, 'index.html'), html('main.js', false));
  },
};

function jsSize(out) {
  let raw = 0;
  let gz = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(m?js|wasm)$/.test(e.name)) {
        const bytes = fs.readFileSync(p);
        raw += bytes.length;
        gz += zlib.gzipSync(bytes, { level: 9 }).length;
      }
    }
  };
  walk(out);
  return { raw, gz };
}

/**
 * `project`: a scratch project with the packed package installed. Returns one
 * `{name, passed, failed, problem?, size?}` per bundler.
 */
export async function bundlerSuites({ project, browser, env, outDir }) {
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(path.join(project, 'src', 'index.js'), PAGE_SCRIPT);
  fs.copyFileSync(path.join(ROOT, 'tests', 'runtimes', 'suite.mjs'), path.join(project, 'src', 'suite.mjs'));
  const outcomes = [];
  for (const [name, build] of Object.entries(BUNDLERS)) {
    const out = path.join(outDir, `dist-${name}`);
    const outcome = { name: `bundle: ${name} (Chromium)`, passed: 0, failed: 0 };
    outcomes.push(outcome);
    try {
      await build(project, out);
      outcome.size = jsSize(out);
      log(`bundlers: ${name}: built with no configuration, JS + wasm ${kb(outcome.size.raw)} raw, ${kb(outcome.size.gz)} gzip`);
      const server = await serveDir(out);
      const page = await browser.newPage();
      try {
        const errors = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${server.url}/index.html?env=${encodeURIComponent(JSON.stringify(env))}`);
        const handle = await page.waitForFunction(() => window.__suite, null, { timeout: 300_000 });
        const suite = await handle.jsonValue();
        for (const r of suite.results) log(`bundlers: ${name}: ${r.ok ? 'ok' : 'not ok'} - ${r.title}${r.ok ? '' : `: ${r.error}`}`);
        if (errors.length) log(`bundlers: ${name}: page errors: ${errors.join('; ')}`);
        outcome.passed = suite.passed;
        outcome.failed = suite.failed;
      } finally {
        await page.close();
        await server.close();
      }
    } catch (error) {
      outcome.problem = error.message;
    }
  }
  return outcomes;
}
