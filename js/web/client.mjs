// The public Client for runtimes without Node's built-ins (browsers, Cloudflare Workers):
// web types in and out (Uint8Array, Blob, web ReadableStream), no file system, no Replit
// sidecar. Each entry (js/web/index.mjs, js/workerd/index.mjs) only says how the wasm
// module is loaded; every protocol decision is made in Rust, as in the Node layer.

import { ClientBase, asUploadStream, callCore } from '../shared/client-base.mjs';
import { StreamRequestError, failure } from '../shared/errors.mjs';

const NO_BUCKET =
  'No default bucket: there is no Replit sidecar to ask for one in this runtime. ' +
  'Pass bucketId (the bucket name shown in the App Storage tool, replit-objstore-...)';
const NO_TOKEN =
  'accessToken is required in this runtime: there is no Replit sidecar to get tokens from. ' +
  'Pass a token string, or an async function that asks your server for one';

/** The results of `notInThisBuild`, told apart from other failures by identity. */
const leftOutOfBuild = new WeakSet();

/** A method the loaded build leaves out (server-only code is not in the browser build). */
const notInThisBuild = (method) => {
  const result = failure('Unsupported', `${method} is not in the browser build: call it on your server`);
  leftOutOfBuild.add(result);
  return result;
};

const NO_SIGNING =
  'there is no Replit sidecar in this runtime to sign URLs with: sign URLs on your server ' +
  '(signUrl or createUploadUrl of the Node entry, on Replit) and hand the page the URL';

/** What keeps a client from working here, found from its options alone (else null). */
function missingForRuntime(options) {
  if (options !== undefined && (options === null || typeof options !== 'object')) return null; // the core says why
  const given = options ?? {};
  if (given.bucketId == null) return failure('DefaultBucket', NO_BUCKET);
  if (given.accessToken == null) return failure('InvalidArgument', NO_TOKEN);
  return null;
}

/**
 * Sends uploadToUrl's PUT for the core (`request`, and its `body` as given): through
 * XMLHttpRequest where there is one (browsers), since fetch reports no upload progress; else
 * (Workers) through fetch, and the only progress is the core's last event. Resolves to a
 * Response, as fetch does.
 */
function sendPut(request, body, onProgress) {
  if (typeof XMLHttpRequest !== 'function') return fetch(new Request(request, { body }));
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, request.url);
    request.headers.forEach((value, name) => xhr.setRequestHeader(name, value));
    if (onProgress) xhr.upload.onprogress = ({ loaded, total }) => onProgress({ bytes: loaded, loaded, total });
    xhr.onload = () => resolve(new Response(xhr.response || null, { status: xhr.status }));
    // The core tells an abort (its signal fired) from a network failure itself.
    xhr.onerror = xhr.onabort = () => reject(new TypeError('the upload failed'));
    request.signal.addEventListener('abort', () => xhr.abort());
    xhr.send(body);
  });
}

/**
 * The Client and StreamRequestError classes, and uploadToUrl and downloadFromUrl, over the
 * wasm module that `load` resolves to (the wasm-bindgen glue, initialised). `load` runs once,
 * on the first call that needs it. `environment`, where the runtime has one, returns its
 * environment variables (an object, or undefined), read by the core when a client first calls it.
 */
