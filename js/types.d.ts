// Runtime-neutral public types of replit-object-storage-wasm: errors, results and options,
// shared by every entry (js/index.d.ts for Node, Deno and Bun; js/web/index.d.ts for
// browsers and Workers; js/auto.d.ts, one or the other, for the `default` condition). Nothing
// here needs Node's types. Every optional input accepts `undefined` (`?: T | undefined`), as the
// runtime does, for projects with `exactOptionalPropertyTypes`.

/** What went wrong, as a value a program can branch on (the same names as the Rust enum). */
export type ErrorKind =
  | 'ObjectNotFound'
  | 'BucketNotFound'
  | 'DefaultBucket'
  | 'Unauthorized'
  | 'Forbidden'
  | 'TooManyRequests'
  | 'PreconditionFailed'
  | 'InvalidArgument'
  | 'Network'
  | 'Timeout'
  | 'Aborted'
  | 'ServerError'
  | 'IntegrityMismatch'
  | 'LocalFile'
  | 'Unsupported'
  | 'Unknown';

/** A failed request. A plain object, as in @replit/object-storage, with a `kind` added. */
export interface RequestError {
  kind: ErrorKind;
  message: string;
  /** The HTTP status that caused the failure, when one did (uploads included). */
  statusCode?: number;
  /** How many tries were made, when the failure came after retries. */
  attempts?: number;
  /**
   * The call's `signal.reason`, when its signal stopped it: kind `Aborted`, or `Timeout` for a
   * `TimeoutError` reason (`AbortSignal.timeout(ms)`).
   */
  cause?: unknown;
}

export interface OkResult<T> {
  ok: true;
  value: T;
  error?: undefined;
}

export interface ErrResult<E, ErrorExtras = unknown> {
  ok: false;
  error: E;
  value?: undefined;
  errorExtras?: ErrorExtras;
}

export type Result<T, E = RequestError, ErrorExtras = unknown> =
  | OkResult<T>
  | ErrResult<E, ErrorExtras>;

/** Returns a bearer token for Google Cloud Storage; called before each request. */
export type AccessTokenProvider = () => string | Promise<string>;

export interface ClientOptions {
  /** The bucket to use. Default: the Repl's default bucket, asked of the sidecar on first use. */
  bucketId?: string | undefined;
  /**
   * Base URL of the GCS JSON API. Default: `https://storage.googleapis.com`, or in Node
   * the value of `STORAGE_EMULATOR_HOST` when that is set.
   */
  apiEndpoint?: string | undefined;
  /** Base URL of the Replit sidecar. Default: `http://127.0.0.1:1106`. */
  sidecarEndpoint?: string | undefined;
  /**
   * A bearer token, or a function returning one. When given, the sidecar is not asked for
   * tokens. Without it, tokens come from the sidecar, except against an emulator
   * (`STORAGE_EMULATOR_HOST`), where requests carry no credentials.
   */
  accessToken?: string | AccessTokenProvider | undefined;
  /** Retries after the first try of a transient failure (408, 429, 5xx, resets, timeouts). `0` turns retrying off. Default: 3. */
  maxRetries?: number | undefined;
  /** No retry starts later than this many ms after the first try. Default: 600000 (10 minutes). */
  retryDeadlineMs?: number | undefined;
  /** The first backoff ceiling in ms; it doubles each retry (full jitter). Default: 1000. */
  retryInitialDelayMs?: number | undefined;
  /** The largest backoff ceiling in ms. Default: 64000. */
  retryMaxDelayMs?: number | undefined;
  /**
   * Which calls are tried again after a transient failure, as `@google-cloud/storage`'s
   * `idempotencyStrategy`. `'conditional'` (default): reads always; deletes, copies, one-request
   * uploads and metadata changes only under their precondition (`ifGenerationMatch`, for a copy
   * of the destination; `ifMetagenerationMatch`). `'always'`: those without a precondition too.
   * `'never'`: nothing, reads included (a broken download is not resumed either). Any other value
   * is an `InvalidArgument` error on the first call.
   */
  retryStrategy?: 'conditional' | 'always' | 'never' | undefined;
  /** A try fails with kind `Timeout` when its answer, or the next chunk of a body, takes longer than this. Default: 60000. */
  requestTimeoutMs?: number | undefined;
  /** Chunk size of resumable uploads in bytes, rounded down to a multiple of 256 KiB. Default: 4 MiB for streams and files (each chunk is held in memory until sent), 16 MiB for bytes and Blobs. */
  uploadChunkSize?: number | undefined;
  /** Bodies of known size up to this many bytes go up in one request; larger ones resumably. Default: 8 MiB. */
  resumableThreshold?: number | undefined;
}

