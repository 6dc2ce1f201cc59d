// What scripts/build.mjs does after wasm-bindgen for the two web-target builds:
// - finishWebGlue (pkg/workerd and pkg/web): the ESM glue's loading cut to what the entries
//   pass (every entry hands the module to init itself), so no bundler emits, or looks for, a
//   .wasm beside it (the default `new URL('..._bg.wasm', import.meta.url)` is gone), and the
//   README and .gitignore (`*`, which would keep the folder out of npm pack) that an earlier
//   wasm-pack build left removed, and a package.json of `"type": "module"` written, as the glue
//   is an ES module in a `.js` file (Node before 20.19 and 22.12 reads such a file as CommonJS
//   unless told, and `import 'replit-object-storage-wasm/web'` there failed);
// - checkBrowserFeatures (pkg/web): the .wasm uses no WebAssembly feature beyond the browsers
//   the README names;
// - inlineWasm (pkg/web, the browser build): pkg/web/replit_object_storage_wasm_inline.js, the
//   .wasm gzipped by zopfli and then base64, which js/web/index.mjs decodes. The .wasm itself
//   stays in pkg/web for `npm run size` and tests/browser/delivery.mjs, and is not shipped.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, capture, kb, log } from './lib.mjs';
import { WASM_OPT } from './optimize-wasm.mjs';

export const WASM = 'replit_object_storage_wasm_bg.wasm';
export const GLUE = 'replit_object_storage_wasm.js';
export const INLINE = 'replit_object_storage_wasm_inline.js';
/** Says the folder's `.js` files are ES modules. */
export const MODULE_TYPE = 'package.json';
/**
 * wasm-bindgen's loading functions, each replaced by what the entries need: they pass the
 * module themselves (the .wasm's bytes from js/web, a compiled Module from js/workerd's
 * initSync), so the default `new URL('..._bg.wasm', import.meta.url)` (which bundlers would
 * follow and emit), fetching a URL, streaming a Response with its MIME-type fallback and
 * warning, and the deprecated-argument warning are left out.
 */
const REPLACED = {
  __wbg_load: `async function __wbg_load(module, imports) {
    const instance = await WebAssembly.instantiate(module, imports);
    return instance instanceof WebAssembly.Instance ? { instance, module } : instance;
}
`,
  __wbg_init_once: `async function __wbg_init_once({ module_or_path }) {
    const { instance, module } = await __wbg_load(module_or_path, __wbg_get_imports());
    return __wbg_finalize_init(instance, module);
}
`,
};

/** A top-level function declaration of the glue, up to its closing brace at column 0. */
const declaration = (name) => new RegExp(`^async function ${name}\\([^)]*\\) \\{\\n[\\s\\S]*?\\n\\}\\n`, 'gm');

/** Cuts the web glue in `dir` to the loading the entries use, and drops wasm-pack's leftover files. */
export function finishWebGlue(dir) {
  const gluePath = path.join(dir, GLUE);
  let glue = fs.readFileSync(gluePath, 'utf8');
  for (const [name, replacement] of Object.entries(REPLACED)) {
    const found = glue.match(declaration(name)) ?? [];
    if (found.length !== 1) throw new Error(`${gluePath}: async function ${name} was not found once`);
    glue = glue.replace(declaration(name), () => replacement);
  }
  if (glue.includes('import.meta.url')) throw new Error(`${gluePath}: a default .wasm URL is left`);
  fs.writeFileSync(gluePath, glue);
  for (const f of ['.gitignore', 'README.md']) fs.rmSync(path.join(dir, f), { force: true });
  fs.writeFileSync(path.join(dir, MODULE_TYPE), '{ "type": "module" }\n');
}

/**
 * The WebAssembly features the browser .wasm may use: those of the oldest browsers the README
 * names (Chrome 96, Firefox 113, Safari 16.4, set by reference types in Chrome and by
 * DecompressionStream in the others). Multi-value came in Chrome 85, Firefox 78, Safari 13.1;
 * bulk memory and non-trapping float-to-int in Chrome 75, Firefox 79 and 64, Safari 15; sign
 * extension before them.
 */
const BROWSER_FEATURES = [
  '--mvp-features',
  '--enable-bulk-memory',
  '--enable-multivalue',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-reference-types',
  '--enable-sign-ext',
];

/**
 * Fails the build when `dir`'s .wasm uses a feature those browsers lack, so that a toolchain
 * that starts emitting one (tail calls, exception handling, SIMD) is caught here, not in a page.
 */
export async function checkBrowserFeatures(dir) {
  const wasmPath = path.join(dir, WASM);
  try {
    await capture(WASM_OPT, [wasmPath, ...BROWSER_FEATURES, '--quiet', '-o', path.join(dir, '.features-check.wasm')]);
  } catch {
    throw new Error(`${path.relative(ROOT, wasmPath)} uses a WebAssembly feature beyond ${BROWSER_FEATURES.join(' ')} (see the validator's errors above): the README's oldest browsers would not load it`);
  } finally {
    fs.rmSync(path.join(dir, '.features-check.wasm'), { force: true });
  }
  log(`build: ${path.relative(ROOT, wasmPath)}: no WebAssembly feature beyond the README's oldest browsers'`);
}

/** Writes `dir`/replit_object_storage_wasm_inline.js from `dir`'s .wasm. */
export async function inlineWasm(dir) {
  const wasm = fs.readFileSync(path.join(dir, WASM));
  // Gzipped before base64: a page's server gzips the JS again, and gzip finds almost nothing
  // in base64 of raw wasm, so the inlined module would cost ~1.3x a separate .wasm file. Zopfli
  // writes gzip that any inflater reads (here DecompressionStream), 6% smaller than zlib's -9.
  // Imported here, not at the top: scripts/test.mjs loads this module before setup has
  // installed the npm dev dependencies on a fresh clone.
  const { default: zopfli } = await import('@gfx/zopfli');
  const gzipped = Buffer.from(await zopfli.gzipAsync(wasm, {}));
  if (!zlib.gunzipSync(gzipped).equals(wasm)) throw new Error('zopfli: the gzipped .wasm does not inflate to the .wasm');
  fs.writeFileSync(
    path.join(dir, INLINE),
    `// ${WASM}, gzipped (zopfli), base64 (generated by scripts/build-web.mjs)\nexport default ${JSON.stringify(
      gzipped.toString('base64'),
    )};\n`,
  );
  log(`build: ${path.relative(ROOT, path.join(dir, INLINE))}: the .wasm (${kb(wasm.length)}) gzipped by zopfli: ${kb(gzipped.length)}`);
}
