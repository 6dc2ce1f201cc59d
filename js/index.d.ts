// Public types of replit-object-storage-wasm. A drop-in for @replit/object-storage 1.0.0:
// the same class, methods, options and result shapes, plus a typed `kind` on every error.

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

import type {
  ErrorKind,
  RequestError,
  Result,
  ClientOptions,
  CallOptions,
  DeleteOptions,
  DownloadOptions,
  ListOptions,
  ListPage,
  ListPageOptions,
  MetadataPatch,
  SetMetadataOptions,
  UploadOptions,
  UploadToUrl,
  DownloadFromUrl,
  StorageObject,
  CanAccessOptions,
  ObjectAclPolicy,
  ObjectMetadata,
  ObjectName,
  ServeOptions,
  ServeRequest,
  ObjectPaths,
  ObjectPathsEnvironment,
  PublicObject,
  CreateUploadUrlOptions,
  SignedUrl,
  SignedUrlMethod,
  SignUrlOptions,
  UploadUrl,
} from './types.js';

export * from './types.js';

/** Bodies `uploadFromStream` accepts: a Node stream or a web stream. */
export type UploadStream = Readable | ReadableStream<Uint8Array>;

export declare class Client {
  /** Does no I/O: the default bucket and credentials are fetched on first use. */
  constructor(options?: ClientOptions);

  /** Copies an object within the bucket, overwriting the destination. */
  copy(objectName: ObjectName, destObjectName: ObjectName, options?: CallOptions): Promise<Result<null, RequestError>>;

  /** Deletes an object. A missing object is an `ObjectNotFound` error unless `ignoreNotFound`. */
  delete(objectName: ObjectName, options?: DeleteOptions): Promise<Result<null, RequestError>>;

  /** The object's contents in one Buffer, inside a one-element array as in @replit/object-storage. */
  downloadAsBytes(objectName: ObjectName, options?: DownloadOptions): Promise<Result<[Buffer], RequestError>>;

  /** The object's contents decoded as UTF-8 (invalid bytes become U+FFFD; a BOM is kept). */
  downloadAsText(objectName: ObjectName, options?: DownloadOptions): Promise<Result<string, RequestError>>;

  /** Streams the object to a file. No file is left behind when the download fails. */
  downloadToFilename(
    objectName: ObjectName,
    destFilename: string,
    options?: DownloadOptions,
  ): Promise<Result<null, RequestError>>;

  /** A stream of the object's contents, returned at once; failures arrive as `StreamRequestError` 'error' events. */
  downloadAsStream(objectName: ObjectName, options?: DownloadOptions): Readable;

  /** Whether the object exists (false for a missing object or bucket). */
  exists(objectName: ObjectName, options?: CallOptions): Promise<Result<boolean, RequestError>>;

  /** Objects in the bucket, in lexicographic order of name, with their full metadata. */
  list(options: ListOptions & { withMetadata: true }): Promise<Result<Array<ObjectMetadata>, RequestError>>;
  /** Objects in the bucket, in lexicographic order of name. */
  list(options?: ListOptions): Promise<Result<Array<StorageObject>, RequestError>>;

  /** The object's metadata (`ObjectNotFound` when it does not exist). */
  getMetadata(objectName: ObjectName, options?: CallOptions): Promise<Result<ObjectMetadata, RequestError>>;

  /** Changes the metadata fields `metadata` names (a PATCH) and gives the object's metadata after it. */
  setMetadata(
    objectName: ObjectName,
    metadata: MetadataPatch,
    options?: SetMetadataOptions,
  ): Promise<Result<ObjectMetadata, RequestError>>;

  /** One page of a listing, each object with its metadata, and the prefixes a `delimiter` gives. */
  listPage(options?: ListPageOptions): Promise<Result<ListPage, RequestError>>;

  /** The object's access policy (`custom:aclPolicy`), or null when it has none. */
  getAclPolicy(objectName: ObjectName, options?: CallOptions): Promise<Result<ObjectAclPolicy | null, RequestError>>;

