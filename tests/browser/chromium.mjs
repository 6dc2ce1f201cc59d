// Headless Debian Chromium through playwright-core, and a static file server for built pages.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** As root on a machine without outside network, Chromium needs all of these. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const chromiumPath = () => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Playwright gives every launch a fresh, empty profile directory. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * A fresh page of `browser` (`options`: Playwright's, such as `viewport`) as a session like
 * firefox.mjs's: open a URL, evaluate an expression, pick a file in a file input, take a
 * screenshot, catch a download, and the page's uncaught errors so far.
 */
export async function chromiumSession(browser, options = {}) {
  const page = await browser.newPage({ acceptDownloads: true, ...options });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    open: (url) => page.goto(url),
    evaluate: (expression) => page.evaluate(expression),
    pickFile: (selector, file) => page.setInputFiles(selector, file),
    screenshot: (file) => page.screenshot({ path: file }),
    /** Evaluates `trigger` and resolves the file it makes the page download: `{ name, bytes }`. */
    async download(trigger) {
      const [saved] = await Promise.all([page.waitForEvent('download'), page.evaluate(trigger)]);
      return { name: saved.suggestedFilename(), bytes: fs.readFileSync(await saved.path()) };
    },
    errors: async () => errors,
    close: () => page.close(),
  };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

/** Serves `dir` on a free port of 127.0.0.1; resolves `{url, close()}`. */
export function serveDir(dir) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections?.(); }),
      }),
    ),
  );
}
