// Headless Firefox through geckodriver, spoken to in W3C WebDriver over plain HTTP:
// playwright-core drives only its own patched Firefox builds, not Debian's, and the few
// commands a test page needs (open a URL, evaluate an expression, pick a file, take a
// screenshot) are a request or two each.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort } from '../support/servers.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** WebDriver's key for an element's id in its answers. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/**
 * Notes in `window.__pageErrors` what the page throws or leaves rejected from then on, unless
 * it is noted already. The bundle pages run it first thing; here it runs once a page has
 * loaded (WebDriver runs no script before a page's own, so errors while it loads are not seen).
 */
export const NOTE_PAGE_ERRORS =
  `(window.__pageErrors || (window.__pageErrors = [], ` +
  `addEventListener('error', (event) => __pageErrors.push(String(event.message))), ` +
  `addEventListener('unhandledrejection', (event) => __pageErrors.push('unhandled rejection: ' + String(event.reason)))), true)`;

/**
 * Starts geckodriver (`driverPath`) and one headless Firefox session. Resolves
 * `{ open(url), evaluate(expression), pickFile(selector, file), screenshot(file), errors(),
 * download(trigger), close() }`; `evaluate` returns the JSON value of a JavaScript expression
 * in the open page.
 */
export async function launchFirefox(driverPath) {
  const port = await getFreePort();
  // `--websocket-port 0`: each Firefox gets its own remote-agent port, so runs can overlap.
  const driver = spawn(driverPath, ['--host', '127.0.0.1', '--port', String(port), '--websocket-port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let driverLog = '';
  driver.stderr.on('data', (chunk) => {
    driverLog = (driverLog + chunk).slice(-2000);
  });
  const exited = new Promise((resolve) => driver.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;

  async function command(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`geckodriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  }

  try {
    for (let tries = 0; ; tries++) {
      try {
        if ((await command('GET', '/status')).ready) break;
      } catch (error) {
        if (tries >= 100 || driver.exitCode !== null) throw new Error(`geckodriver did not start: ${error.message} ${driverLog}`);
      }
      await sleep(100);
    }
    // Downloads go, without asking, to a folder of this session's.
    const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'firefox-downloads-'));
    const prefs = { 'browser.download.folderList': 2, 'browser.download.dir': downloads, 'browser.download.useDownloadDir': true };
    const { sessionId } = await command('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'firefox', 'moz:firefoxOptions': { args: ['-headless'], prefs } } },
    });
    const session = `/session/${sessionId}`;
    const evaluate = (expression) => command('POST', `${session}/execute/sync`, { script: `return (${expression});`, args: [] });
    return {
      async open(url) {
        await command('POST', `${session}/url`, { url });
        await evaluate(NOTE_PAGE_ERRORS);
      },
      evaluate,
      async pickFile(selector, file) {
        const element = await command('POST', `${session}/element`, { using: 'css selector', value: selector });
        await command('POST', `${session}/element/${element[ELEMENT]}/value`, { text: file });
      },
      async screenshot(file) {
        fs.writeFileSync(file, Buffer.from(await command('GET', `${session}/screenshot`), 'base64'));
      },
      errors: () => evaluate('window.__pageErrors ?? []'),
      /** Evaluates `trigger` and resolves the file it makes the page download: `{ name, bytes }`. */
      async download(trigger) {
        const before = new Set(fs.readdirSync(downloads));
        await evaluate(trigger);
        const deadline = Date.now() + 20_000;
        for (;;) {
          // Firefox writes a download beside its name, with `.part`, and renames it when done.
          const now = fs.readdirSync(downloads);
          const done = now.find((name) => !before.has(name));
          if (done && !now.some((name) => name.endsWith('.part'))) return { name: done, bytes: fs.readFileSync(path.join(downloads, done)) };
          if (Date.now() > deadline) throw new Error(`no download in ${downloads} after 20 s`);
          await sleep(100);
        }
      },
      async close() {
        await command('DELETE', session).catch(() => {});
        driver.kill();
        await exited;
        fs.rmSync(downloads, { recursive: true, force: true });
      },
    };
  } catch (error) {
    driver.kill();
    await exited;
    throw error;
  }
}
