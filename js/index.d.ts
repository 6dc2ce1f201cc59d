// Public types of replit-object-storage-wasm in Node (and Deno and Bun): a drop-in for
// @replit/object-storage 1.0.0, the same class, methods, options and result shapes, plus a
// typed `kind` on every error. Downloads give Buffers and Node streams, so @types/node is
// needed, as for @replit/object-storage. The declarations are in ./node/api.d.ts and
// ./types.d.ts (errors, results and options, shared by every entry).

/// <reference types="node" />

export * from './types.js';
export * from './node/api.js';
