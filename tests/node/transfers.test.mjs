// Large-object behaviour at a small scale: byte ranges, progress reports, cancellation at
// every stage of a call, and resumable uploads in 256 KiB chunks (boundaries, streams that
// end on a boundary, empty streams, resuming after a connection reset), plus
// ifGenerationMatch. Requests go through the fault proxy (tests/support/faults.mjs), whose
// log shows exactly what the client sent.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { existsSync } from 'node:fs';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { brotliCompressSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import { parseContentRange, startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  assertStreamError,
  crc32cBase64,
  emulatorDeletePrefix,
  emulatorMetadata,
  emulatorStoredBytes,
  emulatorUpload,
  exposeGc,
  makeTempDir,
  nextStreamError,
  readAll,
  removeDir,
  sha256,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;
const prefix = uniquePrefix('transfers');
let localDir;
let proxy;
let counter = 0;
const fresh = (label = 'obj.bin') => `${prefix}/${++counter}-${label}`;
const localFile = (label) => path.join(localDir, `${++counter}-${label}`);

/** A client through the fault proxy: 256 KiB chunks, everything of known size resumable. */
function client(extra = {}) {
  return new Client({
    bucketId: TEST_BUCKET,
    apiEndpoint: proxy.url,
    accessToken: 'transfers-token',
    maxRetries: 3,
    retryInitialDelayMs: 20,
    retryMaxDelayMs: 200,
    requestTimeoutMs: 5000,
    uploadChunkSize: CHUNK,
    resumableThreshold: 0,
    ...extra,
  });
}

function nodeStreamOf(bytes, piece = 64 * KiB) {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= bytes.length) return this.push(null);
      const end = Math.min(bytes.length, offset + piece);
      this.push(bytes.subarray(offset, end));
      offset = end;
    },
  });
}

function webStreamOf(bytes, piece) {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      const end = Math.min(bytes.length, offset + piece);
      controller.enqueue(new Uint8Array(bytes.subarray(offset, end)));
      offset = end;
    },
  });
}

/** Settles an uploadFromStream as a Result. */
async function streamUpload(promise) {
  try {
    const value = await promise;
    assert.equal(value, undefined, 'uploadFromStream resolves to undefined');
    return { ok: true, value: null };
  } catch (error) {
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    return { ok: false, error: error.getRequestError(), thrown: error };
  }
}

async function streamDownload(readable) {
  try {
    return { ok: true, value: await readAll(readable) };
  } catch (error) {
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    return { ok: false, error: error.getRequestError(), thrown: error };
  }
}

/** The chunk requests of the last resumable upload, as {start, end, total, status}. */
function chunkLog(entries = proxy.log) {
  return entries
    .filter((e) => e.kind === 'resumable-chunk' || e.kind === 'resumable-status')
    .map((e) => ({ kind: e.kind, ...parseContentRange(e.contentRange), status: e.status, fault: e.fault }));
}

before(async () => {
  localDir = await makeTempDir();
  proxy = await startFaultProxy({ target: EMULATOR_URL, checkUploadHashes: true, enforcePreconditions: true });
});

// Every test starts with no fault rules and an empty log (a failed test may leave its rules).
beforeEach(() => {
  proxy?.clear();
});

after(async () => {
  await removeDir(localDir);
  await proxy?.stop();
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
});

// ---------------------------------------------------------------------------------------------