/** What a transfer has done so far; `total` is undefined while unknown. */
export interface Progress {
  /** Bytes moved so far. */
  bytes: number;
  /** The same number as `bytes`, under the name the browser's `ProgressEvent` gives it. */
  loaded: number;
  total?: number | undefined;
}

/** Options every method takes. */
export interface CallOptions {
  /** Cancels the call; it then resolves to an error of kind `Aborted`. */
  signal?: AbortSignal | undefined;
}

/** Options of methods that move bytes. */
export interface TransferOptions extends CallOptions {
  /** Called as bytes move, with `{bytes, total}`. */
  onProgress?: ((progress: Progress) => void) | undefined;
}

/**
 * Bytes of an object: `{start, end}` (offsets from 0, `end` inclusive as in HTTP; either may
 * be left out) or `{suffix: n}` (the last n bytes), never both (the runtime refuses a mix with
 * an `InvalidArgument` error).
 */
export type ByteRange =
  | { start?: number | undefined; end?: number | undefined; suffix?: undefined }
  | { suffix: number; start?: undefined; end?: undefined };

export interface DeleteOptions extends CallOptions {
  /** Succeed when the object does not exist. Default: false. */
  ignoreNotFound?: boolean | undefined;
  /**
   * Delete only while the object's generation is this; otherwise the call fails with
   * `PreconditionFailed`. Makes the call safe to retry (without it a transient failure is not
   * retried, unless `retryStrategy: 'always'`); a retry that finds the object gone succeeds.
   */
  ifGenerationMatch?: number | string | undefined;
}

export interface CopyOptions extends CallOptions {
  /**
   * Write the destination only while its generation is this (`0`: only if it does not exist
   * yet); otherwise `PreconditionFailed`. Makes the copy safe to retry (without it a transient
   * failure is not retried, unless `retryStrategy: 'always'`).
   */
  ifGenerationMatch?: number | string | undefined;
  /** Copy only while the source's generation is this; otherwise `PreconditionFailed`. */
  ifSourceGenerationMatch?: number | string | undefined;
}

export interface DownloadOptions extends TransferOptions {
  /**
   * Default: true. `false` asks for the stored bytes of a gzip-stored object; where the
   * runtime's `fetch` always decompresses (Node, browsers) that is an `Unsupported` error.
   */
  decompress?: boolean | undefined;
  /** Only these bytes. A range that starts past the end is an `InvalidArgument` error (416). */
  range?: ByteRange | undefined;
  /**
   * Told once per download whether its bytes were checked: `{verified: true, detail: 'crc32c …'}`,
   * or `{verified: false, detail: 'skipped: …'}` where no check applies (a range, a gzip-stored
   * object served decompressed, no checksum from the server).
   */
  onIntegrity?: ((check: { verified: boolean; detail: string }) => void) | undefined;
}

export interface ListOptions extends CallOptions {
  /** Only names lexicographically before this one. */
  endOffset?: string | undefined;
  /** Only names matching this glob, for example `**\/*.png`. */
  matchGlob?: string | undefined;
  /** At most this many objects. Default: all of them, following every page. */
  maxResults?: number | undefined;
  /** Only names that start with this. */
  prefix?: string | undefined;
  /** Only names equal to or after this one. */
  startOffset?: string | undefined;
  /** Give each object's full `ObjectMetadata` instead of just `{name}` (one request a page either way). Default: false. */
  withMetadata?: boolean | undefined;
}

