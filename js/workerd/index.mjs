// The entry for Cloudflare Workers (workerd, and wrangler builds, which pick the `workerd`
// export condition). Workers may not compile WebAssembly from bytes at run time, so the
// .wasm is imported as a module, which wrangler and workerd compile ahead of time. It is the
// server build (access policies, findPublic and the rest), the same .wasm as Node's: only
// its ESM glue is Workers' own (pkg/workerd).
import { initSync } from '../../pkg/workerd/replit_object_storage_wasm.js';
import * as wasm from '../../pkg/workerd/replit_object_storage_wasm.js';
import module from '../../pkg/node/replit_object_storage_wasm_bg.wasm';
import { defineClient } from '../web/client.mjs';

function load() {
  initSync({ module }); // a no-op once the module is instantiated
  return wasm;
}

/** Under the nodejs_compat flag, Workers fill `process.env` from the Worker's vars. */
const processEnv = () => globalThis.process?.env;

export const { Client, StreamRequestError, uploadToUrl, downloadFromUrl } = defineClient(load, { environment: processEnv });

/**
 * PRIVATE_OBJECT_DIR and PUBLIC_OBJECT_SEARCH_PATHS of `env`: pass the Worker's `env` (the
 * fetch handler's second argument); without it, `process.env` where nodejs_compat fills it.
 */
export function objectPaths(env = processEnv()) {
  return load().objectPaths(env);
}
