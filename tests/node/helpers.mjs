// Shared helpers for the Node tests: the servers the runner starts (from the environment),
// assertions on Result values, direct access to the emulator (to check what the client
// stored, independently of the client), and small stream and file utilities.
// Only node built-ins: the tests run in a scratch project that has nothing else installed.

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests with \`npm test\`, which starts the servers`);
  }
  return value.replace(/\/+$/, '');
}

function withScheme(host) {
  return host.includes('://') ? host : `http://${host}`;
}

/** fake-gcs-server, no auth. `STORAGE_EMULATOR_HOST` may lack a scheme, as Google's clients allow. */
export const EMULATOR_URL = withScheme(requiredEnv('STORAGE_EMULATOR_HOST'));
/** The sidecar stand-in (default bucket, credentials, token exchange, control API). */
export const SIDECAR_URL = requiredEnv('SIDECAR_URL');
/** The authenticating proxy in front of the emulator (needs a stand-in token; fault hook). */
export const GATE_URL = requiredEnv('GATE_URL');
/** What the stand-in answers as the default bucket. */
export const DEFAULT_BUCKET =
  process.env.DEFAULT_BUCKET || 'replit-objstore-11111111-2222-4333-8444-555555555555';
/** A second bucket that exists on the emulator. */
export const TEST_BUCKET = 'test-bucket';
/** A bucket that does not exist. */
export const MISSING_BUCKET = 'no-such-bucket-xyz';

/** A unique object-name prefix for one test file or test, so parallel files never collide. */
export function uniquePrefix(label) {
  return `node-tests/${label}/${randomUUID()}`;
}

/**
 * A test file's objects in TEST_BUCKET: a prefix of its own (`uniquePrefix(label)`), `fresh`
 * making a new name under it (`<prefix>/<n>/<suffix>`), and all of them deleted after the
 * file's tests.
 */
