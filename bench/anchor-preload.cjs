'use strict';
// Preloaded (`node --require bench/anchor-preload.cjs`) into the processes that measure
// @replit/object-storage 1.0.0 against the local emulator.
//
// @replit/object-storage builds `new Storage({credentials: REPLIT_ADC, projectId: ''})` and
// offers no way to pass an endpoint. @google-cloud/storage reads STORAGE_EMULATOR_HOST
// inconsistently (JSON API calls go to `$STORAGE_EMULATOR_HOST/b/...` without `/storage/v1`,
// uploads to `$STORAGE_EMULATOR_HOST/upload/storage/v1/...`), so instead this gives every
// `Storage` an `apiEndpoint` (from $BENCH_ANCHOR_API_ENDPOINT). With a custom endpoint,
// @google-cloud/storage skips authentication (`useAuthWithCustomEndpoint` defaults to false),
// exactly as replit-object-storage-wasm does under STORAGE_EMULATOR_HOST: neither client asks
// the sidecar for tokens, so both do comparable work.
//
// The patch is applied when @google-cloud/storage is first required (not here), so the
// anchor's import time is measured where it happens. It covers the CommonJS build only: the
// bench loads the anchor with require().

const Module = require('node:module');
const path = require('node:path');

const endpoint = process.env.BENCH_ANCHOR_API_ENDPOINT;
if (!endpoint) throw new Error('anchor-preload: BENCH_ANCHOR_API_ENDPOINT is not set');
if (process.env.STORAGE_EMULATOR_HOST) {
  throw new Error('anchor-preload: unset STORAGE_EMULATOR_HOST (it would override the JSON API base without /storage/v1)');
}

const originalLoad = Module._load;
let patched = false;

Module._load = function load(request, parent, isMain) {
  const exports = originalLoad.apply(this, arguments);
  if (!patched && request === '@google-cloud/storage') {
    patched = true;
    Module._load = originalLoad;
    // The package's index re-exports Storage through a getter on ./storage.js's exports;
    // replacing it there changes what `require('@google-cloud/storage').Storage` returns.
    const indexFile = Module._resolveFilename(request, parent, isMain);
    const storageModule = require(path.join(path.dirname(indexFile), 'storage.js'));
    const Base = storageModule.Storage;
    class Storage extends Base {
      constructor(options = {}) {
        super({ ...options, apiEndpoint: options.apiEndpoint ?? endpoint });
      }
    }
    storageModule.Storage = Storage;
    if (exports.Storage !== Storage) throw new Error('anchor-preload: could not patch @google-cloud/storage Storage');
  }
  return exports;
};