describe('ranges', () => {
  const SIZE = 300 * KiB + 17;
  let data;
  let object;
  before(async () => {
    data = randomBytes(SIZE);
    object = fresh('ranged.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
  });

  const readers = {
    downloadAsBytes: async (c, name, options) => {
      const result = await c.downloadAsBytes(name, options);
      return result.ok ? { ok: true, value: result.value[0] } : result;
    },
    downloadAsStream: (c, name, options) => streamDownload(c.downloadAsStream(name, options)),
    downloadToFilename: async (c, name, options) => {
      const dir = path.join(localDir, `range-${++counter}`);
      await mkdir(dir);
      const file = path.join(dir, 'out.bin');
      const result = await c.downloadToFilename(name, file, options);
      if (!result.ok) {
        assert.deepEqual(await readdir(dir), [], 'a failed ranged download leaves no file');
        return result;
      }
      return { ok: true, value: await readFile(file) };
    },
  };

  const cases = [
    ['the first bytes {start: 0, end: 9}', { start: 0, end: 9 }, (d) => d.subarray(0, 10)],
    ['a middle range {start: 1000, end: 262999}', { start: 1000, end: 262999 }, (d) => d.subarray(1000, 263000)],
    ['a suffix {suffix: 500}', { suffix: 500 }, (d) => d.subarray(d.length - 500)],
    ['an open end {start: size - 1234}', { start: SIZE - 1234 }, (d) => d.subarray(SIZE - 1234)],
    ['only an end {end: 99}', { end: 99 }, (d) => d.subarray(0, 100)],
    ['the last byte {start: size - 1, end: size - 1}', { start: SIZE - 1, end: SIZE - 1 }, (d) => d.subarray(SIZE - 1)],
    ['an end past the end {start: size - 10, end: size + 100}', { start: SIZE - 10, end: SIZE + 100 }, (d) => d.subarray(SIZE - 10)],
    ['a suffix longer than the object', { suffix: SIZE + 100 }, (d) => d],
  ];

  for (const [method, read] of Object.entries(readers)) {
    describe(method, () => {
      for (const [label, range, expected] of cases) {
        it(`${label} gives exactly those bytes`, async () => {
          const result = await withTimeout(read(client(), object, { range }), 15000, label);
          const bytes = assertOk(result, label);
          assert.equal(bytes.length, expected(data).length, `${label}: length`);
          assert.equal(sha256(bytes), sha256(expected(data)), `${label}: bytes`);
        });
      }

      for (const [label, range] of [
        ['starting at the size', { start: SIZE }],
        ['starting past the end', { start: SIZE + 10, end: SIZE + 20 }],
      ]) {
        it(`a range ${label} is InvalidArgument with statusCode 416`, async () => {
          const result = await withTimeout(read(client(), object, { range }), 15000, label);
          assertErr(result, 'InvalidArgument', 416, label);
        });
      }

      for (const [label, range] of [
        ['end before start', { start: 10, end: 5 }],
        ['start and suffix', { start: 1, suffix: 2 }],
        ['a zero suffix', { suffix: 0 }],
        ['a negative start', { start: -1 }],
        ['a fractional end', { start: 0, end: 1.5 }],
      ]) {
        it(`a contradictory range (${label}) is InvalidArgument, and nothing is sent`, async () => {
          proxy.clear();
          const result = await withTimeout(read(client(), object, { range }), 15000, label);
          assertErr(result, 'InvalidArgument', undefined, label);
          assert.equal(result.error.statusCode, undefined, `${label}: no HTTP status`);
          assert.deepEqual(proxy.requests('download'), [], `${label}: no download was requested`);
        });
      }
    });
  }

  it('a ranged download resumes after a reset mid-body with exactly the range', async () => {
    for (const [label, range, expected] of [
      ['middle', { start: 1000, end: 250000 }, data.subarray(1000, 250001)],
      ['suffix', { suffix: 200000 }, data.subarray(SIZE - 200000)],
      ['open end', { start: 5000 }, data.subarray(5000)],
    ]) {
      proxy.clear();
      proxy.setFaults([{ kind: 'download', fault: 'resetMidBody' }]);
      const bytes = assertOk(await withTimeout(readers.downloadAsBytes(client(), object, { range }), 15000, label), label);
      assert.equal(sha256(bytes), sha256(expected), `${label}: intact after the resume`);
      assert.equal(proxy.requests('download').length, 2, `${label}: resumed once`);
      proxy.clear();
    }
  });

  it('a gzip-stored object, which GCS serves whole and decompressed whatever the Range: exactly the range', async () => {
    const name = fresh('ranged-gzip.bin');
    assertOk(await client().uploadFromBytes(name, data, { compress: true }));
    // What the client is up against (GCS's decompressive transcoding; the emulator does the same).
    const raw = await fetch(`${EMULATOR_URL}/storage/v1/b/${TEST_BUCKET}/o/${encodeURIComponent(name)}?alt=media`, { headers: { range: 'bytes=10-19' } });
    assert.equal(raw.status, 200, 'the server ignores Range for a gzip-stored object');
    assert.equal((await raw.arrayBuffer()).byteLength, SIZE);
    for (const [label, range, expected] of [
      ['start-end', { start: 10, end: 19 }, data.subarray(10, 20)],
      ['suffix', { suffix: 5 }, data.subarray(SIZE - 5)],
      ['a suffix longer than the object', { suffix: SIZE + 10 }, data],
      ['open end', { start: SIZE - 1000 }, data.subarray(SIZE - 1000)],
      ['an end past the end', { start: SIZE - 3, end: SIZE + 100 }, data.subarray(SIZE - 3)],
    ]) {
      for (const [reader, read] of Object.entries(readers)) {
        proxy.clear();
        const bytes = assertOk(await withTimeout(read(client(), name, { range }), 15000, `${label}, ${reader}`), `${label}, ${reader}`);
        assert.equal(bytes.length, expected.length, `${label}, ${reader}: length`);
        assert.ok(Buffer.from(bytes).equals(expected), `${label}, ${reader}: the range's bytes`);
      }
    }
    // A reset mid-body resumes: the range is still cut from the whole.
    for (const [label, range, expected] of [
      ['start-end', { start: 100000, end: 250000 }, data.subarray(100000, 250001)],
      ['suffix', { suffix: 200000 }, data.subarray(SIZE - 200000)],
    ]) {
      proxy.clear();
      proxy.setFaults([{ kind: 'download', fault: 'resetMidBody' }]);
      const bytes = assertOk(await withTimeout(readers.downloadAsBytes(client(), name, { range }), 15000, label), label);
      assert.ok(Buffer.from(bytes).equals(expected), `${label}: intact after the resume`);
      assert.equal(proxy.requests('download').length, 2, `${label}: resumed once`);
      proxy.clear();
    }
  });

  it("a br-stored object (another writer's), whose Range GCS applies to the stored bytes: decoded, exactly the range", async () => {
    const name = fresh('ranged-br.txt');
    const text = Buffer.from(Array.from({ length: 30000 }, (_, i) => `line ${i} of a log\n`).join(''));
    const stored = brotliCompressSync(text);
    assert.ok(stored.length < text.length / 4);
    await emulatorUpload(TEST_BUCKET, name, stored, 'text/plain', 'br');
    // What the client is up against: a 206 of encoded bytes, which no fetch can decode a piece
    // of (GCS transcodes gzip only, cloud.google.com/storage/docs/transcoding, and serves any
    // other coding as stored, as the emulator does).
    const raw = await fetch(`${EMULATOR_URL}/storage/v1/b/${TEST_BUCKET}/o/${encodeURIComponent(name)}?alt=media`, { headers: { range: 'bytes=10-19' } });
    assert.deepEqual([raw.status, raw.headers.get('content-encoding'), raw.headers.get('content-range')], [206, 'br', `bytes 10-19/${stored.length}`]);
    await raw.body.cancel();
    for (const [label, range, expected, header] of [
      ['whole', undefined, text, null],
      ['start-end', { start: 10, end: 19 }, text.subarray(10, 20), 'bytes=10-19'],
      ['suffix', { suffix: 5 }, text.subarray(text.length - 5), 'bytes=-5'],
      ['a suffix longer than the object', { suffix: text.length + 10 }, text, `bytes=-${text.length + 10}`],
      ['open end', { start: 1000 }, text.subarray(1000), 'bytes=1000-'],
    ]) {
      for (const [reader, read] of Object.entries(readers)) {
        proxy.clear();
        const bytes = assertOk(await withTimeout(read(client(), name, { range }), 15000, `${label}, ${reader}`), `${label}, ${reader}`);
        assert.ok(Buffer.from(bytes).equals(expected), `${label}, ${reader}: the range's decoded bytes (${bytes.length} of ${expected.length})`);
        const asked = proxy.requests('download').map((entry) => [entry.range, entry.status]);
        const expectedAsks = header ? [[header, 206], [null, 200]] : [[null, 200]];
        assert.deepEqual(asked, expectedAsks, `${label}, ${reader}: a piece of encoded bytes is dropped for the whole, once`);
      }
    }
    // A reset mid-body resumes without Range (the rest is cut from the whole again).
    for (const [label, range, expected] of [
      ['whole', undefined, text],
      ['open end', { start: 100 }, text.subarray(100)],
    ]) {
      proxy.clear();
      proxy.setFaults([{ kind: 'download', fault: 'resetMidBody', when: (info) => !info.headers.range }]);
      const bytes = assertOk(await withTimeout(readers.downloadAsBytes(client(), name, { range }), 15000, label), label);
      assert.ok(Buffer.from(bytes).equals(expected), `${label}: intact after the resume`);
      const resumes = proxy.requests('download').filter((entry) => entry.range === null);
      assert.deepEqual(resumes.map((entry) => entry.fault), ['resetMidBody', null], `${label}: resumed once, whole`);
    }
    assertErr(await client().downloadAsBytes(name, { decompress: false }), 'Unsupported');
  });

  it('a ranged read succeeds though the whole-object CRC32C cannot check it', async () => {
    // Documented: the check cannot apply to part of an object. This pins that the client
    // does not fail ranged reads for want of a hash.
    proxy.clear();
    const result = await readers.downloadAsBytes(client(), object, { range: { start: 0, end: 999 } });
    assert.equal(sha256(assertOk(result)), sha256(data.subarray(0, 1000)));
  });
});

// ---------------------------------------------------------------------------------------------

/** Asserts a progress series: bytes never go back, totals as expected, and the last call. */
function checkProgress(calls, { size, total, what }) {
  assert.ok(calls.length >= 1, `${what}: onProgress was never called`);
  for (const [i, call] of calls.entries()) {
    assert.equal(typeof call.bytes, 'number', `${what}: call ${i} has numeric bytes`);
    if (i > 0) assert.ok(call.bytes >= calls[i - 1].bytes, `${what}: bytes went back at call ${i}: ${JSON.stringify(calls)}`);
    assert.ok(call.bytes <= size, `${what}: bytes ${call.bytes} > size ${size}`);
    if (total === 'known') assert.equal(call.total, size, `${what}: total at call ${i}`);
  }
  const last = calls.at(-1);
  assert.equal(last.bytes, size, `${what}: the last report covers every byte`);
  assert.equal(last.total, size, `${what}: the last report has the total`);
}

function recorder() {
  const calls = [];
  return { calls, onProgress: (p) => calls.push({ bytes: p.bytes, total: p.total, keys: Object.keys(p) }) };
}

describe('progress', () => {
  const SIZE = 3 * CHUNK + 5;
  let data;
  let object;
  before(async () => {
    data = randomBytes(SIZE);
    object = fresh('progress.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
  });

  it('uploadFromBytes in one request reports its total', async () => {
    const { calls, onProgress } = recorder();
    const small = randomBytes(100 * KiB);
    assertOk(await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromBytes(fresh(), small, { onProgress }));
    checkProgress(calls, { size: small.length, total: 'known', what: 'one-request upload' });
  });

  it('uploadFromText in one request reports its total (in bytes)', async () => {
    const { calls, onProgress } = recorder();
    const text = 'ünïcødé '.repeat(1000);
    assertOk(await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromText(fresh('t.txt'), text, { onProgress }));
    checkProgress(calls, { size: Buffer.byteLength(text), total: 'known', what: 'text upload' });
  });

  it('a resumable uploadFromBytes reports every chunk with the total', async () => {
    const { calls, onProgress } = recorder();
    assertOk(await client().uploadFromBytes(fresh(), data, { onProgress }));
    checkProgress(calls, { size: SIZE, total: 'known', what: 'resumable bytes upload' });
    assert.ok(calls.length >= 4, `one report a chunk at least: ${JSON.stringify(calls)}`);
  });

  it('uploadFromFilename reports with the file size as total', async () => {
    const file = localFile('progress-up.bin');
    await writeFile(file, data);
    const { calls, onProgress } = recorder();
    assertOk(await client().uploadFromFilename(fresh(), file, { onProgress }));
    checkProgress(calls, { size: SIZE, total: 'known', what: 'file upload' });
  });

  it('uploadFromStream leaves total undefined until the stream ends', async () => {
    const { calls, onProgress } = recorder();
    assert.equal((await streamUpload(client().uploadFromStream(fresh(), nodeStreamOf(data), { onProgress }))).ok, true);
    checkProgress(calls, { size: SIZE, total: 'unknown', what: 'stream upload' });
    for (const call of calls.slice(0, -1)) {
      assert.equal(call.total, undefined, `stream upload: total must be undefined while unknown: ${JSON.stringify(calls)}`);
    }
  });

  it('progress never goes back when a chunk is sent again', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetMidUpload', nth: 2 }]);
    const { calls, onProgress } = recorder();
    assertOk(await client().uploadFromBytes(fresh(), data, { onProgress }));
    checkProgress(calls, { size: SIZE, total: 'known', what: 'upload with a retried chunk' });
    proxy.clear();
  });

  for (const [method, run] of [
    ['downloadAsBytes', (c, options) => c.downloadAsBytes(object, options)],
    ['downloadAsText', (c, options) => c.downloadAsText(object, options)],
    ['downloadAsStream', (c, options) => streamDownload(c.downloadAsStream(object, options))],
    ['downloadToFilename', (c, options) => c.downloadToFilename(object, localFile('progress-down.bin'), options)],
  ]) {
    it(`${method} reports bytes with the object size as total`, async () => {
      const { calls, onProgress } = recorder();
      assertOk(await withTimeout(run(client(), { onProgress }), 15000, method));
      checkProgress(calls, { size: SIZE, total: 'known', what: method });
    });
  }

  it('a ranged download reports the length of the range as total', async () => {
    const { calls, onProgress } = recorder();
    assertOk(await client().downloadAsBytes(object, { range: { start: 100, end: 100099 }, onProgress }));
    checkProgress(calls, { size: 100000, total: 'known', what: 'ranged download' });
  });

  it('download progress continues (never restarts) across a resume', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: 'download', fault: 'resetMidBody' }]);
    const { calls, onProgress } = recorder();
    assertOk(await client().downloadAsBytes(object, { onProgress }));
    checkProgress(calls, { size: SIZE, total: 'known', what: 'resumed download' });
    proxy.clear();
  });

  it('a callback that throws does not break the transfer', async () => {
    const name = fresh();
    const onProgress = () => {
      throw new Error('progress callback failure');
    };
    assertOk(await client().uploadFromBytes(name, data, { onProgress }));
    const bytes = assertOk(await client().downloadAsBytes(name, { onProgress }))[0];
    assert.equal(sha256(bytes), sha256(data));
  });
});

