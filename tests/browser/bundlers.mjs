// Builds a page that runs the public-API suite (tests/runtimes/suite.mjs, web flavour) with
// Vite, esbuild, Bun's bundler and webpack 5, each with no configuration at all (no wasm
// plugin, no loader, no config file: only the bundler's defaults), from the npm-packed
// package, and runs each build in headless Chromium and headless Firefox against the
// emulator. One result per bundler and browser; its tests are the suite's, plus one that
// fails on an uncaught error or an unhandled rejection in the page.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, kb, log, run } from '../../scripts/lib.mjs';
import { serveDir } from './chromium.mjs';
import { waitFor } from './example-app.mjs';
import { NOTE_PAGE_ERRORS } from './firefox.mjs';

const SUITE_TIMEOUT_MS = 300_000;

const PAGE_SCRIPT = `import * as storage from 'replit-object-storage-wasm';
import { runSuite } from './suite.mjs';

const env = JSON.parse(new URLSearchParams(location.search).get('env'));
runSuite({ ...storage, flavour: 'web', env, log: (line) => console.log(line) }).then(
  (outcome) => { window.__suite = outcome; },
  (error) => { window.__suite = { passed: 0, failed: 1, results: [{ title: 'the suite', ok: false, error: String(error) }] }; },
);
`;
// Before the bundle, a classic script notes what the page itself throws or leaves rejected.
const html = (script, module) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>suite</title><script>${NOTE_PAGE_ERRORS}</script></head><body>` +
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
  async bun(dir, out) {
    // Bun's bundler for the browser, its defaults otherwise (an ES module, not minified).
    const { code } = await run(path.join(ROOT, 'node_modules', '.bin', 'bun'), ['build', 'src/index.js', '--target=browser', `--outfile=${path.join(out, 'main.js')}`], { cwd: dir });
    if (code !== 0) throw new Error(`bun build exited with ${code}`);
    fs.writeFileSync(path.join(out, 'index.html'), html('main.js', true));
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

/** Opens `url` in `session` and waits for the suite's outcome, page errors counted as a failure. */
async function suiteInPage(session, url) {
  await session.open(url);
  const expression = 'window.__suite ? { suite: window.__suite, errors: window.__pageErrors } : null';
  const { suite, errors } = await waitFor(session, expression, "the suite's outcome", SUITE_TIMEOUT_MS);
  const clean = { title: 'no uncaught error or unhandled rejection in the page', ok: errors.length === 0, error: errors.join('; ') };
  return { passed: suite.passed + (clean.ok ? 1 : 0), failed: suite.failed + (clean.ok ? 0 : 1), results: [...suite.results, clean] };
}

/**
 * `project`: a scratch project with the packed package installed; `browsers`: `{name,
 * session}` pairs, each session as `chromiumSession` and `launchFirefox` give. Returns one
 * `{name, passed, failed, problem?}` per bundler and browser.
 */
export async function bundlerSuites({ project, browsers, env, outDir }) {
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(path.join(project, 'src', 'index.js'), PAGE_SCRIPT);
  fs.copyFileSync(path.join(ROOT, 'tests', 'runtimes', 'suite.mjs'), path.join(project, 'src', 'suite.mjs'));
  const outcomes = [];
  for (const [name, build] of Object.entries(BUNDLERS)) {
    const out = path.join(outDir, `dist-${name}`);
    const forBrowsers = browsers.map((browser) => ({ name: `bundle: ${name} (${browser.name})`, passed: 0, failed: 0 }));
    outcomes.push(...forBrowsers);
    let server;
    try {
      await build(project, out);
      const size = jsSize(out);
      log(`bundlers: ${name}: built with no configuration, JS + wasm ${kb(size.raw)} raw, ${kb(size.gz)} gzip`);
      server = await serveDir(out);
    } catch (error) {
      for (const outcome of forBrowsers) outcome.problem = error.message;
      continue;
    }
    const url = `${server.url}/index.html?env=${encodeURIComponent(JSON.stringify(env))}`;
    for (const [index, { name: browserName, session }] of browsers.entries()) {
      const outcome = forBrowsers[index];
      try {
        const suite = await suiteInPage(session, url);
        for (const r of suite.results) log(`bundlers: ${name} in ${browserName}: ${r.ok ? 'ok' : 'not ok'} - ${r.title}${r.ok ? '' : `: ${r.error}`}`);
        outcome.passed = suite.passed;
        outcome.failed = suite.failed;
      } catch (error) {
        outcome.problem = error.message;
      }
    }
    await server.close();
  }
  return outcomes;
}
