#!/usr/bin/env node
// node scripts/test-browsers.mjs   (after npm run build; setup --browsers)
// Everything that runs in a real browser:
//   chrome, firefox  the wasm tests (tests/emulator.rs) under `wasm-pack test --headless --chrome|--firefox`,
//                    switched to browser mode with WASM_BINDGEN_USE_BROWSER=1 (the same file
//                    the `wasm` stage runs under --node)
//   bundle: vite, esbuild, bun, webpack  the public-API suite in a page built by each bundler with
//                    no configuration, in headless Chromium and headless Firefox
//                    (tests/browser/bundlers.mjs; Firefox through geckodriver, firefox.mjs)
//   page             examples/browser driven in headless Chromium and Firefox
//                    (tests/browser/page.mjs); screenshots in test-output/browsers/page/
//   web-app          examples/web-app (signed upload URL, upload progress, access policy,
//                    serveTo) in Chromium and Firefox (tests/browser/web-app.mjs); screenshots
//                    in test-output/browsers/web-app/
// Browsers reach the emulator through tests/browser/cors-bucket.mjs, which answers CORS as
// a bucket configured as the README says; fake-gcs-server alone hides `Range`.
// Exports run(env) for scripts/test.mjs; `env` names the test servers (GCS_EMULATOR_URL,
// SIDECAR_URL, GATE_URL).

import fs from 'node:fs';
import path from 'node:path';
import { WASM_TEST_FEATURES, log, run as runCommand } from './lib.mjs';
import { OUTPUT, cargoCounter, scratchWithPackage, standalone, tally } from './stages.mjs';
import { startCorsBucket } from '../tests/browser/cors-bucket.mjs';
import { chromiumPath, chromiumSession, launchChromium } from '../tests/browser/chromium.mjs';
import { launchFirefox } from '../tests/browser/firefox.mjs';
import { bundlerSuites } from '../tests/browser/bundlers.mjs';
import { examplePage } from '../tests/browser/page.mjs';
import { webAppPage } from '../tests/browser/web-app.mjs';

const STAGE_DIR = path.join(OUTPUT, 'browsers');

function which(name, env) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The WebDriver server of `browser` (chrome or firefox): its variable, its path, its absence. */
const driverVar = (browser) => (browser === 'chrome' ? 'CHROMEDRIVER' : 'GECKODRIVER');
const driverPath = (browser, env) => env[driverVar(browser)] || which(driverVar(browser).toLowerCase(), env);
const noDriver = (browser) => `${driverVar(browser).toLowerCase()} not found (run scripts/setup.sh --browsers)`;

/** tests/emulator.rs in one browser; the emulator URL is baked in at compile time. */
async function rustInBrowser(browser, env, emulatorUrl) {
  const name = `wasm-pack test --headless --${browser}`;
  const driver = driverPath(browser, env);
  if (!driver) return { name, problem: noDriver(browser) };
  const counter = cargoCounter();
  const exit = await runCommand('wasm-pack', ['test', '--headless', `--${browser}`, '--mode', 'no-install', '--', ...WASM_TEST_FEATURES], {
    env: {
      ...env,
      GCS_EMULATOR_URL: emulatorUrl,
      WASM_BINDGEN_USE_BROWSER: '1',
      [driverVar(browser)]: driver,
      WASM_BINDGEN_TEST_TIMEOUT: env.WASM_BINDGEN_TEST_TIMEOUT || '60',
    },
    onLine: counter.onLine,
  });
  const suite = { name, passed: counter.counts.passed, failed: counter.counts.failed };
  if (counter.counts.results === 0) suite.problem = `no test result line (exit ${exit.code ?? exit.signal})`;
  else if (exit.code !== 0 && suite.failed === 0) suite.problem = `exited with ${exit.code ?? exit.signal}`;
  return suite;
}

export async function run(env) {
  fs.mkdirSync(STAGE_DIR, { recursive: true });
  const suites = [];
  const bucket = await startCorsBucket(env.GCS_EMULATOR_URL);
  let browser;
  let firefox;
  try {
    for (const name of ['chrome', 'firefox']) suites.push(await rustInBrowser(name, env, bucket.url));

    const { tarball, project } = await scratchWithPackage(path.join(STAGE_DIR, 'scratch'));
    if (!fs.existsSync(chromiumPath())) {
      suites.push({ name: 'bundles and page (Chromium)', problem: `${chromiumPath()} not found (run scripts/setup.sh --browsers)` });
    } else {
      browser = await launchChromium();
      // Firefox, when it starts, gets one session for the bundles and the examples alike.
      const inFirefox = [];
      const geckodriver = driverPath('firefox', env);
      if (!geckodriver) suites.push({ name: 'Firefox (bundles and examples)', problem: noDriver('firefox') });
      else {
        try {
          firefox = await launchFirefox(geckodriver);
          inFirefox.push({ name: 'Firefox', session: firefox });
        } catch (error) {
          suites.push({ name: 'Firefox (bundles and examples)', problem: error.message });
        }
      }
      const browsers = [{ name: 'Chromium', session: await chromiumSession(browser) }, ...inFirefox];
      const suiteEnv = { apiEndpoint: bucket.url, gateUrl: env.GATE_URL, sidecarUrl: env.SIDECAR_URL, bucket: 'test-bucket' };
      suites.push(...(await bundlerSuites({ project, browsers, env: suiteEnv, outDir: path.join(STAGE_DIR, 'bundles') })));
      // The example apps, each built and served once and driven in each browser: Chromium in a
      // page of the size its screenshots are taken at.
      const examples = [
        ['examples/browser', 'page', examplePage, { width: 900, height: 760 }],
        ['examples/web-app', 'web-app', webAppPage, { width: 900, height: 900 }],
      ];
      for (const [label, dirName, runExample, viewport] of examples) {
        const outDir = path.join(STAGE_DIR, dirName);
        fs.rmSync(outDir, { recursive: true, force: true });
        fs.mkdirSync(outDir, { recursive: true });
        try {
          const sessions = [{ name: 'Chromium', session: await chromiumSession(browser, { viewport }) }, ...inFirefox];
          for (const { browser: name, results } of await runExample({ tarball, browsers: sessions, env, outDir })) {
            suites.push({ name: `${label} (${name})`, passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length });
          }
          log(`${dirName}: screenshots in ${path.relative(process.cwd(), outDir)}/`);
        } catch (error) {
          suites.push({ name: label, problem: error.message });
        }
      }
    }
  } finally {
    await browser?.close();
    await firefox?.close();
    await bucket.stop();
  }
  log('browsers:');
  return tally(suites);
}

standalone(import.meta.url, run);
