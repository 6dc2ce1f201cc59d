// The Client methods that are the same in every runtime, written once: each entry's Client
// extends ClientBase and gives it the hooks below (how it reaches its wasm core, and its own
// byte and stream types). What differs by runtime (the constructor, downloadAsStream,
// the file methods, serve and serveTo, signing) stays in the entry. Like errors.mjs, the Node
// entry requires the CommonJS copy scripts/build-shared.mjs writes (pkg/node/client-base.cjs).

import { StreamRequestError, failure } from './errors.mjs';

// The hooks, symbols so that they are no part of the Client's API (without descriptions: a
// bundle carries every byte into the browser entry, which is at its budget).

/**
 * `this[callCore](method, args, own)` runs `method` of the wasm core with `args`, resolving to
 * a result: an operation of `Core.call`, or (`own`) a server-only method of the core's own,
 * which a build without it (the browser's) answers with an `Unsupported` result.
 */
export const callCore = Symbol();

/** A download's Uint8Array as this runtime gives bytes: the Uint8Array itself unless overridden (a Buffer in Node). */
export const asDownloadedBytes = Symbol();

/** uploadFromStream's `stream` as a web ReadableStream, or the failed result refusing it. */
export const asUploadStream = Symbol();

export class ClientBase {
  [asDownloadedBytes](bytes) {
    return bytes;
  }

  copy(objectName, destObjectName, options) {
    return this[callCore]('copy', [objectName, destObjectName, options]);
  }

  delete(objectName, options) {
    return this[callCore]('delete', [objectName, options]);
  }

  exists(objectName, options) {
    return this[callCore]('exists', [objectName, options]);
  }

  list(options) {
    return this[callCore]('list', [options]);
  }

  getMetadata(objectName, options) {
    return this[callCore]('getMetadata', [objectName, options]);
  }

  setMetadata(objectName, metadata, options) {
    return this[callCore]('setMetadata', [objectName, metadata, options]);
  }

  listPage(options) {
    return this[callCore]('listPage', [options]);
  }

  getAclPolicy(objectName, options) {
    return this[callCore]('getAclPolicy', [objectName, options], true);
  }

  setAclPolicy(objectName, policy, options) {
    return this[callCore]('setAclPolicy', [objectName, policy, options], true);
  }

  canAccess(objectName, options) {
    return this[callCore]('canAccess', [objectName, options], true);
  }

  findPublic(relativePath, options) {
    return this[callCore]('findPublic', [relativePath, options], true);
  }

  /** The object's bytes, as the one element of an array (as in @replit/object-storage). */
  async downloadAsBytes(objectName, options) {
    const result = await this[callCore]('downloadAsBytes', [objectName, options]);
    return result.ok ? { ok: true, value: [this[asDownloadedBytes](result.value)] } : result;
  }

  downloadAsText(objectName, options) {
    return this[callCore]('downloadAsText', [objectName, options]);
  }

  uploadFromBytes(objectName, contents, options) {
    return this[callCore]('uploadFromBytes', [objectName, contents, options]);
  }

  async uploadFromText(objectName, contents, options) {
    if (typeof contents !== 'string') return failure('InvalidArgument', 'contents must be a string');
    return this[callCore]('uploadFromText', [objectName, contents, options]);
  }

  /** Resolves to nothing; rejects with a StreamRequestError on failure, as in @replit/object-storage. */
  async uploadFromStream(objectName, stream, options) {
    let body;
    try {
      body = this[asUploadStream](stream);
    } catch {
      // A value that throws when looked at (a revoked Proxy) is refused as any non-stream is.
      body = this[asUploadStream](null);
    }
    const result = body instanceof ReadableStream ? await this[callCore]('uploadFromStream', [objectName, body, options]) : body;
    if (!result.ok) throw new StreamRequestError(result.error);
  }
}
