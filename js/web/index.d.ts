// Types of the entries for browsers (js/web/index.mjs) and Cloudflare Workers
// (js/workerd/index.mjs): the same Client as in Node, with web types in place of Buffer and
// Node streams. Errors, results and options are the shared ones of ../types.d.ts.

import type { ClientApi, ClientOptions, UploadToUrl, DownloadFromUrl } from '../types.js';

export type {
  AccessTokenProvider,
  ClientApi,
  ByteRange,
  CallOptions,
  ClientOptions,
  CopyOptions,
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
  EnvironmentVariables,
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

/**
 * What downloads give: a `Uint8Array` over an `ArrayBuffer` (`Uint8Array<ArrayBuffer>` in
 * TypeScript 5.7 and later, where the type is generic), which `new Blob([bytes])` and
 * `crypto.subtle` accept.
 */
export type DownloadedBytes = ReturnType<Uint8Array['slice']>;

/** What the upload methods take: bytes, a Blob (so a File), a string, or a web stream of bytes. */
export type UploadContents = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string | ReadableStream<Uint8Array>;

/** The methods every entry shares (see `ClientApi`), with `Uint8Array` and web streams. */
export interface Client extends ClientApi<DownloadedBytes, UploadContents, ReadableStream<Uint8Array>, ReadableStream<Uint8Array>> {}

export declare class Client {
  /**
   * Does no I/O: the wasm module loads on the first call. There is no Replit sidecar in a
   * browser or a Worker, so give `bucketId` (else every call fails with kind
   * `DefaultBucket`) and `accessToken`: a token string, or an async function that gets one
   * from your server (else every call fails with kind `InvalidArgument`).
   */
  constructor(options?: ClientOptions);
}

export { StreamRequestError } from '../types.js';

/** PUTs `body` to a signed URL, with upload progress (see `UploadToUrl`). */
export declare const uploadToUrl: UploadToUrl;

/** The bytes at a signed URL, or `range` of them (see `DownloadFromUrl`). */
export declare const downloadFromUrl: DownloadFromUrl<DownloadedBytes>;
