// Types of the entry for Cloudflare Workers (js/workerd/index.mjs): the web Client, in its
// server build (access policies and findPublic work here), plus objectPaths.
import type { EnvironmentVariables, ObjectPaths, ObjectPathsEnvironment, RequestError, Result } from '../types.js';

export * from '../web/index.js';

/**
 * `PRIVATE_OBJECT_DIR` and `PUBLIC_OBJECT_SEARCH_PATHS` of `env` (the Worker's `env`, the fetch
 * handler's second argument; default: `process.env` where the nodejs_compat flag fills it).
 */
export declare function objectPaths(env?: ObjectPathsEnvironment | EnvironmentVariables): Result<ObjectPaths, RequestError>;