/** One page of a listing: `list`'s filters, plus a delimiter and where to start. */
export interface ListPageOptions extends Omit<ListOptions, 'maxResults' | 'withMetadata'> {
  /**
   * Objects and prefixes on this page, at least 1. GCS serves at most 1000 a page: above
   * that the page holds 1000 and a `nextPageToken`. Default: the server's (GCS: 1000).
   */
  maxResults?: number | undefined;
  /**
   * Cut names at the first occurrence of this after the prefix (usually `'/'`): names that
   * continue past it are not listed, their common part is in `prefixes` (the "folders").
   */
  delimiter?: string | undefined;
  /** The `nextPageToken` of the previous page; without it, the first page. */
  pageToken?: string | undefined;
}

/** What `listPage` resolves to. */
export interface ListPage {
  /** This page's objects, in lexicographic order of name. */
  objects: ObjectMetadata[];
  /** With a `delimiter`: the names' common parts up to and including it ("folders"); else empty. */
  prefixes: string[];
  /** Pass as `pageToken` for the next page; absent on the last page. */
  nextPageToken?: string;
}

export interface UploadOptions extends TransferOptions {
  /** Gzip the contents before upload and store them with `contentEncoding: gzip`. Default: false. */
  compress?: boolean | undefined;
  /** Default: guessed from the object name's extension, else `application/octet-stream`. */
  contentType?: string | undefined;
  /**
   * Write only if the object's current generation is this (`0`: only if no such object
   * exists); otherwise the upload fails with `PreconditionFailed`. Makes one-request uploads
   * safe to retry.
   */
  ifGenerationMatch?: number | string | undefined;
  /** Upload resumably whatever the size (streams, files and large bodies always are). */
  resumable?: boolean | undefined;
  /** The length of a stream's contents, when known: gives progress its `total` (ignored with `compress`). */
  contentLength?: number | undefined;
  /** Custom metadata of the new object (values must be strings). */
  metadata?: Record<string, string> | undefined;
  /** `Cache-Control` that GCS serves the object with, for example `'public, max-age=3600'`. */
  cacheControl?: string | undefined;
  /** `Content-Disposition` that GCS serves the object with, for example `'attachment; filename="report.pdf"'`. */
  contentDisposition?: string | undefined;
}

export interface StorageObject {
  /** The name of the object, including its full path. */
  name: string;
}

/** An object name, or an object as `list` returns it. */
export type ObjectName = string | StorageObject;

/**
 * An object's metadata, with the field names of GCS's object resource (and of
 * `@google-cloud/storage`'s `getMetadata`). Fields the server did not send are absent.
 */
export interface ObjectMetadata {
  /** The object's full name. */
  name: string;
  bucket?: string;
  /** Bytes stored (for a gzip-stored object, the compressed size). */
  size?: number;
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  cacheControl?: string;
  etag?: string;
  /** The version of the object's data, a decimal string (it exceeds 2^53). */
  generation?: string;
  /** The version of its metadata, a decimal string; raised by every metadata change. */
  metageneration?: string;
  /** ISO 8601 time of creation of this generation. */
  timeCreated?: string;
  /** ISO 8601 time of the last change of data or metadata. */
  updated?: string;
  /** Base64 of the big-endian CRC32C of the stored bytes. */
  crc32c?: string;
  /** Base64 of the MD5 of the stored bytes (absent for composite objects). */
  md5Hash?: string;
  /** Custom metadata; an empty object when there is none. */
  metadata: Record<string, string>;
}

/**
 * What `setMetadata` changes: only the fields given. `null` clears `contentType`,
 * `contentDisposition` or `cacheControl`; under `metadata`, a `null` value removes that key
 * and keys not named are kept. Other fields cannot be changed (an `InvalidArgument` error).
 */
