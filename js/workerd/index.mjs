// The entry for Cloudflare Workers (workerd, and wrangler builds, which pick the `workerd`
// export condition). Workers may not compile WebAssembly from bytes at run time, so the
// .wasm is imported as a module, which wrangler and workerd compile ahead of time.
import { initSync } from '../../pkg/web/replit_object_storage_wasm.js';
import * as wasm from '../../pkg/web/replit_object_storage_wasm.js';
import module from '../../pkg/node/replit_object_storage_wasm_bg.wasm';
import { defineClient } from '../web/client.mjs';

export const { Client, StreamRequestError, uploadToUrl, downloadFromUrl } = defineClient(() => {
  initSync({ module });
  return wasm;
});
