// Types of the package's `default` export condition, which TypeScript reaches under
// `"moduleResolution": "bundler"` (tsx, esbuild and Vite servers, TypeScript 7's
// `"module": "commonjs"`) whether the code runs in Node or a browser: the conditions that tell
// them apart (`node`, `browser`) are not among those TypeScript uses. So the project decides:
// where @types/node is part of the program (a Node project), these are the Node entry's types
// (Buffer, Node streams, serveTo, objectPaths); where it is not (a browser project), the
// browser entry's (Uint8Array, web streams). A project with both (a Next.js app) gets Node's,
// and imports `replit-object-storage-wasm/web` in browser code for the web's.

import type * as Node from './node/api.js';
import type * as Web from './web/index.js';
import type { UploadToUrl } from './types.js';

/**
 * Whether @types/node is part of the program, told by its global `Buffer`. (Not by whether
 * `node:stream` resolves: an unresolved import is an error type, which every type built on it
 * becomes, so a check on it answers neither true nor false.)
 */
type NodeTypes = typeof globalThis extends { Buffer: unknown } ? true : false;
/** `N` in a Node project, `W` in a browser project. */
type Flavour<N, W> = NodeTypes extends true ? N : W;

export * from './types.js';
export type { DownloadStreamErrors } from './node/api.js';
export type { UploadContents } from './web/index.js';
/** What downloads give: in Node a `Buffer`, in browsers a `Uint8Array` (each over an `ArrayBuffer`). */
export type DownloadedBytes = Flavour<Node.DownloadedBuffer, Web.DownloadedBytes>;

/** What `uploadFromStream` takes: in Node a Node or web stream, in browsers a web stream. */
export type UploadStream = Flavour<Node.UploadStream, ReadableStream<Uint8Array>>;
/** What `downloadAsStream` returns: in Node a `Readable`, in browsers a web `ReadableStream`. */
export type DownloadStream = Flavour<Node.DownloadStream, ReadableStream<Uint8Array>>;

export declare const Client: Flavour<typeof Node.Client, typeof Web.Client>;
export type Client = Flavour<Node.Client, Web.Client>;

/** PUTs `body` to a signed URL, with upload progress (see `UploadToUrl`). */
export declare const uploadToUrl: UploadToUrl;
/** The bytes at a signed URL, or `range` of them (see `DownloadFromUrl`): a Buffer in Node. */
export declare const downloadFromUrl: Flavour<typeof Node.downloadFromUrl, typeof Web.downloadFromUrl>;

/** Node only (see the Node entry): `never` in a browser project, where the browser entry lacks it. */
export declare const objectPaths: Flavour<typeof Node.objectPaths, never>;
/** Node only (see the Node entry): `never` in a browser project. */
export declare const crc32c: Flavour<typeof Node.crc32c, never>;
/** Node only (see the Node entry): `never` in a browser project. */
export declare const wasmMemoryBytes: Flavour<typeof Node.wasmMemoryBytes, never>;
