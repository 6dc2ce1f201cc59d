// A Cloudflare Worker that runs the public-API suite (web flavour) with the package's
// `workerd` entry, and answers with the results as JSON. scripts/test-runtimes.mjs bundles
// it as wrangler does (esbuild, conditions workerd/worker/browser, the .wasm kept as a
// module of its own) and serves it with workerd.
import * as storage from 'replit-object-storage-wasm';
import { runSuite } from './suite.mjs';

export default {
  async fetch(request, env) {
    const lines = [];
    const outcome = await runSuite({ ...storage, flavour: 'web', env: JSON.parse(env.SUITE_ENV), log: (line) => lines.push(line) });
    return Response.json({ ...outcome, lines });
  },
};
