// The ESM entry: the CommonJS module itself, so ESM and CJS users share one wasm instance
// and one StreamRequestError class.
import node from './index.cjs';

export const { Client, StreamRequestError, uploadToUrl, downloadFromUrl, wasmMemoryBytes, crc32c, objectPaths } = node;
