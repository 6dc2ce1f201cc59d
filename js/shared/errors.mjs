// The errors every entry makes in JS, written once: failed results for what the wasm core does
// not see, and StreamRequestError. The web entries (js/web/client.mjs) import this ES module;
// the Node entry requires pkg/node/errors.cjs, the CommonJS copy scripts/build-shared.mjs writes
// from it (Node 18 cannot `require` an ES module, and runtimes without CommonJS cannot import
// one). So: top-level `export` declarations only, and no imports (but of another module here).

/** A failed result made in JS, in the core's shape: `{ok: false, error: {kind, message}}`. */
export const failure = (kind, message) => ({ ok: false, error: { kind, message } });

/** The error `downloadAsStream`'s stream fails with and `uploadFromStream` rejects with. */
export class StreamRequestError extends Error {
  constructor(error) {
    const message = error.statusCode ? `${error.statusCode}: ${error.message}` : error.message;
    // An abort's `signal.reason` becomes the Error's own `cause` too.
    super(message, 'cause' in error ? { cause: error.cause } : undefined);
    this.name = 'StreamRequestError';
    this.requestError = error;
  }

  get kind() {
    return this.requestError.kind;
  }

  getRequestError() {
    return this.requestError;
  }
}