// ---------------------------------------------------------------------------------------------

/** A stand-in sidecar whose chosen endpoints never answer (until stopped). */
async function silentSidecar(silent) {
  const held = new Set();
  const server = http.createServer((req, res) => {
    const route = new URL(req.url, 'http://x').pathname;
    if (silent.includes(route)) {
      held.add(res);
      return;
    }
    const json = (obj) => {
      const body = JSON.stringify(obj);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (route === '/object-storage/default-bucket') return json({ bucketId: TEST_BUCKET });
    if (route === '/credential') return json({ access_token: 'subject-token-for-abort-tests' });
    if (route === '/token') {
      req.resume();
      return req.on('end', () => json({ access_token: 'access-token-for-abort-tests', token_type: 'Bearer', expires_in: 3600 }));
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections?.();
        server.close(resolve);
      }),
  };
}

/** Runs `call(signal)`, aborts after `afterMs` (or at `trigger`), and expects a prompt Aborted. */
async function expectAborted(what, call, { afterMs = 100, within = 1500 } = {}) {
  const controller = new AbortController();
  const started = Date.now();
  const timer = afterMs === null ? null : setTimeout(() => controller.abort(), afterMs);
  try {
    const result = await withTimeout(call(controller.signal, controller), within + 3000, what);
    const elapsed = Date.now() - started;
    assertErr(result, 'Aborted', undefined, what);
    assert.ok(elapsed < (afterMs ?? 0) + within, `${what}: settled ${elapsed} ms after the start, not promptly after the abort`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

describe('abort', () => {
  const SIZE = 3 * CHUNK + 5;
  let data;
  let object;
  before(async () => {
    data = randomBytes(SIZE);
    object = fresh('abort.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
  });

  it('a signal aborted before the call: every method resolves Aborted and sends nothing', async () => {
    proxy.clear();
    const signal = AbortSignal.abort();
    const c = client();
    const file = localFile('never.bin');
    const src = localFile('src.bin');
    await writeFile(src, data);
    const calls = {
      copy: () => c.copy(object, fresh(), { signal }),
      delete: () => c.delete(object, { signal }),
      exists: () => c.exists(object, { signal }),
      list: () => c.list({ prefix: `${prefix}/`, signal }),
      downloadAsBytes: () => c.downloadAsBytes(object, { signal }),
      downloadAsText: () => c.downloadAsText(object, { signal }),
      downloadToFilename: () => c.downloadToFilename(object, file, { signal }),
      uploadFromBytes: () => c.uploadFromBytes(fresh(), data, { signal }),
      uploadFromText: () => c.uploadFromText(fresh(), 'text', { signal }),
      uploadFromFilename: () => c.uploadFromFilename(fresh(), src, { signal }),
    };
    for (const [method, call] of Object.entries(calls)) {
      assertErr(await withTimeout(call(), 5000, method), 'Aborted', undefined, method);
    }
    const streamError = await nextStreamError(c.downloadAsStream(object, { signal }), 5000);
    assertStreamError(streamError, StreamRequestError, 'Aborted', undefined, 'downloadAsStream');
    const up = await streamUpload(c.uploadFromStream(fresh(), nodeStreamOf(data), { signal }));
    assertErr(up, 'Aborted', undefined, 'uploadFromStream');
    assert.equal(existsSync(file), false, 'no file');
    assert.deepEqual(proxy.log.map((e) => `${e.method} ${e.kind}`), [], 'no request was sent');
    assert.ok(await emulatorMetadata(TEST_BUCKET, object), 'the object was not deleted');
  });

  it('during the default-bucket lookup', async () => {
    const sidecar = await silentSidecar(['/object-storage/default-bucket']);
    try {
      const c = new Client({ apiEndpoint: proxy.url, sidecarEndpoint: sidecar.url, accessToken: 't', requestTimeoutMs: 30000 });
      await expectAborted('exists while the default bucket is looked up', (signal) => c.exists(object, { signal }));
      await expectAborted('downloadAsBytes while the default bucket is looked up', (signal) => c.downloadAsBytes(object, { signal }));
    } finally {
      await sidecar.stop();
    }
  });

  it('while an accessToken function has not answered', async () => {
    const c = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: () => new Promise(() => {}), requestTimeoutMs: 30000 });
    await expectAborted('exists while the token function is pending', (signal) => c.exists(object, { signal }));
  });

  it('during the token exchange with the sidecar', async () => {
    const sidecar = await silentSidecar(['/token']);
    try {
      const c = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, sidecarEndpoint: sidecar.url, requestTimeoutMs: 30000 });
      await expectAborted('exists while the token exchange is pending', (signal) => c.exists(object, { signal }));
    } finally {
      await sidecar.stop();
    }
  });

  it('while waiting for an answer', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: ['metadata', 'download', 'list', 'copy', 'delete', 'upload-media', 'resumable-start'], fault: 'stall', times: Infinity }]);
    try {
      const c = client({ requestTimeoutMs: 30000, resumableThreshold: 8 * 1024 * 1024 });
      await expectAborted('exists', (signal) => c.exists(object, { signal }));
      await expectAborted('list', (signal) => c.list({ prefix: `${prefix}/`, signal }));
      await expectAborted('copy', (signal) => c.copy(object, fresh(), { signal }));
      await expectAborted('delete', (signal) => c.delete(object, { signal }));
      await expectAborted('downloadAsBytes', (signal) => c.downloadAsBytes(object, { signal }));
      await expectAborted('uploadFromBytes', (signal) => c.uploadFromBytes(fresh(), data.subarray(0, 1000), { signal }));
      await expectAborted('uploadFromFilename (session start)', async (signal) => {
        const file = localFile('abort-up.bin');
        await writeFile(file, data);
        return c.uploadFromFilename(fresh(), file, { signal });
      });
    } finally {
      proxy.clear();
    }
  });

  it('while waiting out a Retry-After', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 503, retryAfter: 30, times: Infinity }]);
    try {
      await expectAborted('exists during backoff', (signal) => client().exists(object, { signal }), { afterMs: 200 });
    } finally {
      proxy.clear();
    }
  });

  it('mid-download body: Aborted, and no file left', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: 'download', fault: 'stall', phase: 'body', times: Infinity }]);
    try {
      const c = client({ requestTimeoutMs: 30000 });
      await expectAborted('downloadAsBytes mid-body', (signal) => c.downloadAsBytes(object, { signal }));
      await expectAborted('downloadAsText mid-body', (signal) => c.downloadAsText(object, { signal }));
      const dir = path.join(localDir, `abort-dl-${++counter}`);
      await mkdir(dir);
      await expectAborted('downloadToFilename mid-body', (signal) => c.downloadToFilename(object, path.join(dir, 'out.bin'), { signal }));
      assert.deepEqual(await readdir(dir), [], 'no file (partial or temporary) is left behind');

      const controller = new AbortController();
      const readable = c.downloadAsStream(object, { signal: controller.signal });
      let received = 0;
      readable.on('data', (chunk) => {
        received += chunk.length;
      });
      setTimeout(() => controller.abort(), 150);
      const error = await nextStreamError(readable, 3000);
      assertStreamError(error, StreamRequestError, 'Aborted', undefined, 'downloadAsStream mid-body');
      assert.ok(received > 0 && received < SIZE, `some bytes arrived before the abort (${received})`);
    } finally {
      proxy.clear();
    }
  });

  it('mid-download body while the garbage collector runs: still Aborted, promptly', async () => {
    // Node's fetch follows a Request's signal through a WeakRef: once the Request is
    // collected, aborting no longer reaches the body (see faults.test.mjs, requestTimeoutMs).
    const gc = exposeGc();
    proxy.setFaults([{ kind: 'download', fault: 'stall', phase: 'body', times: Infinity }]);
    const collector = setInterval(gc, 20);
    try {
      await expectAborted('downloadAsBytes mid-body with GC running', (signal) => client({ requestTimeoutMs: 30000 }).downloadAsBytes(object, { signal }), { afterMs: 200 });
    } finally {
      clearInterval(collector);
      proxy.clear();
    }
  });

  for (const [label, upload] of [
    ['uploadFromBytes', (c, name, { signal }) => c.uploadFromBytes(name, data, { signal })],
    ['uploadFromStream', (c, name, { signal, source }) => streamUpload(c.uploadFromStream(name, source, { signal }))],
  ]) {
    it(`mid-resumable-upload (${label}): Aborted, the session is cancelled, no object exists`, async () => {
      proxy.clear();
      // The second chunk hangs; the abort comes while it does.
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'stall', nth: 2, times: Infinity }]);
      try {
        const name = fresh();
        const source = nodeStreamOf(data);
        await expectAborted(`${label} mid-upload`, (signal) => upload(client({ requestTimeoutMs: 30000 }), name, { signal, source }), { afterMs: 300 });
        const sessions = [...proxy.sessions.values()].filter((s) => s.object === name);
        assert.equal(sessions.length, 1, 'one session was opened');
        assert.ok(sessions[0].confirmed >= CHUNK, 'the first chunk had been stored');
        // The cancel is sent without waiting for it: give it a moment.
        const deadline = Date.now() + 2000;
        while (!sessions[0].cancelled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(sessions[0].cancelled, true, 'the session was cancelled (DELETE of the session URI)');
        assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'no object exists');
        if (label === 'uploadFromStream') {
          const deadline2 = Date.now() + 2000;
          while (!source.destroyed && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
          assert.equal(source.destroyed, true, 'the source stream was released (destroyed)');
        }
      } finally {
        proxy.clear();
      }
    });
  }

  it('abort after success changes nothing', async () => {
    const controller = new AbortController();
    const name = fresh();
    assertOk(await client().uploadFromBytes(name, data, { signal: controller.signal }));
    controller.abort();
    assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
  });
});