export function testObjects(label, defaultSuffix = 'obj.bin') {
  const prefix = uniquePrefix(label);
  let counter = 0;
  after(() => emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`));
  return { prefix, fresh: (suffix = defaultSuffix) => `${prefix}/${++counter}/${suffix}` };
}

// ---------------------------------------------------------------------------------------
// Results

function describeResult(result) {
  try {
    return JSON.stringify(result);
  } catch {
    return String(result);
  }
}

/**
 * Asserts that a Result deep-equals `expected` (for example `{ok: true, value: null}`),
 * ignoring top-level keys whose value is undefined (`error: undefined` on an OkResult is
 * allowed by the types and invisible to users).
 */
export function assertResult(result, expected, what = 'result') {
  assert.ok(result && typeof result === 'object', `${what}: expected a Result object, got ${describeResult(result)}`);
  const defined = Object.fromEntries(Object.entries(result).filter(([, value]) => value !== undefined));
  assert.deepEqual(defined, expected, `${what}: got ${describeResult(result)}`);
}

/** Asserts `{ok: true}` and returns the value. */
export function assertOk(result, what = 'result') {
  assert.ok(result && typeof result === 'object', `${what}: expected a Result object, got ${describeResult(result)}`);
  assert.equal(result.ok, true, `${what}: expected ok, got ${describeResult(result)}`);
  return result.value;
}

/**
 * Asserts `{ok: false, error: {kind, message, statusCode?}}` and returns the error.
 * `statusCode`: a number to require that status; `null` to require that there is none;
 * `undefined` (left out) to not check it.
 */
export function assertErr(result, kind, statusCode, what = 'result') {
  assert.ok(result && typeof result === 'object', `${what}: expected a Result object, got ${describeResult(result)}`);
  assert.equal(result.ok, false, `${what}: expected an error of kind ${kind}, got ${describeResult(result)}`);
  assertRequestError(result.error, kind, statusCode, what);
  return result.error;
}

/** Checks one RequestError: a plain, JSON-serialisable object with kind, message and statusCode. */
export function assertRequestError(error, kind, statusCode, what = 'error') {
  assert.ok(error && typeof error === 'object', `${what}: the error must be an object, got ${describeResult(error)}`);
  assert.ok(!(error instanceof Error), `${what}: the RequestError must be a plain object, not an Error`);
  assert.equal(error.kind, kind, `${what}: expected kind ${kind}, got ${describeResult(error)}`);
  assert.equal(typeof error.message, 'string', `${what}: message must be a string`);
  assert.ok(error.message.length > 0, `${what}: message must not be empty`);
  // What users log: every field survives JSON.stringify.
  const roundTripped = JSON.parse(JSON.stringify(error));
  assert.equal(roundTripped.kind, kind, `${what}: kind must be an own enumerable property`);
  assert.equal(roundTripped.message, error.message, `${what}: message must be an own enumerable property`);
  if (statusCode === null) {
    assert.equal(error.statusCode, undefined, `${what}: expected no statusCode, got ${describeResult(error)}`);
  } else if (statusCode !== undefined) {
    assert.equal(error.statusCode, statusCode, `${what}: expected statusCode ${statusCode}, got ${describeResult(error)}`);
    assert.equal(roundTripped.statusCode, statusCode, `${what}: statusCode must be an own enumerable property`);
  }
  return error;
}

/**
 * Checks a StreamRequestError (an `Error` subclass) and the RequestError inside it,
 * including the message format of @replit/object-storage: `"<status>: <msg>"` or `"<msg>"`.
 */
export function assertStreamError(error, StreamRequestError, kind, statusCode, what = 'stream error') {
  assert.ok(error instanceof StreamRequestError, `${what}: expected a StreamRequestError, got ${error?.stack ?? describeResult(error)}`);
  assert.ok(error instanceof Error, `${what}: StreamRequestError must extend Error`);
  assert.equal(typeof error.getRequestError, 'function', `${what}: getRequestError() missing`);
  const requestError = error.getRequestError();
  assertRequestError(requestError, kind, statusCode, `${what} (getRequestError())`);
  assert.equal(error.kind, kind, `${what}: StreamRequestError.kind`);
  const expectedMessage =
    requestError.statusCode !== undefined ? `${requestError.statusCode}: ${requestError.message}` : requestError.message;
  assert.equal(error.message, expectedMessage, `${what}: message format`);
  return requestError;
}

// ---------------------------------------------------------------------------------------
// The emulator, directly (to check what the client did, without the client)

function objectUrl(bucket, name) {
  return `${EMULATOR_URL}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`;
}

/** The object's metadata resource (contentType, contentEncoding, size, ...), or null when missing. */
export async function emulatorMetadata(bucket, name) {
  const response = await fetch(objectUrl(bucket, name));
  if (response.status === 404) {
    await response.arrayBuffer();
    return null;
  }
  assert.equal(response.status, 200, `emulator metadata of ${bucket}/${name}: HTTP ${response.status}`);
  return response.json();
}

/**
 * The object's stored bytes, as stored (no decompression: node:http does none, and asking
 * with `Accept-Encoding: gzip` stops the emulator from decompressing gzip-stored objects).
 */
export function emulatorStoredBytes(bucket, name) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${objectUrl(bucket, name)}?alt=media`, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`emulator download of ${bucket}/${name}: HTTP ${response.statusCode}`));
        } else {
          resolve(Buffer.concat(chunks));
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/**
 * Stores an object directly on the emulator (a simple upload), bypassing the client; with
 * `contentEncoding`, stored encoded as another tool would store it (the bytes as given).
 */
export async function emulatorUpload(bucket, name, body, contentType = 'application/octet-stream', contentEncoding = undefined) {
  const coding = contentEncoding ? `&contentEncoding=${encodeURIComponent(contentEncoding)}` : '';
  const url = `${EMULATOR_URL}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=media&name=${encodeURIComponent(name)}${coding}`;
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  assert.equal(response.status, 200, `emulator upload of ${bucket}/${name}: HTTP ${response.status} ${await response.text()}`);
  await response.arrayBuffer().catch(() => {});
}

/** Names under a prefix, straight from the emulator. */
export async function emulatorList(bucket, prefix) {
  const names = [];
  let pageToken;
  do {
    const url = new URL(`${EMULATOR_URL}/storage/v1/b/${encodeURIComponent(bucket)}/o`);
    url.searchParams.set('prefix', prefix);
    if (pageToken) url.searchParams.set('pageToken', pageToken);
    const response = await fetch(url);
    assert.equal(response.status, 200, `emulator list of ${bucket}/${prefix}: HTTP ${response.status}`);
    const page = await response.json();
    for (const item of page.items ?? []) names.push(item.name);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return names;
}

/** Deletes every object under a prefix, straight on the emulator (test cleanup). */
export async function emulatorDeletePrefix(bucket, prefix) {
  const names = await emulatorList(bucket, prefix);
  for (let i = 0; i < names.length; i += 32) {
    await Promise.all(
      names.slice(i, i + 32).map(async (name) => {
        const response = await fetch(objectUrl(bucket, name), { method: 'DELETE' });
        await response.arrayBuffer().catch(() => {});
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------
// The sidecar stand-in and the gate (global state: only sidecar-and-gate.test.mjs changes it)

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `POST ${url}: HTTP ${response.status} ${text}`);
  return text;
}

/** A fresh token from the sidecar stand-in at `sidecarUrl`, the way the client gets one. */
export async function issueTokenFrom(sidecarUrl) {
  const credential = await (await fetch(`${sidecarUrl}/credential`)).json();
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: 'replit',
    scope: 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/devstorage.full_control',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token: credential.access_token,
    subject_token_type: 'access_token',
  });
  const response = await fetch(`${sidecarUrl}/token`, { method: 'POST', body: form });
  const body = await response.json();
  assert.equal(response.status, 200, `token exchange: ${JSON.stringify(body)}`);
  return body.access_token;
}

export const sidecar = {
  /** Changes how the stand-in answers; see the runner's documentation of `/__control`. */
  control: (settings) => postJson(`${SIDECAR_URL}/__control`, settings),
  /** Back to defaults, counters to zero. */
  reset: () => postJson(`${SIDECAR_URL}/__reset`),
  /** `{defaultBucketRequests, credentialRequests, tokenRequests, gcsRequests, rejectedRequests}`. */
  async stats() {
    const response = await fetch(`${SIDECAR_URL}/__stats`);
    assert.equal(response.status, 200, `GET /__stats: HTTP ${response.status}`);
    return response.json();
  },
  /** A fresh token, obtained the way the client would (credential, then token exchange). */
  issueToken: () => issueTokenFrom(SIDECAR_URL),
};

export const gate = {
  /** The next matching requests get `status` (and body/headers) instead of being forwarded. */
  faults: (faults) => postJson(`${GATE_URL}/__faults`, faults),
  clearFaults: () => postJson(`${GATE_URL}/__faults/clear`),
};

/** A GCS-shaped JSON error body. */
export function gcsErrorBody(code, message, reason = 'injected') {
  return JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } });
}

