// What the end-to-end tests of the example apps (page.mjs, web-app.mjs) share: a built copy of
// an example with the packed package installed, steps recorded as results, and waiting on the
// page of a session (chromium.mjs's or firefox.mjs's).

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
export function stepRecorder(label) {
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

/** How long a step waits for the page to show what it expects. */
export const STEP_TIMEOUT_MS = 20_000;

/** Polls `expression` in `session`'s page until it is truthy; resolves its value. */
export async function waitFor(session, expression, what) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = await session.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${STEP_TIMEOUT_MS / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
