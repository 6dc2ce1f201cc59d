'use strict';
// The Node entry: the public Client over the wasm Core. Only what needs Node lives here
// (Buffers, files, Node streams); every protocol decision is made in Rust.

const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const wasm = require('../../pkg/node/replit_object_storage_wasm.js');
// The CommonJS copies of js/shared/errors.mjs and client-base.mjs, which the build writes (see there).
const { StreamRequestError, failure } = require('../../pkg/node/errors.cjs');
const { ClientBase, callCore, asDownloadedBytes, asUploadStream } = require('../../pkg/node/client-base.cjs');

const invalid = (message) => failure('InvalidArgument', message);
const localFile = (what, error) => failure('LocalFile', `${what}: ${error.message}`);
const asBuffer = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
/** A file name: a non-empty string without NUL (for which Node's fs throws rather than failing). */
const isPath = (value) => typeof value === 'string' && value !== '' && !value.includes('\0');

/**
 * A Node Readable as a web ReadableStream, pulled one chunk at a time. (Node's own
 * `Readable.toWeb` throws an uncaught "Controller is already closed" when its stream is
 * cancelled while the Readable still flows, which would crash the process.)
 */
function fromNodeReadable(readable) {
  const chunks = readable[Symbol.asyncIterator]();
  return new ReadableStream(
    {
      async pull(controller) {
        try {
          const { value, done } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        readable.destroy();
        await chunks.return?.().catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/** A Node Readable or a web ReadableStream, as a web ReadableStream. */
function webStream(stream) {
  if (stream instanceof ReadableStream) return stream;
  if (stream instanceof Readable) return fromNodeReadable(stream);
  return undefined;
}

/** How much of a file each read takes. */
const FILE_PIECE = 1 << 20;

/**
 * A file's bytes from `start` to `end` as a web ReadableStream (`stream`), read a piece at a
 * time as its reader asks. The file is opened at the first read and closed at the end, on
 * cancel, on failure and by `close()`, so an upload that stops anywhere gives its descriptor
 * back at once. A file whose size or modification time is no longer `stats`' fails the read,
 * as a file-backed Blob's would.
 */
function fileRange(filename, stats, start, end) {
  let handle;
  let at = start;
  const close = async () => {
    const open = handle;
    handle = null;
    await open?.close().catch(() => {});
  };
  const stream = new ReadableStream(
    {
      async pull(controller) {
        try {
          handle ??= await fs.promises.open(filename, 'r');
          const now = await handle.stat();
          if (now.size !== stats.size || now.mtimeMs !== stats.mtimeMs) throw new Error(`${filename} changed while it was read`);
          const length = Math.min(FILE_PIECE, end - at);
          const { bytesRead, buffer } = length > 0 ? await handle.read(Buffer.allocUnsafe(length), 0, length, at) : { bytesRead: 0 };
          if (bytesRead === 0) {
            await close();
            controller.close();
            return;
          }
          at += bytesRead;
          controller.enqueue(buffer.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
  return { stream, close };
}

/**
 * A Blob of a file (Node 19.8+: `fs.openAsBlob`'s) whose `stream()` and `slice()` read through a
 * file handle, 1 MiB at a time. Node 20 reads a file-backed Blob 64 KiB at a time at a cost of
 * ~430 ms of CPU per 256 MiB, against ~100 ms for the handle (measured): an upload's hashing
 * and sending then had that much less CPU. Everything else is the Blob's own, so fetch, or any
 * code that reads the Blob otherwise, gets the same bytes.
 */
class FileBlob extends Blob {
  #file;
  #start;

  constructor(blob, file, start) {
    super([blob]);
    this.#file = file;
    this.#start = start;
  }

  slice(start, end, type) {
    const part = super.slice(start, end, type);
    // Blob.slice's own arithmetic for where the part begins (negative counts from the end).
    const relative = (index, fallback) =>
      index === undefined ? fallback : index < 0 ? Math.max(this.size + Math.trunc(index), 0) : Math.min(Math.trunc(index), this.size);
    return new FileBlob(part, this.#file, this.#start + relative(start, 0));
  }

  stream() {
    const { filename, stats } = this.#file;
    return fileRange(filename, stats, this.#start, this.#start + this.size).stream;
  }
}

/** A file as an upload body, and its size. */
async function openFile(filename) {
  const stats = await fs.promises.stat(filename);
  if (!stats.isFile()) throw new Error(`${filename} is not a regular file`);
  if (typeof fs.openAsBlob === 'function') {
    // A Blob backed by the file: the core reads it from any offset, so a streamed upload's
    // retry resumes where the server stands; each of its streams opens the file at its first
    // read and closes it at its end.
    const blob = new FileBlob(await fs.openAsBlob(filename), { filename, stats }, 0);
    return { body: blob, size: blob.size, close: async () => {} };
  }
  // Older Node (before 19.8): the file as a stream, checked as it is read as the Blob is (a
  // retry then resends from the replay buffer). A failed upload may stop reading anywhere:
  // `close` gives the descriptor back at once, instead of leaving it to garbage collection.
  const { stream, close } = fileRange(filename, stats, 0, stats.size);
  return { body: stream, size: stats.size, close };
}

/** The answer when even building a Response failed (it never carries the error). */
const internalError = () =>
  new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });

const ABORTED_BY_CLIENT = 'the client went away before the answer was sent; the download was stopped';

/**
 * Whether `res` can take an answer: a Node ServerResponse (or one that acts as one). False for
 * a value that throws when read (a revoked Proxy).
 */
function isServerResponse(res) {
  try {
    return res !== null && typeof res === 'object' && typeof res.setHeader === 'function' && typeof res.end === 'function' && typeof res.on === 'function';
  } catch {
    return false;
  }
}

/**
 * Writes an answer of the core's `serveAnswer` to a Node ServerResponse: status, headers, then
 * the body, streamed with backpressure. Resolves to the Result of `serveTo`.
 */
async function writeAnswer(res, served, clientGone) {
  const failed = served.error ? { ok: false, error: served.error } : { ok: true, value: null };
  if (clientGone()) {
    if (served.body instanceof ReadableStream) await served.body.cancel().catch(() => {});
    return failure('Aborted', ABORTED_BY_CLIENT);
  }
  // The core answers only with values Node can send (metadata that makes another is a 502).
  for (const [name, value] of served.headers) res.setHeader(name, value);
  res.statusCode = served.status;
  if (!(served.body instanceof ReadableStream)) {
    res.end(served.body ?? undefined);
    return failed;
  }
  try {
    // pipeline waits for `res` to drain (backpressure); when the client goes away it destroys
    // the source, which cancels the download; a download that fails destroys `res`.
    await pipeline(Readable.fromWeb(served.body, { highWaterMark: 1 << 16 }), res);
    return failed;
  } catch (error) {
    res.destroy();
    // The download's own failures are RequestErrors; when the client left first, the error is
    // the premature close (or the abort that followed it).
    const downloadFailed = typeof error?.kind === 'string' && error.kind !== 'Aborted';
    if (!downloadFailed && clientGone()) return failure('Aborted', ABORTED_BY_CLIENT);
    return { ok: false, error: wasm.toRequestError(error) };
  }
}

/** A Readable returned at once that streams the download `started` resolves to. */
function downloadReadable(started) {
  let reader;
  const fail = (readable, error) => readable.destroy(new StreamRequestError(wasm.toRequestError(error)));
  const readable = new Readable({
    highWaterMark: 1 << 20,
    async read() {
      try {
        const result = await started;
        if (!result.ok) return;
        reader ??= result.value.getReader();
        const { done, value } = await reader.read();
        this.push(done ? null : asBuffer(value));
      } catch (error) {
        fail(this, error);
      }
    },
    destroy(error, callback) {
      if (reader) reader.cancel().catch(() => {});
      else started.then((result) => result.ok && result.value.cancel().catch(() => {}), () => {});
      callback(error);
    },
  });
  started.then(
    (result) => result.ok || readable.destroy(new StreamRequestError(result.error)),
    (error) => fail(readable, error),
  );
  return readable;
}

/** The Client: ClientBase's methods (js/shared/client-base.mjs) and what needs Node. */
class Client extends ClientBase {
  #core;

  constructor(options) {
    super();
    // The core reads STORAGE_EMULATOR_HOST, DEFAULT_OBJECT_STORAGE_BUCKET_ID and
    // PUBLIC_OBJECT_SEARCH_PATHS from it, now.
    this.#core = new wasm.Core(options, process.env);
  }

  [callCore](method, args, own) {
    return own ? this.#core[method](...args) : this.#core.call(method, ...args);
  }

  [asDownloadedBytes](bytes) {
    return asBuffer(bytes);
  }

  [asUploadStream](stream) {
    return webStream(stream) ?? invalid('stream must be a Node Readable or a web ReadableStream');
  }

  /** A web Response serving the object to `request`; never rejects (failures are 404/5xx answers). */
  serve(objectName, request, options) {
    return this.#core.serve(objectName, request, options).catch(() => internalError());
  }

  /**
   * Serves the object to a Node ServerResponse (node:http, Express, Fastify's raw reply). A
   * client that goes away stops the download, and the result is `Aborted`.
   */
  async serveTo(res, objectName, req, options) {
    if (!isServerResponse(res)) return invalid('res must be a Node ServerResponse');
    if (res.headersSent) return invalid('res has already sent its headers');
    if (options != null && typeof options !== 'object') return invalid('serveTo options must be an object');
    const controller = new AbortController();
    let gone = false;
    const onClose = () => {
      if (res.writableFinished) return;
      gone = true;
      controller.abort();
    };
    res.once('close', onClose);
    const caller = readOption(options, 'signal');
    const onAbort = () => controller.abort();
    if (caller instanceof AbortSignal) {
      if (caller.aborted) controller.abort();
      else caller.addEventListener('abort', onAbort, { once: true });
    }
    try {
      const signal = caller === undefined || caller instanceof AbortSignal ? controller.signal : caller;
      const served = await this.#core.serveAnswer(objectName, req, withOptions(options, { signal }));
      return await writeAnswer(res, served, () => gone);
    } finally {
      res.off('close', onClose);
      if (caller instanceof AbortSignal) caller.removeEventListener('abort', onAbort);
    }
  }

  signUrl(objectName, options) {
    return this.#core.signUrl(objectName, options);
  }

  createUploadUrl(objectName, options) {
    return this.#core.createUploadUrl(objectName, options);
  }

  downloadAsStream(objectName, options) {
    return downloadReadable(this.#core.call('downloadAsStream', objectName, options));
  }

  /**
   * Streams into a temporary file beside the destination, flushed to disk and renamed into place
   * at the end. As write-file-atomic does, a symbolic link is written through (the link stays,
   * its target gets the bytes) and a file replaced keeps its permissions.
   */
  async downloadToFilename(objectName, destFilename, options) {
    if (!isPath(destFilename)) return invalid('destFilename must be a non-empty string with no NUL character');
    const target = await fs.promises.realpath(destFilename).catch(() => destFilename);
    // A directory would refuse the final rename: found first, nothing is downloaded for nothing.
    const existing = await fs.promises.stat(target).catch(() => null);
    if (existing?.isDirectory()) return localFile(`cannot write ${destFilename}`, new Error('it is a directory'));
    const started = await this.#core.call('downloadToFilename', objectName, options);
    if (!started.ok) return started;
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`);
    let fileError;
    const file = fs.createWriteStream(temporary, { flags: 'wx' });
    file.on('error', (error) => {
      fileError ??= error;
    });
    try {
      await pipeline(Readable.fromWeb(started.value), file);
      if (existing?.isFile()) await fs.promises.chmod(temporary, existing.mode & 0o7777);
      await syncFile(temporary);
      await fs.promises.rename(temporary, target);
      return { ok: true, value: null };
    } catch (error) {
      // (pipeline has already cancelled the download's stream, through the Readable.)
      await fs.promises.rm(temporary, { force: true }).catch(() => {});
      // The download's own failures are RequestErrors (they have a kind); the file's are not.
      const fromFile = typeof error?.kind !== 'string' && (fileError || error?.syscall);
      if (fromFile) return localFile(`cannot write ${destFilename}`, fileError ?? error);
      return { ok: false, error: wasm.toRequestError(error) };
    }
  }

  async uploadFromFilename(objectName, srcFilename, options) {
    if (!isPath(srcFilename)) return invalid('srcFilename must be a non-empty string with no NUL character');
    let file;
    try {
      file = await openFile(srcFilename);
    } catch (error) {
      return localFile(`cannot read ${srcFilename}`, error);
    }
    // Files always go up resumably, so a broken connection costs a chunk, not the file.
    const merged = withOptions(options, { resumable: true, contentLength: file.size });
    try {
      return await this.#core.call('uploadFromFilename', objectName, file.body, merged);
    } finally {
      await file.close();
    }
  }
}

/**
 * Flushes a file's bytes to the disk before it is renamed over the destination: a crash just
 * after the rename then leaves the new file whole, never an empty one where the old file was.
 */
async function syncFile(filename) {
  const handle = await fs.promises.open(filename, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `options` with `extra` added, for the core. Options that are no object, or that throw when
 * read (a revoked Proxy, a getter that throws), go to the core as given, which refuses them
 * naming what is wrong: a method resolves to InvalidArgument rather than rejecting.
 */
function withOptions(options, extra) {
  if (options == null) return extra;
  if (typeof options !== 'object') return options;
  try {
    return { ...options, ...extra };
  } catch {
    return options;
  }
}

/** `options[key]`, or undefined where reading it throws (the core then refuses the options). */
function readOption(options, key) {
  try {
    return options?.[key];
  } catch {
    return undefined;
  }
}

/** Pieces of upload progress: small enough for a smooth bar, large enough to cost nothing. */
const PROGRESS_PIECE = 256 * 1024;

/**
 * Sends uploadToUrl's PUT for the core (`request`, and its `body` as given): the body streamed
 * to fetch a piece at a time (a Blob's read as fetch asks, so a file is never held whole) with
 * its Content-Length, and a Blob's type as fetch would send it, reporting the bytes fetch has
 * taken so far to `onProgress`. (Given a stream and no length, fetch would send the body
 * chunked, and a signer that signed its Content-Length would refuse it.)
 */
function sendPut(request, body, onProgress) {
  const total = body.size ?? body.byteLength;
  if (!total) return fetch(request);
  const headers = new Headers(request.headers);
  headers.set('content-length', String(total));
  if (body.type && !headers.has('content-type')) headers.set('content-type', body.type);
  let loaded = 0;
  const counted = new ReadableStream(
    {
      async pull(controller) {
        if (loaded >= total) return controller.close();
        const end = loaded + PROGRESS_PIECE;
        const piece = body instanceof Blob ? new Uint8Array(await body.slice(loaded, end).arrayBuffer()) : body.subarray(loaded, end);
        loaded += piece.byteLength;
        controller.enqueue(piece);
        try {
          onProgress?.({ bytes: loaded, loaded, total });
        } catch {} // progress reporting never breaks a transfer
      },
    },
    { highWaterMark: 0 },
  );
  return fetch(request.url, { method: request.method, headers, body: counted, duplex: 'half', signal: request.signal });
}

/** PUTs a Blob, bytes or a string to a signed URL (`createUploadUrl`'s), reporting progress. */
const uploadToUrl = (url, body, options) => wasm.urlTransfer(url, options, body, (request, content) => sendPut(request, content, options?.onProgress));

/** The bytes at a signed URL (or a range of them), in a Buffer. */
async function downloadFromUrl(url, options) {
  const result = await wasm.urlTransfer(url, options);
  return result.ok ? { ok: true, value: asBuffer(result.value) } : result;
}

/** Bytes of wasm linear memory in use (a diagnostic: transfers never grow it). */
const wasmMemoryBytes = () => wasm.wasmMemoryBytes();

/** The CRC32C of bytes, in GCS's base64 form (as an object's `crc32c` metadata gives it). */
const crc32c = (bytes) => wasm.crc32c(bytes);

/** PRIVATE_OBJECT_DIR and PUBLIC_OBJECT_SEARCH_PATHS of `env` (default: this process's). */
const objectPaths = (env = process.env) => wasm.objectPaths(env);

module.exports = { Client, StreamRequestError, uploadToUrl, downloadFromUrl, wasmMemoryBytes, crc32c, objectPaths };