export interface MetadataPatch {
  contentType?: string | null | undefined;
  contentDisposition?: string | null | undefined;
  cacheControl?: string | null | undefined;
  /** Custom metadata keys to set (a string) or remove (`null`); an `undefined` value is ignored. */
  metadata?: Record<string, string | null | undefined> | undefined;
}

export interface SetMetadataOptions extends CallOptions {
  /**
   * Change the metadata only while its `metageneration` is this; otherwise the call fails with
   * `PreconditionFailed`. Makes the call safe to retry (without it a transient failure is not retried).
   */
  ifMetagenerationMatch?: number | string | undefined;
}

/** What an access rule grants; `write` implies `read`. */
export type ObjectPermission = 'read' | 'write';

/** A group of users, named by the app (as the generated `objectAcl.ts` names them). */
export interface ObjectAccessGroup {
  /** Which kind of group, as the app defines them (for example `'team'`). */
  type: string;
  id: string;
}

export interface ObjectAclRule {
  group: ObjectAccessGroup;
  permission: ObjectPermission;
}

/**
 * An object's access policy, stored as JSON under the custom metadata key `custom:aclPolicy`,
 * exactly as Replit's generated `objectAcl.ts` stores it.
 */
export interface ObjectAclPolicy {
  /** The user who may do anything with the object. */
  owner: string;
  /** `public`: anyone may read it. */
  visibility: 'public' | 'private';
  aclRules?: ObjectAclRule[] | undefined;
}

export interface CanAccessOptions extends CallOptions {
  /** The user asking; undefined for an anonymous visitor (who can only read public objects). */
  userId?: string | undefined;
  permission: ObjectPermission;
  /**
   * Whether `userId` belongs to `group`, for the policy's `aclRules` (may return a promise;
   * asked only for rules that grant enough, in order, until one says yes). Without it, rules
   * grant nothing.
   */
  isMember?: ((group: ObjectAccessGroup, userId: string) => boolean | Promise<boolean>) | undefined;
}

/**
 * Request headers as `serve` reads them: a `Headers`, or a plain object of names (in any case)
 * to values, as Node's `IncomingMessage.headers` is (repeated headers as arrays).
 */
export type ServeHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * The request `serve` answers: a `Request`, or anything with `method` and `headers` (Node's
 * `IncomingMessage`, Express's or Fastify's `req`). Without one, a plain GET.
 */
export interface ServeRequest {
  /** `GET` or `HEAD` (any other method is answered 405). Default: `GET`. */
  method?: string | undefined;
  /** `Range`, `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since` and `If-Range` are read. */
  headers?: ServeHeaders | undefined;
  /** A `Request`'s signal: when no `signal` option is given, it cancels the download. */
  signal?: AbortSignal | undefined;
}

export interface ServeOptions extends CallOptions {
  /** `Cache-Control` of the answer. Default: the object's own `cacheControl`, else `public, max-age=0` (as `send`). */
  cacheControl?: string | undefined;
  /**
   * Send `Content-Disposition: <disposition>; filename="…"` (with `filename*=UTF-8''…` for a
   * non-ASCII name). Default: `attachment` when `filename` is given; else the object's own
   * `contentDisposition`, if it has one.
   */
  disposition?: 'inline' | 'attachment' | undefined;
  /** The name a browser saves the object under. Default: the last `/`-separated segment of the object name. */
  filename?: string | undefined;
}

/** What `uploadToUrl` sends: a Blob (so a File), bytes, or a string (sent as UTF-8). */
export type UrlUploadBody = Blob | Uint8Array | ArrayBuffer | ArrayBufferView | string;

export interface UploadToUrlOptions extends TransferOptions {
  /**
   * Request headers: pass `createUploadUrl`'s `headers` (its `Content-Type`); a URL whose signer
   * signed headers needs exactly those. `x-goog-if-generation-match` makes the PUT safe to retry
   * after a transient failure, where the URL's signer signed that header (the Replit sidecar
   * signs none); without it the upload is sent once.
   */
  headers?: Record<string, string> | undefined;
}

