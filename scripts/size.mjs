#!/usr/bin/env node
// npm run size   (after npm run build)
// What the browser build weighs, gzipped (level 9), beside @replit/object-storage: the .wasm
// (one file, shared by every entry), the web JS (wasm-bindgen glue + js/web), both as the
// package ships them (the .wasm inlined, gzipped by zopfli and in base64) and as they would be with the
// .wasm as an asset, and the browser entry as a production build emits it (esbuild, minified,
// the way the anchor is measured); then the wasm's sections, and the anchor SDK bundled with
// esbuild for Node and for browsers. Exits 1 when that production build is over BUDGET_GZ.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ROOT, kb, log } from './lib.mjs';

export const BUDGET_GZ = 64 * 1024;
const gz = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;
const read = (rel) => fs.readFileSync(path.join(ROOT, rel));

const FILES = {
  wasm: 'pkg/node/replit_object_storage_wasm_bg.wasm',
  glue: 'pkg/web/replit_object_storage_wasm.js',
  inline: 'pkg/web/replit_object_storage_wasm_inline.js',
  client: 'js/web/client.mjs',
  entry: 'js/web/index.mjs',
};

/** The wasm's sections by id (custom sections by name), in bytes. */
function sections(bytes) {
  const names = { 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export', 8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'data count' };
  const out = {};
  let at = 8;
  const leb = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    let name = names[id] ?? `id ${id}`;
    if (id === 0) {
      const start = at;
      const length = leb();
      name = `custom "${bytes.subarray(at, at + length).toString()}"`;
      at = start;
    }
    out[name] = (out[name] ?? 0) + size;
    at += size;
  }
  return out;
}

/** An ES module's source bundled and minified by esbuild (as a production build would), or why it could not be. */
async function minifiedBundle(contents, platform) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return { problem: 'esbuild is not installed' };
  }
  try {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: ROOT },
      bundle: true,
      minify: true,
      platform,
      format: 'esm',
      write: false,
      logLevel: 'silent',
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

export async function measure() {
  const missing = Object.values(FILES).filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run npm run build first`);
  const wasm = read(FILES.wasm);
  const js = Buffer.concat([read(FILES.glue), read(FILES.client), read(FILES.entry)]);
  const shipped = Buffer.concat([js, read(FILES.inline)]);
  const sizes = { wasm: { raw: wasm.length, gz: gz(wasm) }, js: { raw: js.length, gz: gz(js) } };
  return {
    ...sizes,
    asAsset: { gz: sizes.wasm.gz + sizes.js.gz },
    inlined: { raw: shipped.length, gz: gz(shipped) },
    bundled: await minifiedBundle(`export { Client } from './${FILES.entry}';`, 'browser'),
    sections: sections(wasm),
    anchorNode: await anchor('node'),
    anchorBrowser: await anchor('browser'),
  };
}

async function main() {
  const m = await measure();
  const row = (what, raw, gzipped) => log(`${what.padEnd(58)} ${raw === undefined ? ''.padStart(11) : kb(raw).padStart(11)} ${kb(gzipped).padStart(11)}`);
  log(`${'browser build (replit-object-storage-wasm)'.padEnd(58)} ${'raw'.padStart(11)} ${'gzip -9'.padStart(11)}`);
  row('  .wasm (one file for every entry)', m.wasm.raw, m.wasm.gz);
  row('  JS: wasm-bindgen glue + js/web', m.js.raw, m.js.gz);
  row('  .wasm + JS, the .wasm as a separate asset', undefined, m.asAsset.gz);
  row('  .wasm + JS as shipped (.wasm inlined: zopfli gzip, base64)', m.inlined.raw, m.inlined.gz);
  if (m.bundled.problem) log(`  in a minified bundle: ${m.bundled.problem}`);
  else row('  the same, minified by a bundler (esbuild)', m.bundled.raw, m.bundled.gz);
  log('');
  log('.wasm sections:');
  for (const [name, bytes] of Object.entries(m.sections).sort((a, b) => b[1] - a[1])) log(`  ${name.padEnd(24)} ${kb(bytes).padStart(11)}`);
  log('');
  log('@replit/object-storage 1.0.0 (bundled with esbuild, minified):');
  const anchorRow = (what, a) => (a.problem ? log(`  ${what}: ${a.problem}`) : row(`  ${what}`, a.raw, a.gz));
  anchorRow('for Node', m.anchorNode);
  anchorRow('for browsers', m.anchorBrowser);
  log('');
  if (m.bundled.problem) throw new Error(`the browser entry could not be bundled: ${m.bundled.problem}`);
  const over = m.bundled.gz - BUDGET_GZ;
  log(
    `budget: ${kb(BUDGET_GZ)} gzip for the browser build (.wasm + JS, minified as a production build): ` +
      `${kb(m.bundled.gz)}, ${over > 0 ? `OVER by ${kb(over)}` : `within it (${kb(-over)} to spare)`}`,
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