// ---------------------------------------------------------------------------------------------

describe('resumable uploads in 256 KiB chunks', () => {
  /** Checks the chunk requests of one upload: contiguous, full chunks but the last, totals. */
  function checkChunks(entries, size, { known }) {
    const chunks = entries.filter((e) => e.kind === 'resumable-chunk' && e.status !== null && e.fault === null);
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      assert.equal(chunk.start, offset, `chunk ${i} starts where the last ended: ${JSON.stringify(entries)}`);
      const length = chunk.end - chunk.start + 1;
      const last = i === chunks.length - 1;
      if (!last || chunk.total === null) assert.equal(length, CHUNK, `chunk ${i} is a full 256 KiB: ${JSON.stringify(entries)}`);
      if (known) assert.equal(chunk.total, size, `chunk ${i} names the total`);
      else if (!last) assert.equal(chunk.total, null, `chunk ${i} of a stream says */*`);
      offset = chunk.end + 1;
    }
    return offset;
  }

  for (const size of [1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]) {
    it(`uploadFromBytes of ${size} bytes: whole chunks, then the rest; data intact`, async () => {
      proxy.clear();
      const data = randomBytes(size);
      const name = fresh();
      assertOk(await client().uploadFromBytes(name, data));
      const entries = chunkLog();
      assert.equal(proxy.requests('resumable-start').length, 1, 'a resumable upload (resumableThreshold: 0)');
      const sent = checkChunks(entries, size, { known: true });
      assert.equal(sent, size, `every byte was sent: ${JSON.stringify(entries)}`);
      assert.equal(entries.length, Math.ceil(size / CHUNK), `no extra requests: ${JSON.stringify(entries)}`);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    });
  }

  it('uploadFromBytes of 0 bytes stores an empty object', async () => {
    const name = fresh();
    assertOk(await client().uploadFromBytes(name, Buffer.alloc(0)));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).size, '0');
  });

  for (const [label, size, piece, web] of [
    ['a Node stream ending exactly on a chunk boundary', 2 * CHUNK, 64 * KiB, false],
    ['a web stream of exactly one chunk, in one piece', CHUNK, CHUNK, true],
    ['a web stream ending on a boundary, in chunk-sized pieces', 3 * CHUNK, CHUNK, true],
    ['a Node stream in pieces that straddle chunks', 5 * 100 * KiB, 100 * KiB, false],
    ['a Node stream of one byte', 1, 1, false],
  ]) {
    it(`uploadFromStream of ${label}`, async () => {
      proxy.clear();
      const data = randomBytes(size);
      const name = fresh();
      const source = web ? webStreamOf(data, piece) : nodeStreamOf(data, piece);
      assert.equal((await streamUpload(client().uploadFromStream(name, source))).ok, true);
      const entries = chunkLog();
      const sent = checkChunks(entries, size, { known: false });
      assert.equal(sent, size, `every byte was sent: ${JSON.stringify(entries)}`);
      const final = entries.at(-1);
      assert.equal(final.total, size, `the last request names the total: ${JSON.stringify(entries)}`);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
      assert.deepEqual(proxy.violations, []);
    });
  }

  it('uploadFromStream of an empty stream stores an empty object', async () => {
    proxy.clear();
    const name = fresh();
    assert.equal((await streamUpload(client().uploadFromStream(name, nodeStreamOf(Buffer.alloc(0))))).ok, true);
    const meta = await emulatorMetadata(TEST_BUCKET, name);
    assert.ok(meta, 'the object exists');
    assert.equal(meta.size, '0');
    const entries = chunkLog();
    assert.equal(entries.at(-1).total, 0, `the upload was finished with bytes */0: ${JSON.stringify(entries)}`);
  });

  for (const [label, run] of [
    ['uploadFromBytes', (c, name, data) => c.uploadFromBytes(name, data)],
    ['uploadFromFilename', async (c, name, data) => {
      const file = localFile('resume.bin');
      await writeFile(file, data);
      return c.uploadFromFilename(name, file);
    }],
    ['uploadFromStream', (c, name, data) => streamUpload(c.uploadFromStream(name, nodeStreamOf(data)))],
  ]) {
    it(`${label} resumes after a reset mid-chunk: asks the session, re-sends from what it holds`, async () => {
      proxy.clear();
      const size = 4 * CHUNK + 1000;
      const data = randomBytes(size);
      const name = fresh();
      proxy.setFaults([
        { kind: 'resumable-chunk', fault: 'resetMidUpload', nth: 2 },
        { kind: 'resumable-chunk', fault: 'resetMidUpload', nth: 5 },
      ]);
      assertOk(await withTimeout(run(client(), name, data), 20000, label));
      const entries = chunkLog();
      assert.equal(entries.filter((e) => e.fault === 'resetMidUpload').length, 2, `two resets: ${JSON.stringify(entries)}`);
      // After each reset: a status query, answered 308 with what the session holds, then
      // the chunk again from there.
      for (const [i, entry] of entries.entries()) {
        if (entry.fault !== 'resetMidUpload') continue;
        const next = entries[i + 1];
        assert.equal(next.kind, 'resumable-status', `a status query follows a failed chunk: ${JSON.stringify(entries)}`);
        assert.equal(next.status, 308);
        assert.equal(entries[i + 2].start, entry.start, `the chunk is sent again from ${entry.start}: ${JSON.stringify(entries)}`);
      }
      assert.deepEqual(proxy.violations, [], 'no gaps or overlaps');
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    });
  }

  it('a lost answer to a chunk the server stored: the status query says so and the upload goes on', async () => {
    proxy.clear();
    const data = randomBytes(3 * CHUNK + 7);
    const name = fresh();
    // The second chunk reaches the emulator; its 308 is dropped.
    proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetBeforeResponse', forward: true, nth: 2 }]);
    assertOk(await withTimeout(client().uploadFromBytes(name, data), 20000, 'lost answer'));
    const entries = chunkLog();
    const status = entries.find((e) => e.kind === 'resumable-status');
    assert.ok(status, `a status query was sent: ${JSON.stringify(entries)}`);
    const after = entries[entries.indexOf(status) + 1];
    assert.equal(after.start, 2 * CHUNK, `the upload went on after the stored chunk: ${JSON.stringify(entries)}`);
    assert.deepEqual(proxy.violations, []);
    assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
  });

  it('an upload whose answer was lost never deletes the object it reads back: another writer may have replaced it', async () => {
    proxy.clear();
    const name = fresh('replaced.bin');
    const mine = randomBytes(2000);
    const theirs = randomBytes(3000);
    // The emulator stores the upload but its answer is cut; the client reads the object back,
    // and another writer replaces it while that read is held up.
    proxy.setFaults([
      { kind: 'upload-media', fault: 'resetMidBody' },
      { kind: 'metadata', fault: 'delay', ms: 1500 },
    ]);
    const pending = client({ resumableThreshold: 1 << 20 }).uploadFromBytes(name, mine); // one request
    const deadline = Date.now() + 10000;
    while (proxy.requests('metadata').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(proxy.requests('metadata').length, 1, 'the client read the object back');
    await emulatorUpload(TEST_BUCKET, name, theirs);
    const result = await withTimeout(pending, 15000, 'upload');
    assertErr(result, 'IntegrityMismatch');
    assert.match(result.error.message, /may have been replaced by another writer/);
    assert.deepEqual(proxy.requests('delete'), [], 'no delete was sent');
    assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(theirs), "the other writer's object is still there");
  });

  it('a session that has gone (410) fails the upload with an error, not a hang', async () => {
    proxy.clear();
    const data = randomBytes(3 * CHUNK);
    const name = fresh();
    proxy.setFaults([{ kind: 'resumable-chunk', fault: 'status', status: 410, nth: 2, times: Infinity }]);
    const result = await withTimeout(client().uploadFromBytes(name, data), 20000, '410');
    assertErr(result, 'Unknown', null);
    assert.match(result.error.message, /session expired or was cancelled/);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });
});

