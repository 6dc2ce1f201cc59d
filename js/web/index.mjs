// The entry for browsers (through a bundler) and any other runtime with fetch and no Node
// built-ins. The wasm is inlined (gzipped, in base64) so that every bundler takes it with no
// plugin and no loader setting; it is decoded, decompressed and compiled asynchronously on
// the first call. Why inlined rather than a separate asset: see the README, "How the .wasm
// reaches the page".
// Named imports, not the namespace: a bundler then leaves out what no entry calls (initSync).
import init, { Core, toRequestError, urlTransfer } from '../../pkg/web/replit_object_storage_wasm.js';
import inlined from '../../pkg/web/replit_object_storage_wasm_inline.js';
import { defineClient } from './client.mjs';

function fromBase64(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The .wasm's bytes, un-gzipped by the runtime's own DecompressionStream. */
async function wasmBytes() {
  if (typeof DecompressionStream !== 'function') {
    throw new Error('this runtime lacks DecompressionStream (browsers have it since 2023)');
  }
  const gzipped = new Blob([fromBase64(inlined)]).stream();
  return new Response(gzipped.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
}

export const { Client, StreamRequestError, uploadToUrl, downloadFromUrl } = defineClient(async () => {
  await init({ module_or_path: await wasmBytes() });
  return { Core, toRequestError, urlTransfer };
});