// ---------------------------------------------------------------------------------------
// Processes, time, streams, files, bytes

/** A loopback URL on a port nothing listens on (bound, then closed). */
export async function closedPortUrl() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** Rejects when `promise` does not settle within `ms`, so a hang fails the test instead of stalling it. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the rejection reason of `promise`; fails if it resolves or hangs. */
export function rejectionOf(promise, what, ms = 20000) {
  return withTimeout(
    promise.then(
      (value) => assert.fail(`${what}: expected a rejection, resolved with ${JSON.stringify(value)}`),
      (reason) => reason,
    ),
    ms,
    what,
  );
}

/** Every byte a Readable yields, as one Buffer (rejects with the stream's error). */
export async function readAll(readable) {
  const chunks = [];
  for await (const chunk of readable) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

/** The first 'error' a Readable emits; rejects if it ends normally or says nothing within `ms`. */
/**
 * Runs each of `calls` (a name for each call), then `downloadAsStream` and `uploadFromStream`
 * of `name`: every one must fail with `kind` (and `statusCode` when given), the calls as error
 * results and the streams with a `StreamRequestError`, and none may create `target`.
 */
export async function assertEveryCallFails({ client, StreamRequestError, name, calls, target }, kind, statusCode) {
  for (const [method, call] of Object.entries(calls)) {
    let result;
    try {
      result = await withTimeout(call(), 20000, method);
    } catch (error) {
      assert.fail(`${method}: must resolve to an error result, but rejected with ${error?.stack ?? error}`);
    }
    assertErr(result, kind, statusCode, method);
  }
  assert.equal(existsSync(target), false, 'downloadToFilename must not create the file');
  const streamError = await nextStreamError(client.downloadAsStream(name), 20000);
  assertStreamError(streamError, StreamRequestError, kind, statusCode, 'downloadAsStream');
  const rejection = await rejectionOf(client.uploadFromStream(name, Readable.from([Buffer.from('x')])), 'uploadFromStream');
  assertStreamError(rejection, StreamRequestError, kind, statusCode, 'uploadFromStream');
}

export function nextStreamError(readable, ms = 15000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      readable.once('error', resolve);
      readable.once('end', () => reject(new Error('the stream ended without an error')));
      readable.resume();
    }),
    ms,
    'waiting for the stream error',
  );
}

export async function makeTempDir() {
  return mkdtemp(path.join(os.tmpdir(), 'ros-wasm-test-'));
}

export async function removeDir(dir) {
  await rm(dir, { recursive: true, force: true });
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes 0..255, each once. */
export function allByteValues() {
  return Buffer.from(Array.from({ length: 256 }, (_, i) => i));
}

/** Sorts names as GCS does: by their UTF-8 bytes. */
export function sortByUtf8(names) {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C of `bytes`, base64 of its big-endian bytes, as in `X-Goog-Hash: crc32c=`. */
export function crc32cBase64(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  crc = (crc ^ 0xffffffff) >>> 0;
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc);
  return out.toString('base64');
}

export function md5Base64(bytes) {
  return createHash('md5').update(bytes).digest('base64');
}

/** `gc()`, without --expose-gc on the command line. */
export function exposeGc() {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

/** A Proxy revoked at once: every look at it throws. */
export function revoked() {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Options whose `option` has a getter that throws. */
export function throwingGetter(option) {
  return Object.defineProperty({}, option, {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
}