export interface DownloadFromUrlOptions extends TransferOptions {
  /** Only these bytes. A range that starts past the end is an `InvalidArgument` error (416). */
  range?: ByteRange | undefined;
}

/**
 * `uploadToUrl`: PUTs `body` to a signed URL (from `createUploadUrl` or `signUrl` on your
 * server): no token is needed, the URL carries the authorisation. `onProgress` follows the bytes
 * as they go up (in browsers through XMLHttpRequest's upload events), ending with
 * `loaded === total`. Failures are results: a wrong or tampered signature or another method is
 * `Forbidden`, an expired URL `Forbidden` (status 400, the message says it expired), a network
 * failure `Network`, an abort `Aborted`, a bad URL, header or body `InvalidArgument`.
 */
export type UploadToUrl = (url: string, body: UrlUploadBody, options?: UploadToUrlOptions) => Promise<Result<null, RequestError>>;

/**
 * `downloadFromUrl`: the bytes at a signed URL (or `range` of them), retried and resumed like
 * `downloadAsBytes`. A missing object is `ObjectNotFound`; other failures as `uploadToUrl`'s.
 * `Bytes` is `Buffer` in Node, `Uint8Array` elsewhere.
 */
export type DownloadFromUrl<Bytes extends Uint8Array> = (url: string, options?: DownloadFromUrlOptions) => Promise<Result<Bytes, RequestError>>;

/** A folder of a bucket, from one of Replit's `/bucket/prefix` environment paths. */
export interface ObjectDir {
  bucketId: string;
  /** Without trailing `/`; empty for the whole bucket. Objects in it are named `${prefix}/…`. */
  prefix: string;
}

/** What `objectPaths()` reads from `PRIVATE_OBJECT_DIR` and `PUBLIC_OBJECT_SEARCH_PATHS`. */
export interface ObjectPaths {
  /** Where the app keeps private objects (uploads). */
  privateDir: ObjectDir;
  /** Where public objects are looked for, in order; empty when `PUBLIC_OBJECT_SEARCH_PATHS` is unset. */
  publicPaths: ObjectDir[];
}

/**
 * Environment variables, as `process.env` or a Worker's `env` holds them: the two that are read
 * (only string values count). Named properties rather than an index signature, so that an
 * interface such as the `Env` wrangler generates is accepted.
 */
export interface ObjectPathsEnvironment {
  readonly PRIVATE_OBJECT_DIR?: unknown;
  readonly PUBLIC_OBJECT_SEARCH_PATHS?: unknown;
}

/**
 * Any object of string variables, as `process.env` is typed: @types/node 18.19 and 24.0 declare
 * it with no property in common with `ObjectPathsEnvironment`'s two, which TypeScript then refuses.
 */
export interface EnvironmentVariables {
  readonly [name: string]: string | undefined;
}

/** Where `findPublic` found an object. */
export interface PublicObject {
  bucketId: string;
  /** The object's full name in that bucket (the search path's prefix, `/`, the relative path). */
  objectName: string;
}

/** The HTTP methods a signed URL can be made for. */
export type SignedUrlMethod = 'GET' | 'PUT' | 'DELETE' | 'HEAD';

/**
 * Any other option is `InvalidArgument`, naming it: the sidecar signs only the method, the object
 * and the expiry, and `@google-cloud/storage`'s `action` or `expires` must not pass unnoticed.
 */
export interface SignUrlOptions<M extends SignedUrlMethod = SignedUrlMethod> extends CallOptions {
  /** What the URL lets its holder do with the object. Default: `'GET'`. (Lower-case names are accepted too, as `fetch` accepts them.) */
  method?: M | undefined;
  /** How long the URL works, in whole seconds, from 1 to 604800 (7 days). Default: 900 (15 minutes). */
  expiresIn?: number | undefined;
}