  /** Stores an access policy on the object, keeping its other metadata. */
  setAclPolicy(objectName: ObjectName, policy: ObjectAclPolicy, options?: CallOptions): Promise<Result<null, RequestError>>;

  /**
   * Whether a user may read or write the object under its policy: no policy, no access; a
   * public object can be read by anyone; the owner can do anything; rules grant their groups.
   */
  canAccess(objectName: ObjectName, options: CanAccessOptions): Promise<Result<boolean, RequestError>>;

  /**
   * A web `Response` serving the object to `request` as the npm `send` package would: ETag,
   * Last-Modified, one `Range` (206/416), conditional requests (304/412), HEAD. Never rejects:
   * a missing object is a 404 answer, other failures a 5xx with a short text body.
   */
  serve(objectName: ObjectName, request?: ServeRequest | null, options?: ServeOptions): Promise<Response>;

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

  /**
   * The first of the public search paths (`PUBLIC_OBJECT_SEARCH_PATHS`, in order) where
   * `relativePath` exists, or null when none has it. An unset `PUBLIC_OBJECT_SEARCH_PATHS` is
   * an `InvalidArgument` error naming it.
   */
  findPublic(relativePath: string, options?: CallOptions): Promise<Result<PublicObject | null, RequestError>>;

  /**
   * A URL, signed by the Replit sidecar, that lets whoever holds it use `method` (default GET)
   * on the object until `expiresAt`, with no token. Needs the sidecar: on Replit only.
   */
  signUrl<M extends SignedUrlMethod = 'GET'>(
    objectName: ObjectName,
    options?: SignUrlOptions<M>,
  ): Promise<Result<SignedUrl<M>, RequestError>>;

  /**
   * A signed PUT URL and the headers to send with it, for a browser to upload the object
   * without a token (the server keeps the decision of what may be uploaded where).
   */
  createUploadUrl(objectName: ObjectName, options?: CreateUploadUrlOptions): Promise<Result<UploadUrl, RequestError>>;

  /** Uploads bytes, overwriting any object of that name. */
  uploadFromBytes(
    objectName: ObjectName,
    contents: Uint8Array | ArrayBuffer | Blob,
    options?: UploadOptions,
  ): Promise<Result<null, RequestError>>;

  /** Uploads text as UTF-8, overwriting any object of that name. */
  uploadFromText(objectName: ObjectName, contents: string, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /** Streams a local file up, overwriting any object of that name. */
  uploadFromFilename(
    objectName: ObjectName,
    srcFilename: string,
    options?: UploadOptions,
  ): Promise<Result<null, RequestError>>;

  /** Streams a Node or web stream up. Rejects with a `StreamRequestError` on failure, as in @replit/object-storage. */
  uploadFromStream(objectName: ObjectName, stream: UploadStream, options?: UploadOptions): Promise<void>;
}

/** The error `downloadAsStream` emits and `uploadFromStream` rejects with. */
export declare class StreamRequestError extends Error {
  constructor(error: RequestError);
  /** `kind` of the underlying RequestError, for convenience. */
  readonly kind: ErrorKind;
  getRequestError(): RequestError;
}

/** Bytes of wasm linear memory in use: a diagnostic (transfers do not grow it with object size). */
export declare function wasmMemoryBytes(): number;

/** The CRC32C of bytes in GCS's form (base64 of the big-endian value, as an object's `crc32c` metadata gives it). */
export declare function crc32c(bytes: Uint8Array): string;

/** PUTs `body` to a signed URL, with upload progress (see `UploadToUrl`). */
export declare const uploadToUrl: UploadToUrl;

/** The bytes at a signed URL, or `range` of them (see `DownloadFromUrl`). */
export declare const downloadFromUrl: DownloadFromUrl<Buffer>;

/**
 * `PRIVATE_OBJECT_DIR` (required) and `PUBLIC_OBJECT_SEARCH_PATHS` (comma-separated
 * `/bucket/prefix` paths, or a JSON array; may be unset) of `env` (default: `process.env`).
 * A missing or malformed variable is an `InvalidArgument` error naming it.
 */
export declare function objectPaths(env?: ObjectPathsEnvironment): Result<ObjectPaths, RequestError>;
