// What the end-to-end tests of the example apps (page.mjs, web-app.mjs) share: a built copy of
// an example with the packed package installed, their steps run in each browser and recorded
// as results, and waiting on the page of a session (chromium.mjs's or firefox.mjs's), which
// the bundle pages (bundlers.mjs) do too.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, log, run } from '../../scripts/lib.mjs';

/**
 * Copies `examples/<example>` (without node_modules, dist) to `appDir`, installs the tarball
 * into the copy, links `links` from the repo's node_modules, and builds it with the repo's Vite.
 */
export async function prepareExample(example, appDir, tarball, links = []) {
  fs.rmSync(appDir, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'examples', example), appDir, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path.relative(ROOT, src)),
  });
  // The copy installs only the package under test; what else it needs comes from the repo.
  const manifest = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8'));
  delete manifest.dependencies;
  delete manifest.devDependencies;
  fs.writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: appDir });
  if (install.code !== 0) throw new Error(`npm install of the tarball into examples/${example} failed`);
  for (const name of links) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(appDir, 'node_modules', name), 'dir');
  const build = await run(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: appDir });
  if (build.code !== 0) throw new Error(`vite build of examples/${example} failed`);
}

/** `step(title, fn)` runs one check a person would make, logs it under `label` and records it in `results`. */
function stepRecorder(label) {
  const results = [];
  const step = async (title, fn) => {
    try {
      await fn();
      results.push({ title, ok: true });
      log(`${label}: ok - ${title}`);
    } catch (error) {
      results.push({ title, ok: false, error: error.message });
      log(`${label}: not ok - ${title}: ${error.message.split('\n')[0]}`);
    }
  };
  return { results, step };
}

/**
 * Runs `steps({ session, step, shot })` in each of `browsers` (`{name, session}`), then checks
 * that the page raised no uncaught error; `shot(what)` is a screenshot's path in `outDir`.
 * Resolves one `{ browser, results }` per browser.
 */
export async function inEachBrowser(browsers, label, outDir, steps) {
  const outcomes = [];
  for (const { name, session } of browsers) {
    const { results, step } = stepRecorder(`${label} in ${name}`);
    const shot = (what) => path.join(outDir, `${label}-${what}-${name.toLowerCase()}.png`);
    await steps({ session, step, shot });
    await step('the page raised no uncaught errors', async () => {
      const errors = await session.errors();
      if (errors.length) throw new Error(errors.join('; '));
    });
    outcomes.push({ browser: name, results });
  }
  return outcomes;
}

/** How long a step waits, by default, for the page to show what it expects. */
const STEP_TIMEOUT_MS = 20_000;

/** Polls `expression` in `session`'s page until it is truthy; resolves its value. */
export async function waitFor(session, expression, what, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await session.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