/** What `signUrl` resolves to. */
export interface SignedUrl<M extends SignedUrlMethod = SignedUrlMethod> {
  /** The signed URL: whoever has it may use `method` on the object until `expiresAt`, with no token. */
  url: string;
  method: M;
  /** When the URL stops working. */
  expiresAt: Date;
}

/** Any other option is `InvalidArgument`, as for `signUrl`. */
export interface CreateUploadUrlOptions extends CallOptions {
  /**
   * The `Content-Type` the uploader is told to send (`headers`), which the object is stored
   * with. Default: guessed from the object name's extension, else `application/octet-stream`
   * (as uploads guess it). Not signed: the sidecar signs only the method, the object and the
   * expiry, so whoever holds the URL may send another type, and any size; check the stored
   * object (`getMetadata`) where it matters.
   */
  contentType?: string | undefined;
  /** How long the URL works, in whole seconds, from 1 to 604800 (7 days). Default: 900 (15 minutes). */
  expiresIn?: number | undefined;
}

/** What `createUploadUrl` resolves to: send `PUT url` with `headers` and the file as the body. */
export interface UploadUrl {
  url: string;
  method: 'PUT';
  /** The headers the uploader should send with the PUT (`Content-Type`: what the object is stored with). */
  headers: Record<string, string>;
  /** When the URL stops working. */
  expiresAt: Date;
}

/**
 * The `Client` methods every entry has, written once: `Bytes` is what downloads give (`Buffer`
 * in Node, `Uint8Array` elsewhere), `UploadBody` what `uploadFromBytes` takes, `DownloadStream`
 * what `downloadAsStream` returns (a Node `Readable` in Node, else a web stream) and
 * `UploadStream` what `uploadFromStream` takes (in Node a Node or web stream). Each entry's
 * `Client` class adds its constructor and what only it has (Node's `serveTo`).
 * Server-only methods (access policies, `findPublic`, `serve`, signing) resolve to
 * `Unsupported` in the browser build (`serve`: a 501 answer); they work in Node, Deno, Bun and
 * Workers, except signing, which needs the Replit sidecar (a server on Replit).
 */
export interface ClientApi<
  Bytes extends Uint8Array,
  UploadBody,
  DownloadStream = ReadableStream<Uint8Array>,
  UploadStream = ReadableStream<Uint8Array>,
