#!/usr/bin/env node
// node tests/browser/delivery.mjs [--runs=5]   (after npm run build)
// Measures the two ways the .wasm can reach a page, to back the choice in the README:
//   inline  the package's browser entry: the .wasm inlined in the JS (gzipped, base64)
//   lazy    the browser entry loaded with import(), which every bundler splits into a chunk
//   asset   the same client with the .wasm as a separate file, fetched with
//           `new URL(..., import.meta.url)` and compiled while it streams in
// Both pages are built by Vite with no configuration from the npm-packed package, served
// gzip-compressed from localhost, and loaded in headless Chromium with the network and CPU
// throttled through the DevTools protocol. Reported: bytes transferred, and the median time
// from navigation to the page's own code running (`app`) and to the first call to the
// emulator resolving (`call`).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, kb, log, makeScratchProject, packInto, run } from '../../scripts/lib.mjs';
import { startServers } from '../support/servers.mjs';
import { startCorsBucket } from './cors-bucket.mjs';

const WORK = path.join(ROOT, 'test-output', 'delivery');
const PROFILES = [
  { name: 'unthrottled', latency: 0, down: -1, up: -1, cpu: 1 },
  { name: '4G, CPU /4', latency: 60, down: (9e6 / 8), up: (1.5e6 / 8), cpu: 4 },
  { name: 'slow 3G, CPU /4', latency: 400, down: (400e3 / 8), up: (400e3 / 8), cpu: 4 },
];

const PAGE = `<!doctype html><html><body><pre id="out">loading</pre><script type="module" src="./main.js"></script></body></html>\n`;
const APP = (imports) => `${imports}
const app = performance.now();
const params = new URLSearchParams(location.search);
const client = new Client({ bucketId: 'test-bucket', accessToken: 'unused', apiEndpoint: params.get('api') });
const result = await client.exists('delivery/none');
window.__timing = { app, call: performance.now(), ok: result.ok };
`;
const INLINE = APP(`import { Client } from 'replit-object-storage-wasm';`);
// The README's advice: load the client with import(), so the bundler splits it off and the
// page's own code does not wait for it.
const LAZY = APP('').replace('const client = new', "const { Client } = await import('replit-object-storage-wasm');\nconst client = new");
const PKG = './node_modules/replit-object-storage-wasm';
const ASSET = APP(`import init, * as wasm from '${PKG}/pkg/web/replit_object_storage_wasm.js';
import { defineClient } from '${PKG}/js/web/client.mjs';
const { Client } = defineClient(async () => {
  await init({ module_or_path: new URL('./replit_object_storage_wasm_bg.wasm', import.meta.url) });
  return wasm;
});`);

function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      return res.end();
    }
    const body = zlib.gzipSync(fs.readFileSync(file), { level: 9 });
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-encoding': 'gzip', 'cache-control': 'no-store' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function transferred(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
    }
  };
  walk(dir);
  return total;
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const runs = Number(/--runs=(\d+)/.exec(process.argv.slice(2).join(' '))?.[1] ?? 5);
  const { chromium } = await import('playwright-core');
  fs.rmSync(WORK, { recursive: true, force: true });
  const tarball = await packInto(path.join(WORK, 'pack'));
  const project = path.join(WORK, 'app');
  await makeScratchProject(project, tarball);
  fs.writeFileSync(path.join(project, 'index.html'), PAGE);
  // The browser build's .wasm, which the package ships only inlined: the asset page's file.
  fs.copyFileSync(path.join(ROOT, 'pkg', 'web', 'replit_object_storage_wasm_bg.wasm'), path.join(project, 'replit_object_storage_wasm_bg.wasm'));
  const variants = {};
  for (const [name, code] of [['inline', INLINE], ['lazy', LAZY], ['asset', ASSET]]) {
    fs.writeFileSync(path.join(project, 'main.js'), code);
    const outDir = path.join(WORK, `dist-${name}`);
    const { code: exit } = await run(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: project });
    if (exit !== 0) throw new Error(`vite build of the ${name} page failed`);
    variants[name] = { dir: outDir, files: fs.readdirSync(path.join(outDir, 'assets')), bytes: transferred(outDir) };
  }
  const servers = await startServers({ emulatorPort: 0, sidecarPort: 0, gatePort: 0, log: () => {} });
  const bucket = await startCorsBucket(servers.emulatorUrl);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const rows = [];
  try {
    for (const [name, variant] of Object.entries(variants)) {
      const server = await serve(variant.dir);
      const url = `http://127.0.0.1:${server.address().port}/index.html?api=${encodeURIComponent(bucket.url)}`;
      for (const profile of PROFILES) {
        const app = [];
        const call = [];
        for (let i = 0; i < runs; i++) {
          const context = await browser.newContext();
          const page = await context.newPage();
          const cdp = await context.newCDPSession(page);
          await cdp.send('Network.enable');
          await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
          await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: profile.latency, downloadThroughput: profile.down, uploadThroughput: profile.up });
          await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
          await page.goto(url);
          const timing = await page.waitForFunction(() => window.__timing, null, { timeout: 120_000 }).then((h) => h.jsonValue());
          if (!timing.ok) throw new Error(`${name}: the page's call failed`);
          app.push(timing.app);
          call.push(timing.call);
          await context.close();
        }
        rows.push({ variant: name, profile: profile.name, app: median(app), call: median(call) });
        log(`delivery: ${name.padEnd(6)} ${profile.name.padEnd(16)} app ${median(app).toFixed(0).padStart(5)} ms   first call ${median(call).toFixed(0).padStart(5)} ms`);
      }
      server.close();
    }
  } finally {
    await browser.close();
    await bucket.stop();
    await servers.stop();
  }
  log('');
  for (const [name, v] of Object.entries(variants)) log(`delivery: ${name}: ${v.files.join(', ')}; ${kb(v.bytes)} gzip in all`);
  log('');
  const names = Object.keys(variants);
  log(`| profile | ${names.map((n) => `${n}: app code runs | ${n}: first call`).join(' | ')} |`);
  log(`|---|${names.map(() => '---|---').join('|')}|`);
  for (const profile of PROFILES) {
    const cells = names.map((n) => rows.find((r) => r.variant === n && r.profile === profile.name));
    log(`| ${profile.name} | ${cells.map((c) => `${c.app.toFixed(0)} ms | ${c.call.toFixed(0)} ms`).join(' | ')} |`);
  }
}

main().catch((error) => {
  process.stderr.write(`delivery: ${error.stack ?? error}\n`);
  process.exit(1);
});
