// The Node flavour of the Client (Buffer, Node streams, serveTo) and the Node entry's
// functions. Two files load it: js/index.d.ts, the Node entry's types, which first requires
// @types/node; and js/auto.d.ts, the types of the `default` condition, which loads it in every
// project, browser projects without @types/node included. So Node's types come in through the
// imports below, each allowed to fail: without @types/node they are `any` here, and
// js/auto.d.ts then chooses the web flavour instead.

// @ts-ignore: resolves where @types/node is part of the program (see above)
import type { Buffer } from 'node:buffer';
// @ts-ignore: as above
import type { ServerResponse } from 'node:http';
// @ts-ignore: as above
import type { Readable } from 'node:stream';

import type {
  ClientApi,
  ClientOptions,
  ObjectName,
  RequestError,
  Result,
  ServeOptions,
  ServeRequest,
  StreamRequestError,
  UploadToUrl,
  DownloadFromUrl,
  ObjectPaths,
  ObjectPathsEnvironment,
  EnvironmentVariables,
} from '../types.js';

/**
 * What downloads give in Node: a `Buffer` over an `ArrayBuffer` (`Buffer<ArrayBuffer>` where
 * @types/node's Buffer is generic), which `new Blob([bytes])` and `crypto.subtle` accept.
 */
export type DownloadedBuffer = ReturnType<typeof Buffer.alloc>;

/** Bodies `uploadFromStream` accepts: a Node stream or a web stream. */
export type UploadStream = Readable | ReadableStream<Uint8Array>;

/** The 'error' listeners of the stream `downloadAsStream` returns: they receive a `StreamRequestError`. */
export interface DownloadStreamErrors {
  on(event: 'error', listener: (error: StreamRequestError) => void): this;
  once(event: 'error', listener: (error: StreamRequestError) => void): this;
  addListener(event: 'error', listener: (error: StreamRequestError) => void): this;
  prependListener(event: 'error', listener: (error: StreamRequestError) => void): this;
  prependOnceListener(event: 'error', listener: (error: StreamRequestError) => void): this;
}

/** What `downloadAsStream` returns: a Node `Readable` whose 'error' events carry a `StreamRequestError`. */
export type DownloadStream = DownloadStreamErrors & Readable;

/** The methods every entry shares (see `ClientApi`), with Node's `Buffer` and streams. */
export interface Client extends ClientApi<DownloadedBuffer, Uint8Array | ArrayBuffer | Blob, DownloadStream, UploadStream> {}

export declare class Client {
  /** Does no I/O: the default bucket and credentials are fetched on first use. */
  constructor(options?: ClientOptions);

  /**
   * Writes the answer `serve` would give to a Node `ServerResponse` (node:http, Express,
   * Fastify's `reply.raw`), streaming the body with backpressure. Resolves to the failure the
   * answer stood for (a 404 is `ObjectNotFound`), or `Aborted` when the client went away (the
   * download is then stopped); a download that fails after the headers went out destroys `res`.
   */
  serveTo(
    res: ServerResponse,
    objectName: ObjectName,
    req?: ServeRequest | null,
    options?: ServeOptions,
  ): Promise<Result<null, RequestError>>;
}

/** Bytes of wasm linear memory in use: a diagnostic (transfers do not grow it with object size). */
export declare function wasmMemoryBytes(): number;

/** The CRC32C of bytes in GCS's form (base64 of the big-endian value, as an object's `crc32c` metadata gives it). */
export declare function crc32c(bytes: Uint8Array): string;

/** PUTs `body` to a signed URL, with upload progress (see `UploadToUrl`). */
export declare const uploadToUrl: UploadToUrl;

/** The bytes at a signed URL, or `range` of them (see `DownloadFromUrl`). */
export declare const downloadFromUrl: DownloadFromUrl<DownloadedBuffer>;

/**
 * `PRIVATE_OBJECT_DIR` (required) and `PUBLIC_OBJECT_SEARCH_PATHS` (comma-separated
 * `/bucket/prefix` paths, or a JSON array; may be unset) of `env` (default: `process.env`).
 * A missing or malformed variable is an `InvalidArgument` error naming it.
 */
export declare function objectPaths(env?: ObjectPathsEnvironment | EnvironmentVariables): Result<ObjectPaths, RequestError>;
