#!/usr/bin/env node
// npm run size   (after npm run build)
// What each web entry weighs, gzipped (level 9), beside @replit/object-storage:
// - the browser entry (js/web, the build without the `server` feature): the .wasm, the JS
//   (wasm-bindgen glue + js/web), both as the package ships them (the .wasm inlined, gzipped
//   by zopfli and in base64) and as they would be with the .wasm as an asset, and as a
//   production build emits it (esbuild, minified, the way the anchor is measured), which the
//   budget (BUDGET_GZ) applies to;
// - the Workers entry (js/workerd, the server build, Node's .wasm imported as a module): the
//   .wasm and the Worker's JS as a bundler emits it (esbuild, the .wasm left as a module, as
//   wrangler does). Not budgeted: Workers take the .wasm as a module of its own;
// then the sections of both .wasm files, and the anchor SDK bundled with esbuild for Node and
// for browsers. Exits 1 when the browser entry's production build is over BUDGET_GZ.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ROOT, kb, log } from './lib.mjs';
import { Reader } from './optimize-wasm.mjs';

export const BUDGET_GZ = 64 * 1024;
const gz = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;
const read = (rel) => fs.readFileSync(path.join(ROOT, rel));

const FILES = {
  browser: {
    wasm: 'pkg/web/replit_object_storage_wasm_bg.wasm',
    js: ['pkg/web/replit_object_storage_wasm.js', 'js/shared/errors.mjs', 'js/shared/client-base.mjs', 'js/web/client.mjs', 'js/web/index.mjs'],
    inline: 'pkg/web/replit_object_storage_wasm_inline.js',
    entry: 'js/web/index.mjs',
  },
  workers: {
    wasm: 'pkg/node/replit_object_storage_wasm_bg.wasm',
    js: ['pkg/workerd/replit_object_storage_wasm.js', 'js/shared/errors.mjs', 'js/shared/client-base.mjs', 'js/web/client.mjs', 'js/workerd/index.mjs'],
    entry: 'js/workerd/index.mjs',
  },
};

/** The wasm's sections by id (custom sections by name), in bytes. */
function sections(bytes) {
  const names = { 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export', 8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'data count' };
  const out = {};
  const reader = new Reader(bytes, 8);
  while (reader.at < bytes.length) {
    const id = bytes[reader.at++];
    const size = reader.u32();
    let name = names[id] ?? `id ${id}`;
    if (id === 0) {
      const start = reader.at;
      const length = reader.u32();
      name = `custom "${bytes.subarray(reader.at, reader.at + length).toString()}"`;
      reader.at = start;
    }
    out[name] = (out[name] ?? 0) + size;
    reader.at += size;
  }
  return out;
}

/**
 * An ES module's source bundled and minified by esbuild (as a production build would), or why
 * it could not be. `wasmAsModule`: a `.wasm` import stays an import (wrangler's way).
 */
async function minifiedBundle(contents, platform, { wasmAsModule = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return { problem: 'esbuild is not installed' };
  }
  const plugins = wasmAsModule
    ? [{ name: 'wasm-modules', setup: (build) => build.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: args.path, external: true })) }]
    : [];
  try {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: ROOT },
      bundle: true,
      minify: true,
      platform,
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins,
    });
    const bytes = result.outputFiles[0].contents;
    return { raw: bytes.length, gz: gz(bytes) };
  } catch (error) {
    const errors = error.errors ?? [];
    const first = errors[0]?.text ?? error.message;
    return { problem: `cannot be bundled: ${errors.length} errors, first: ${first}` };
  }
}

/** The anchor SDK bundled by esbuild, or why it could not be. */
async function anchor(platform) {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', '@replit', 'object-storage'))) {
    return { problem: '@replit/object-storage is not installed' };
  }
  return minifiedBundle("export { Client } from '@replit/object-storage';", platform);
}

const sizeOf = (bytes) => ({ raw: bytes.length, gz: gz(bytes) });

