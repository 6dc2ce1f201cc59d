// Types of the entries for browsers (js/web/index.mjs) and Cloudflare Workers
// (js/workerd/index.mjs): the same Client as in Node, with web types in place of Buffer and
// Node streams. Errors, results and options are the shared ones of ../types.d.ts.

import type {
  CallOptions,
  ClientOptions,
  CreateUploadUrlOptions,
  SignedUrl,
  SignedUrlMethod,
  SignUrlOptions,
  UploadUrl,
  DeleteOptions,
  DownloadOptions,
  ErrorKind,
  ListOptions,
  ListPage,
  ListPageOptions,
  MetadataPatch,
  CanAccessOptions,
  ObjectAclPolicy,
  ObjectMetadata,
  ObjectName,
  PublicObject,
  RequestError,
  Result,
  ServeOptions,
  ServeRequest,
  SetMetadataOptions,
  StorageObject,
  UploadOptions,
  UploadToUrl,
  DownloadFromUrl,
} from '../types.js';

export type {
  AccessTokenProvider,
  ByteRange,
  CallOptions,
  ClientOptions,
  CreateUploadUrlOptions,
  SignedUrl,
  SignedUrlMethod,
  SignUrlOptions,
  UploadUrl,
  DeleteOptions,
  DownloadOptions,
  ErrResult,
  ErrorKind,
  ListOptions,
  ListPage,
  ListPageOptions,
  MetadataPatch,
  CanAccessOptions,
  ObjectAccessGroup,
  ObjectAclPolicy,
  ObjectAclRule,
  ObjectPermission,
  ObjectMetadata,
  ObjectName,
  ObjectDir,
  ObjectPaths,
  ObjectPathsEnvironment,
  PublicObject,
  OkResult,
  Progress,
  RequestError,
  Result,
  ServeHeaders,
  ServeOptions,
  ServeRequest,
  SetMetadataOptions,
  StorageObject,
  TransferOptions,
  UploadOptions,
  UploadToUrlOptions,
  DownloadFromUrlOptions,
  UrlUploadBody,
  UploadToUrl,
  DownloadFromUrl,
} from '../types.js';

/** What the upload methods take: bytes, a Blob (so a File), a string, or a web stream of bytes. */
export type UploadContents = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string | ReadableStream<Uint8Array>;

export declare class Client {
  /**
   * Does no I/O: the wasm module loads on the first call. There is no Replit sidecar in a
   * browser or a Worker, so give `bucketId` (else every call fails with kind
   * `DefaultBucket`) and `accessToken`: a token string, or an async function that gets one
   * from your server (else every call fails with kind `InvalidArgument`).
   */
  constructor(options?: ClientOptions);

  /** Copies an object within the bucket, overwriting the destination. */
  copy(objectName: ObjectName, destObjectName: ObjectName, options?: CallOptions): Promise<Result<null, RequestError>>;

  /** Deletes an object. A missing object is an `ObjectNotFound` error unless `ignoreNotFound`. */
  delete(objectName: ObjectName, options?: DeleteOptions): Promise<Result<null, RequestError>>;

  /** The object's contents in one Uint8Array, inside a one-element array as in @replit/object-storage. */
  downloadAsBytes(objectName: ObjectName, options?: DownloadOptions): Promise<Result<[Uint8Array], RequestError>>;

  /** The object's contents decoded as UTF-8 (invalid bytes become U+FFFD; a BOM is kept). */
  downloadAsText(objectName: ObjectName, options?: DownloadOptions): Promise<Result<string, RequestError>>;

  /** Always an `Unsupported` error here: there is no file system. Use `downloadAsBytes` or `downloadAsStream`. */
  downloadToFilename(
    objectName: ObjectName,
    destFilename: string,
    options?: DownloadOptions,
  ): Promise<Result<null, RequestError>>;

  /** A web stream of the object's contents, returned at once; a failure errors it with a `StreamRequestError`. */
  downloadAsStream(objectName: ObjectName, options?: DownloadOptions): ReadableStream<Uint8Array>;

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