> {
  /** Copies an object within the bucket, overwriting the destination. */
  copy(objectName: ObjectName, destObjectName: ObjectName, options?: CopyOptions): Promise<Result<null, RequestError>>;

  /** Deletes an object. A missing object is an `ObjectNotFound` error unless `ignoreNotFound`. */
  delete(objectName: ObjectName, options?: DeleteOptions): Promise<Result<null, RequestError>>;

  /** The object's contents in one buffer, inside a one-element array as in @replit/object-storage. */
  downloadAsBytes(objectName: ObjectName, options?: DownloadOptions): Promise<Result<[Bytes], RequestError>>;

  /** The object's contents decoded as UTF-8 (invalid bytes become U+FFFD; a BOM is kept). */
  downloadAsText(objectName: ObjectName, options?: DownloadOptions): Promise<Result<string, RequestError>>;

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

  /** The object's access policy (`custom:aclPolicy`), or null when it has none. Server-only. */
  getAclPolicy(objectName: ObjectName, options?: CallOptions): Promise<Result<ObjectAclPolicy | null, RequestError>>;

  /**
   * Stores an access policy on the object, keeping its other metadata; with
   * `ifMetagenerationMatch`, only while the metadata is that version (and then it is retried as
   * `setMetadata` is). Server-only.
   */
  setAclPolicy(objectName: ObjectName, policy: ObjectAclPolicy, options?: SetMetadataOptions): Promise<Result<null, RequestError>>;

  /**
   * Whether a user may read or write the object under its policy: no policy, no access; a
   * public object can be read by anyone; the owner can do anything; rules grant their groups.
   * Server-only.
   */
  canAccess(objectName: ObjectName, options: CanAccessOptions): Promise<Result<boolean, RequestError>>;

  /**
   * A web `Response` serving the object to `request` as the npm `send` package would: ETag,
   * Last-Modified, one `Range` (206/416), conditional requests (304/412), HEAD. Never rejects:
   * a missing object is a 404 answer, other failures a 5xx with a short text body. In a Worker,
   * `return client.serve(name, request)` from `fetch`. Server-only (the browser build answers 501).
   */
  serve(objectName: ObjectName, request?: ServeRequest | null, options?: ServeOptions): Promise<Response>;

  /**
   * The first of the public search paths (`PUBLIC_OBJECT_SEARCH_PATHS`, in order) where
   * `relativePath` exists, or null when none has it. An unset `PUBLIC_OBJECT_SEARCH_PATHS` is
   * an `InvalidArgument` error naming it. Server-only (Workers read `process.env`, filled from
   * the Worker's vars under the nodejs_compat flag).
   */
  findPublic(relativePath: string, options?: CallOptions): Promise<Result<PublicObject | null, RequestError>>;

  /**
   * A URL, signed by the Replit sidecar, that lets whoever holds it use `method` (default GET)
   * on the object until `expiresAt`, with no token. Needs the sidecar: on Replit only (in a
   * browser or a Worker, always `Unsupported`: sign on your server).
   */
  signUrl<M extends SignedUrlMethod = 'GET'>(
    objectName: ObjectName,
    options?: SignUrlOptions<M>,
  ): Promise<Result<SignedUrl<M>, RequestError>>;

  /**
   * A signed PUT URL and the headers to send with it, for a browser to upload the object
   * without a token (the server keeps the decision of what may be uploaded where). Needs the
   * sidecar, as `signUrl` does.
   */
  createUploadUrl(objectName: ObjectName, options?: CreateUploadUrlOptions): Promise<Result<UploadUrl, RequestError>>;

  /** Uploads bytes (or, where `UploadBody` allows, a Blob, a string or a stream), overwriting any object of that name. */
  uploadFromBytes(objectName: ObjectName, contents: UploadBody, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /** Uploads text as UTF-8, overwriting any object of that name. */
  uploadFromText(objectName: ObjectName, contents: string, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /** Streams a local file to the object (Node, Deno, Bun); elsewhere always an `Unsupported` error. */
  uploadFromFilename(objectName: ObjectName, srcFilename: string, options?: UploadOptions): Promise<Result<null, RequestError>>;

  /**
   * Streams the object to a file (Node, Deno, Bun): written beside it, flushed to disk and
   * renamed into place, so no file is left when it fails; a symbolic link is written through,
   * and a file replaced keeps its permissions. Elsewhere always `Unsupported`.
   */
  downloadToFilename(objectName: ObjectName, destFilename: string, options?: DownloadOptions): Promise<Result<null, RequestError>>;

  /**
   * A stream of the object's contents, returned at once; a failure errors it with a
   * `StreamRequestError` (in Node, as an 'error' event).
   */
  downloadAsStream(objectName: ObjectName, options?: DownloadOptions): DownloadStream;

  /**
   * Uploads a stream, resumably, in chunks of `uploadChunkSize` (so it works in browsers that
   * cannot stream a request body). Rejects with a `StreamRequestError` on failure, as in
   * @replit/object-storage.
   */
  uploadFromStream(objectName: ObjectName, stream: UploadStream, options?: UploadOptions): Promise<void>;
}

/** The error `downloadAsStream`'s stream fails with and `uploadFromStream` rejects with. */
export declare class StreamRequestError extends Error {
  constructor(error: RequestError);
  /** `kind` of the underlying RequestError, for convenience. */
  readonly kind: ErrorKind;
  getRequestError(): RequestError;
}