export function defineClient(load, { environment } = {}) {
  let loading;
  const glue = () => {
    loading ??= Promise.resolve()
      .then(load)
      .catch((error) => {
        loading = undefined; // a later call tries again
        throw error;
      });
    return loading;
  };

  /** The result of a call when the module cannot load. */
  const unloadable = (error) =>
    failure(
      'Unsupported',
      `cannot load the WebAssembly module (a Content-Security-Policy without 'wasm-unsafe-eval'?): ${error?.message ?? error}`,
    );

  /** Runs `use` on the loaded module; a module that cannot load is an `Unsupported` result. */
  const withWasm = (use) => glue().then(use, unloadable);

  /** Any thrown value as a RequestError, the core's way when it is loaded. */
  const asRequestError = (error) =>
    glue().then(
      (wasm) => wasm.toRequestError(error),
      () => failure('Unknown', error instanceof Error ? error.message : String(error)).error,
    );

  /** ClientBase's methods (js/shared/client-base.mjs) over a module loaded on first use. */
  class Client extends ClientBase {
    #options;
    #core;
    #problem;

    /** Does no I/O: the wasm module loads on the first call. */
    constructor(options) {
      super();
      this.#options = options;
      try {
        this.#options = options && typeof options === 'object' ? { ...options } : options;
        this.#problem = missingForRuntime(options);
      } catch {
        // Options that throw when read (a revoked Proxy): the core reports them on each call.
      }
    }

    /** Loads the module on first use (see ClientBase for the hook). */
    async [callCore](method, args, own) {
      let wasm;
      try {
        wasm = await glue();
      } catch (error) {
        return this.#problem ?? unloadable(error);
      }
      if (own && typeof wasm.Core.prototype[method] !== 'function') return notInThisBuild(method);
      if (this.#problem) return this.#problem;
      this.#core ??= new wasm.Core(this.#options, environment?.());
      return own ? this.#core[method](...args) : this.#core.call(method, ...args);
    }

    [asUploadStream](stream) {
      return stream instanceof ReadableStream ? stream : failure('InvalidArgument', 'stream must be a web ReadableStream of bytes');
    }

    /**
     * A web Response serving the object to `request`; never rejects (failures are 404/5xx
     * answers). In the browser build, which has no server features: 501, saying so.
     */
    async serve(...args) {
      const answer = await this[callCore]('serve', args, true).catch(() => null);
      if (answer instanceof Response) return answer;
      // (A string body makes the Content-Type text/plain.)
      const missing = leftOutOfBuild.has(answer);
      return new Response(missing ? answer.error.message : 'Internal Server Error', { status: missing ? 501 : 500 });
    }

    /** Only a server on Replit can sign: here `Unsupported`, whatever the arguments (no core call). */
    async signUrl() {
      return failure('Unsupported', `signUrl: ${NO_SIGNING}`);
    }

    async createUploadUrl() {
      return failure('Unsupported', `createUploadUrl: ${NO_SIGNING}`);
    }

    /** A web ReadableStream, returned at once; a failure errors it with a StreamRequestError. */
    downloadAsStream(objectName, options) {
      const started = this[callCore]('downloadAsStream', [objectName, options]);
      let reader;
      return new ReadableStream({
        async pull(controller) {
          try {
            if (!reader) {
              const result = await started;
              if (!result.ok) return controller.error(new StreamRequestError(result.error));
              reader = result.value.getReader();
            }
            const { done, value } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          } catch (error) {
            controller.error(new StreamRequestError(await asRequestError(error)));
          }
        },
        cancel(reason) {
          if (reader) return reader.cancel(reason).catch(() => {});
          return started.then((result) => result.ok && result.value.cancel(reason).catch(() => {}), () => {});
        },
      });
    }

    async downloadToFilename() {
      return failure(
        'Unsupported',
        'downloadToFilename needs a file system, which this runtime does not have: use downloadAsBytes ' +
          '(for a browser download, wrap it in a Blob and an <a download> link) or downloadAsStream',
      );
    }

    async uploadFromFilename() {
      return failure(
        'Unsupported',
        'uploadFromFilename needs a file system, which this runtime does not have: use uploadFromBytes ' +
          'with a File (from <input type="file"> or a drop) or any Blob, or uploadFromStream with file.stream()',
      );
    }
  }

  /** PUTs a Blob, bytes or a string to a signed URL, with upload progress in browsers. */
  const uploadToUrl = (url, body, options) => withWasm((wasm) => wasm.urlTransfer(url, options, body, (request, content) => sendPut(request, content, options?.onProgress)));

  /** The bytes at a signed URL (or a range of them). */
  const downloadFromUrl = (url, options) => withWasm((wasm) => wasm.urlTransfer(url, options));

  return { Client, StreamRequestError, uploadToUrl, downloadFromUrl };
}