  /** The object's access policy (`custom:aclPolicy`), or null when it has none. Server-only: in the browser build, `Unsupported` (decide access on a server); in Workers it works. */
  getAclPolicy(objectName: ObjectName, options?: CallOptions): Promise<Result<ObjectAclPolicy | null, RequestError>>;

  /** Stores an access policy on the object, keeping its other metadata. Server-only: in the browser build, `Unsupported` (decide access on a server); in Workers it works. */
  setAclPolicy(objectName: ObjectName, policy: ObjectAclPolicy, options?: CallOptions): Promise<Result<null, RequestError>>;

  /**
   * Whether a user may read or write the object under its policy: no policy, no access; a
   * public object can be read by anyone; the owner can do anything; rules grant their groups. Server-only: in the browser build, `Unsupported` (decide access on a server); in Workers it works.
   */
  canAccess(objectName: ObjectName, options: CanAccessOptions): Promise<Result<boolean, RequestError>>;

  /**
   * A web `Response` serving the object to `request` as the npm `send` package would: ETag,
   * Last-Modified, one `Range` (206/416), conditional requests (304/412), HEAD. Never rejects:
   * a missing object is a 404 answer, other failures a 5xx with a short text body. In a Worker,
   * `return client.serve(name, request)` from `fetch`. In the browser build (no server
   * features) it resolves to a 501 answer saying so.
   */
  serve(objectName: ObjectName, request?: ServeRequest | null, options?: ServeOptions): Promise<Response>;

  /**
   * The first public search path (`PUBLIC_OBJECT_SEARCH_PATHS`) holding `relativePath`, or
   * null. Server-only: in the browser build, `Unsupported`; in Workers it reads `process.env`
   * (filled from the Worker's vars under the nodejs_compat flag).
   */
  findPublic(relativePath: string, options?: CallOptions): Promise<Result<PublicObject | null, RequestError>>;

  /**
   * A URL, signed by the Replit sidecar, that lets whoever holds it use `method` (default GET)
   * on the object until `expiresAt`, with no token. Needs the sidecar: on Replit only. In a browser or a Worker: always `Unsupported` (sign on your server).
   */
  signUrl<M extends SignedUrlMethod = 'GET'>(
    objectName: ObjectName,
    options?: SignUrlOptions<M>,
  ): Promise<Result<SignedUrl<M>, RequestError>>;

  /**
   * A signed PUT URL and the headers to send with it, for a browser to upload the object
   * without a token (the server keeps the decision of what may be uploaded where). In a browser or a Worker: always `Unsupported` (sign on your server).
   */
  createUploadUrl(objectName: ObjectName, options?: CreateUploadUrlOptions): Promise<Result<UploadUrl, RequestError>>;

  /** Uploads bytes, a Blob or File (read a chunk at a time), a string or a stream, overwriting. */
  uploadFromBytes(objectName: ObjectName, contents: UploadContents, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /** Uploads text as UTF-8, overwriting any object of that name. */
  uploadFromText(objectName: ObjectName, contents: string, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /** Always an `Unsupported` error here: there is no file system. Pass a File to `uploadFromBytes` instead. */
  uploadFromFilename(
    objectName: ObjectName,
    srcFilename: string,
    options?: UploadOptions,
  ): Promise<Result<null, RequestError>>;

  /**
   * Uploads a web stream of bytes, resumably, in chunks of `uploadChunkSize` (so it works in
   * browsers that cannot stream a request body). Rejects with a `StreamRequestError` on failure.
   */
  uploadFromStream(objectName: ObjectName, stream: ReadableStream<Uint8Array>, options?: UploadOptions): Promise<void>;
}

/** The error `downloadAsStream` errors its stream with and `uploadFromStream` rejects with. */
export declare class StreamRequestError extends Error {
  constructor(error: RequestError);
  /** `kind` of the underlying RequestError, for convenience. */
  readonly kind: ErrorKind;
  getRequestError(): RequestError;
}

/** PUTs `body` to a signed URL, with upload progress (see `UploadToUrl`). */
export declare const uploadToUrl: UploadToUrl;

/** The bytes at a signed URL, or `range` of them (see `DownloadFromUrl`). */
export declare const downloadFromUrl: DownloadFromUrl<Uint8Array>;