// ---------------------------------------------------------------------------------------------

describe('resumable uploads as one streamed request (Node streams request bodies; no uploadChunkSize)', () => {
  const streamed = (extra = {}) => client({ uploadChunkSize: undefined, ...extra });
  const size = 3 * CHUNK + 5;
  // Each source with a size that makes several of its pieces: bytes go in 256 KiB views, a
  // file is read 1 MiB at a time (js/node/index.cjs), and progress is told piece by piece.
  // `knownEnd`: whether the PUT says where it ends (`bytes 0-N/total`), as for bytes and Blobs;
  // before Node 19.8 (no `fs.openAsBlob`) a file goes as a stream, whose PUT leaves it open
  // (`bytes 0-*/total`).
  const sources = [
    ['uploadFromBytes', size, true, (c, name, data, options) => c.uploadFromBytes(name, data, options)],
    ['uploadFromFilename', 3 * MiB + 5, typeof fs.openAsBlob === 'function', async (c, name, data, options) => {
      const file = localFile('streamed.bin');
      await writeFile(file, data);
      return c.uploadFromFilename(name, file, options);
    }],
  ];

  for (const [label, size, knownEnd, run] of sources) {
    const end = knownEnd ? size - 1 : null;
    it(`${label} sends the session's data in one PUT, telling progress as it goes`, async () => {
      proxy.clear();
      const data = randomBytes(size);
      const name = fresh();
      const { calls, onProgress } = recorder();
      assertOk(await withTimeout(run(streamed(), name, data, { onProgress }), 20000, label));
      const entries = chunkLog();
      assert.deepEqual(
        entries.map(({ kind, start, end, total, status }) => ({ kind, start, end, total, status })),
        [{ kind: 'resumable-chunk', start: 0, end, total: size, status: 200 }],
        `one request for every byte: ${JSON.stringify(entries)}`,
      );
      checkProgress(calls, { size, total: 'known', what: label });
      assert.ok(calls.length > 2, `progress while the body streams, not only at the end: ${JSON.stringify(calls)}`);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
      assert.equal((await emulatorMetadata(TEST_BUCKET, name)).crc32c, crc32cBase64(data));
    });

    it(`${label} after a reset mid-body asks the session and sends again from what it holds`, async () => {
      proxy.clear();
      const data = randomBytes(size);
      const name = fresh();
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetMidUpload', afterBytes: CHUNK + 10, nth: 1 }]);
      assertOk(await withTimeout(run(streamed(), name, data), 20000, label));
      const entries = chunkLog();
      assert.deepEqual(
        entries.map(({ kind, start, end, status, fault }) => ({ kind, start, end, status, fault })),
        [
          { kind: 'resumable-chunk', start: 0, end, status: null, fault: 'resetMidUpload' },
          { kind: 'resumable-status', start: null, end: null, status: 308, fault: null },
          { kind: 'resumable-chunk', start: 0, end, status: 200, fault: null },
        ],
        `the reset, the status query, the PUT again from the session's 0 bytes: ${JSON.stringify(entries)}`,
      );
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data), 'hashed once: the check passed');
    });

    it(`${label}: bytes corrupted on the way are IntegrityMismatch, and the object written is removed`, async () => {
      proxy.clear();
      const data = randomBytes(size);
      const name = fresh();
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'corruptRequest', at: 2 * CHUNK, nth: 1 }]);
      const error = assertErr(await withTimeout(run(streamed(), name, data), 20000, label), 'IntegrityMismatch', null);
      assert.match(error.message, /crc32c/i);
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'the corrupted object is gone');
    });
  }

  describe('uploadFromStream', () => {
    /** A stream of `data` that gives its first `gateAt` bytes, then waits for the proxy's reset. */
    const streamPausedForReset = (data, gateAt) => {
      let offset = 0;
      const reset = () => proxy.log.some((e) => e.fault === 'resetMidUpload' && /^request reset/.test(e.note ?? ''));
      return new ReadableStream({
        async pull(controller) {
          while (offset >= gateAt && !reset()) await new Promise((resolve) => setTimeout(resolve, 5));
          if (offset >= data.length) return controller.close();
          const end = Math.min(data.length, offset + 64 * KiB, offset < gateAt ? gateAt : Infinity);
          controller.enqueue(new Uint8Array(data.subarray(offset, end)));
          offset = end;
        },
      });
    };
    const streamedLog = () => chunkLog().map(({ kind, start, end, total, status, fault }) => ({ kind, start, end, total, status, fault }));

    it('sends the whole stream in one PUT whose end is the body\'s, telling progress as it goes', async () => {
      const data = randomBytes(size);
      const name = fresh();
      const { calls, onProgress } = recorder();
      assertOk(await streamUpload(streamed().uploadFromStream(name, nodeStreamOf(data), { onProgress })));
      assert.deepEqual(streamedLog(), [{ kind: 'resumable-chunk', start: 0, end: null, total: null, status: 200, fault: null }]);
      checkProgress(calls, { size, total: 'unknown', what: 'uploadFromStream' });
      assert.ok(calls.length > 2, `progress while the body streams: ${JSON.stringify(calls)}`);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
      assert.equal((await emulatorMetadata(TEST_BUCKET, name)).crc32c, crc32cBase64(data));
    });

    it('says the total in the one PUT when contentLength is declared', async () => {
      const data = randomBytes(size);
      const name = fresh();
      assertOk(await streamUpload(streamed().uploadFromStream(name, webStreamOf(data, 100 * KiB), { contentLength: size })));
      assert.deepEqual(streamedLog(), [{ kind: 'resumable-chunk', start: 0, end: null, total: size, status: 200, fault: null }]);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    });

    it('an empty stream makes an empty object', async () => {
      const name = fresh();
      assertOk(await streamUpload(streamed().uploadFromStream(name, nodeStreamOf(new Uint8Array(0)))));
      assert.equal((await emulatorStoredBytes(TEST_BUCKET, name)).length, 0);
    });

    for (const [label, length] of [['shorter', size + 1], ['longer', size - 1]]) {
      it(`a stream ${label} than its declared contentLength is InvalidArgument, and nothing is stored`, async () => {
        const name = fresh();
        const error = assertErr(
          await streamUpload(streamed().uploadFromStream(name, nodeStreamOf(randomBytes(size)), { contentLength: length })),
          'InvalidArgument',
          null,
        );
        assert.match(error.message, new RegExp(`differs from the ${length} bytes declared`));
        assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
      });
    }

    it('after a reset mid-body, sends on from what the session kept, out of the bytes it keeps to send again', async () => {
      const data = randomBytes(size);
      const name = fresh();
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetMidUpload', afterBytes: CHUNK + 10, keep: true, nth: 1 }]);
      assertOk(await streamUpload(streamed().uploadFromStream(name, streamPausedForReset(data, 2 * CHUNK))));
      const [reset, status, rest, ...more] = streamedLog();
      assert.deepEqual(reset, { kind: 'resumable-chunk', start: 0, end: null, total: null, status: null, fault: 'resetMidUpload' });
      assert.deepEqual({ ...status, start: undefined }, { kind: 'resumable-status', start: undefined, end: null, total: null, status: 308, fault: null });
      assert.ok(rest.start >= CHUNK + 10 && rest.start < size, `sent on from what the session kept: ${JSON.stringify(rest)}`);
      assert.deepEqual({ ...rest, start: undefined }, { kind: 'resumable-chunk', start: undefined, end: null, total: null, status: 200, fault: null });
      assert.deepEqual(more, []);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data), 'the bytes resent were hashed once: the check passed');
    });

    it('a session that lost more than the stream keeps (8 MiB) fails as Network and says what to do; the session and the stream end', async () => {
      const data = randomBytes(12 * MiB);
      const name = fresh();
      const source = nodeStreamOf(data);
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetMidUpload', afterBytes: 10 * MiB, nth: 1 }]);
      const error = assertErr(await streamUpload(streamed().uploadFromStream(name, source)), 'Network', null);
      assert.match(error.message, /session holds 0 bytes, but a stream keeps only its newest bytes sent \(from \d+\)/);
      assert.match(error.message, /upload again, or set uploadChunkSize/);
      assert.ok(proxy.log.some((e) => e.kind === 'resumable-cancel'), 'the session was cancelled');
      assert.equal(source.destroyed, true, 'the source stream was cancelled');
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
    });

    it('a reset within the 8 MiB it keeps is resumed even when the session kept nothing', async () => {
      const data = randomBytes(12 * MiB);
      const name = fresh();
      proxy.setFaults([{ kind: 'resumable-chunk', fault: 'resetMidUpload', afterBytes: 5 * MiB, nth: 1 }]);
      assertOk(await streamUpload(streamed().uploadFromStream(name, streamPausedForReset(data, 5 * MiB))));
      assert.deepEqual(
        streamedLog().map(({ kind, start, status }) => ({ kind, start, status })),
        [
          { kind: 'resumable-chunk', start: 0, status: null },
          { kind: 'resumable-status', start: null, status: 308 },
          { kind: 'resumable-chunk', start: 0, status: 200 },
        ],
      );
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    });
  });

  it('an explicit uploadChunkSize keeps chunks', async () => {
    proxy.clear();
    assertOk(await streamed({ uploadChunkSize: CHUNK }).uploadFromBytes(fresh(), randomBytes(size)));
    assert.equal(chunkLog().length, 4, 'four 256 KiB-sized requests');
  });
});