export async function measure() {
  const all = Object.values(FILES).flatMap((f) => [f.wasm, ...f.js, f.inline ?? f.entry]);
  const missing = [...new Set(all)].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run npm run build first`);
  const { browser, workers } = FILES;
  const browserWasm = read(browser.wasm);
  const browserJs = Buffer.concat(browser.js.map(read));
  const workersWasm = read(workers.wasm);
  const browserSizes = { wasm: sizeOf(browserWasm), js: sizeOf(browserJs) };
  const workersBundle = await minifiedBundle(`export * from './${workers.entry}';`, 'neutral', { wasmAsModule: true });
  return {
    browser: {
      ...browserSizes,
      asAsset: { gz: browserSizes.wasm.gz + browserSizes.js.gz },
      inlined: sizeOf(Buffer.concat([browserJs, read(browser.inline)])),
      bundled: await minifiedBundle(`export { Client } from './${browser.entry}';`, 'browser'),
      sections: sections(browserWasm),
    },
    workers: {
      wasm: sizeOf(workersWasm),
      js: sizeOf(Buffer.concat(workers.js.map(read))),
      bundled: workersBundle,
      total: workersBundle.problem ? undefined : { gz: workersBundle.gz + gz(workersWasm) },
      sections: sections(workersWasm),
    },
    anchorNode: await anchor('node'),
    anchorBrowser: await anchor('browser'),
  };
}

async function main() {
  const m = await measure();
  const { browser, workers } = m;
  const row = (what, raw, gzipped) => log(`${what.padEnd(62)} ${raw === undefined ? ''.padStart(11) : kb(raw).padStart(11)} ${kb(gzipped).padStart(11)}`);
  const bundledRow = (what, bundle) => (bundle.problem ? log(`  ${what}: ${bundle.problem}`) : row(`  ${what}`, bundle.raw, bundle.gz));
  log(`${'browser entry (js/web: no server features)'.padEnd(62)} ${'raw'.padStart(11)} ${'gzip -9'.padStart(11)}`);
  row('  .wasm (pkg/web)', browser.wasm.raw, browser.wasm.gz);
  row('  JS: wasm-bindgen glue + js/web', browser.js.raw, browser.js.gz);
  row('  .wasm + JS, the .wasm as a separate asset', undefined, browser.asAsset.gz);
  row('  .wasm + JS as shipped (.wasm inlined: zopfli gzip, base64)', browser.inlined.raw, browser.inlined.gz);
  bundledRow('the same, minified by a bundler (esbuild)', browser.bundled);
  log('');
  log('Workers entry (js/workerd: server features, the .wasm as a module)');
  row("  .wasm (pkg/node's, shared with Node)", workers.wasm.raw, workers.wasm.gz);
  row('  JS: wasm-bindgen glue + js/web/client + js/workerd', workers.js.raw, workers.js.gz);
  bundledRow('the JS minified by a bundler (esbuild, the .wasm external)', workers.bundled);
  if (workers.total) row('  .wasm + minified JS', undefined, workers.total.gz);
  log('');
  const saved = workers.wasm.gz - browser.wasm.gz;
  log(`server-only code left out of the browser .wasm: ${kb(workers.wasm.raw - browser.wasm.raw)} raw, ${kb(saved)} gzip`);
  log('');
  for (const [name, entry] of [['browser', browser], ['Workers/Node', workers]]) {
    log(`${name} .wasm sections:`);
    for (const [section, bytes] of Object.entries(entry.sections).sort((a, b) => b[1] - a[1])) log(`  ${section.padEnd(24)} ${kb(bytes).padStart(11)}`);
  }
  log('');
  log('@replit/object-storage 1.0.0 (bundled with esbuild, minified):');
  const anchorRow = (what, a) => (a.problem ? log(`  ${what}: ${a.problem}`) : row(`  ${what}`, a.raw, a.gz));
  anchorRow('for Node', m.anchorNode);
  anchorRow('for browsers', m.anchorBrowser);
  log('');
  if (browser.bundled.problem) throw new Error(`the browser entry could not be bundled: ${browser.bundled.problem}`);
  if (workers.bundled.problem) throw new Error(`the Workers entry could not be bundled: ${workers.bundled.problem}`);
  const over = browser.bundled.gz - BUDGET_GZ;
  log(
    `budget: ${kb(BUDGET_GZ)} gzip for the browser entry (.wasm + JS, minified as a production build): ` +
      `${kb(browser.bundled.gz)}, ${over > 0 ? `OVER by ${kb(over)} (${over} bytes)` : `within it (${kb(-over)}, ${-over} bytes, to spare)`}`,
  );
  return over > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`size: ${error.message}\n`);
      process.exit(2);
    },
  );
}
