// The entry for browsers (through a bundler) and any other runtime with fetch and no Node
// built-ins. The wasm is inlined (base64) so that every bundler takes it with no plugin and
// no loader setting; it is decoded and compiled asynchronously on the first call. Why
// inlined rather than a separate asset: see the README, "How the .wasm reaches the page".
import init, * as wasm from '../../pkg/web/replit_object_storage_wasm.js';
import base64 from '../../pkg/web/replit_object_storage_wasm_base64.js';
import { defineClient } from './client.mjs';

function decode(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export const { Client, StreamRequestError } = defineClient(async () => {
  await init({ module_or_path: decode(base64) });
  return wasm;
});