describe('ifGenerationMatch', () => {
  let existing;
  let generation;
  const original = Buffer.from('the original contents');
  before(async () => {
    existing = fresh('exists.txt');
    await emulatorUpload(TEST_BUCKET, existing, original);
    generation = (await emulatorMetadata(TEST_BUCKET, existing)).generation;
  });

  it('is sent to GCS (fake-gcs-server itself ignores it on media and resumable uploads)', async () => {
    // Pinned here so the tests below say why they need the proxy: without it, an upload with
    // ifGenerationMatch: 0 over an existing object succeeds on fake-gcs-server 1.54.
    const response = await fetch(
      `${EMULATOR_URL}/upload/storage/v1/b/${TEST_BUCKET}/o?uploadType=media&name=${encodeURIComponent(fresh('direct.txt'))}&ifGenerationMatch=0`,
      { method: 'POST', body: 'x' },
    );
    await response.arrayBuffer();
    proxy.clear();
    await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromBytes(fresh(), Buffer.from('y'), { ifGenerationMatch: 0 });
    const [upload] = proxy.requests('upload-media');
    assert.match(upload.url, /[?&]ifGenerationMatch=0(&|$)/);
  });

  for (const [label, extra] of [
    ['a one-request upload', { resumableThreshold: 8 * 1024 * 1024 }],
    ['a resumable upload', { resumableThreshold: 0 }],
  ]) {
    it(`ifGenerationMatch: 0 over an existing object: PreconditionFailed 412, not retried, object unchanged (${label}; precondition enforced by the fault proxy as GCS does)`, async () => {
      proxy.clear();
      const result = await client(extra).uploadFromBytes(existing, Buffer.from('overwrite attempt'), { ifGenerationMatch: 0 });
      const error = assertErr(result, 'PreconditionFailed', 412);
      assert.equal(error.attempts, undefined, 'not retried');
      assert.equal(proxy.requests(['upload-media', 'resumable-start']).length, 1);
      assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, existing), original);
    });
  }

  it('ifGenerationMatch: 0 over an existing object, 412 injected by the fault proxy\'s status rule: PreconditionFailed', async () => {
    proxy.clear();
    proxy.setFaults([{ kind: 'upload-media', fault: 'status', status: 412 }]);
    const result = await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromBytes(existing, Buffer.from('x'), { ifGenerationMatch: 0 });
    assertErr(result, 'PreconditionFailed', 412);
    proxy.clear();
  });

  it('the current generation (number or string) lets the upload through', async () => {
    const name = fresh('gen.txt');
    await emulatorUpload(TEST_BUCKET, name, original);
    const { generation: current } = await emulatorMetadata(TEST_BUCKET, name);
    assertOk(await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromBytes(name, Buffer.from('second'), { ifGenerationMatch: current }));
    assert.equal(String(await emulatorStoredBytes(TEST_BUCKET, name)), 'second');
    const { generation: next } = await emulatorMetadata(TEST_BUCKET, name);
    assert.ok(Number.isSafeInteger(Number(next)), `the emulator's generations fit a JS number (${next})`);
    assertOk(await client().uploadFromBytes(name, Buffer.from('third'), { ifGenerationMatch: Number(next) }), 'a generation given as a number');
    assert.equal(String(await emulatorStoredBytes(TEST_BUCKET, name)), 'third');
    assert.ok(generation);
  });

  it('a stale generation is PreconditionFailed', async () => {
    const result = await client({ resumableThreshold: 8 * 1024 * 1024 }).uploadFromBytes(existing, Buffer.from('x'), { ifGenerationMatch: '1' });
    assertErr(result, 'PreconditionFailed', 412);
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, existing), original);
  });
});
