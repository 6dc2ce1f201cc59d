// downloadAsStream and uploadFromStream: a Node Readable returned synchronously, errors as
// StreamRequestError 'error' events; uploads from Node and web streams that resolve to
// undefined, and reject (never hang) when the request or the source stream fails.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import {
  MISSING_BUCKET,
  TEST_BUCKET,
  allByteValues,
  assertOk,
  assertRequestError,
  assertResult,
  assertStreamError,
  emulatorMetadata,
  emulatorStoredBytes,
  makeTempDir,
  nextStreamError,
  readAll,
  rejectionOf,
  removeDir,
  sha256,
  testObjects,
  withTimeout,
} from './helpers.mjs';

const { fresh } = testObjects('streams');
let client;
let localDir;

before(async () => {
  client = new Client({ bucketId: TEST_BUCKET });
  localDir = await makeTempDir();
});

after(async () => {
  await removeDir(localDir);
});

/** A Node Readable that yields `chunks`, then fails with `error`. */
function failingReadable(chunks, error) {
  let index = 0;
  return new Readable({
    read() {
      if (index < chunks.length) {
        this.push(chunks[index++]);
      } else {
        setTimeout(() => this.destroy(error), 10);
      }
    },
  });
}

/** A web ReadableStream of the given chunks. */
function webStream(chunks) {
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      if (index < chunks.length) controller.enqueue(new Uint8Array(chunks[index++]));
      else controller.close();
    },
  });
}

function chunksOf(bytes, size) {
  const chunks = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

describe('downloadAsStream', () => {
  it('returns a Node Readable at once, before any I/O', () => {
    const stream = client.downloadAsStream(fresh('not-read.txt'));
    assert.ok(stream instanceof Readable, 'must be a stream.Readable');
    assert.equal(typeof stream.then, 'undefined', 'must not be a promise');
    // Not consumed: swallow its eventual error (the object does not exist).
    stream.on('error', () => {});
    stream.destroy();
  });

  it('streams the exact bytes of a multi-MiB object', async () => {
    const name = fresh('big.bin');
    const bytes = Buffer.concat([allByteValues(), randomBytes(4 * 1024 * 1024 + 333)]);
    assertOk(await client.uploadFromBytes(name, bytes));
    const downloaded = await readAll(client.downloadAsStream(name));
    assert.equal(downloaded.length, bytes.length);
    assert.equal(sha256(downloaded), sha256(bytes));
  });

  it('yields Buffers when read with "data" events', async () => {
    const name = fresh('data-events.txt');
    assertOk(await client.uploadFromText(name, 'chunky'));
    const stream = client.downloadAsStream(name);
    const chunks = [];
    await new Promise((resolve, reject) => {
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (const chunk of chunks) assert.ok(Buffer.isBuffer(chunk), 'chunks must be Buffers');
    assert.equal(Buffer.concat(chunks).toString(), 'chunky');
  });

  it('pipes into a file with stream.pipeline', async () => {
    const name = fresh('piped.bin');
    const bytes = randomBytes(1024 * 1024 + 1);
    assertOk(await client.uploadFromBytes(name, bytes));
    const file = path.join(localDir, 'piped.bin');
    await pipeline(client.downloadAsStream(name), createWriteStream(file));
    assert.equal(sha256(await readFile(file)), sha256(bytes));
  });

  it('an empty object is a stream that just ends', async () => {
    const name = fresh('empty.bin');
    assertOk(await client.uploadFromBytes(name, Buffer.alloc(0)));
    assert.equal((await readAll(client.downloadAsStream(name))).length, 0);
  });

  it('decompresses a gzip-stored object', async () => {
    const name = fresh('compressed.txt');
    const text = 'stream me '.repeat(5000);
    assertOk(await client.uploadFromText(name, text, { compress: true }));
    assert.equal((await readAll(client.downloadAsStream(name))).toString(), text);
  });

  it('a missing object: an "error" event with StreamRequestError ObjectNotFound 404', async () => {
    const error = await nextStreamError(client.downloadAsStream(fresh('missing.txt')));
    const requestError = assertStreamError(error, StreamRequestError, 'ObjectNotFound', 404);
    assert.equal(error.message, `404: ${requestError.message}`);
  });

  it('a missing bucket: StreamRequestError BucketNotFound 404', async () => {
    const missing = new Client({ bucketId: MISSING_BUCKET });
    const error = await nextStreamError(missing.downloadAsStream('anything.txt'));
    assertStreamError(error, StreamRequestError, 'BucketNotFound', 404);
  });

  it('decompress: false on a gzip-stored object: StreamRequestError Unsupported', async () => {
    const name = fresh('compressed-unsupported.txt');
    assertOk(await client.uploadFromText(name, 'zip', { compress: true }));
    const error = await nextStreamError(client.downloadAsStream(name, { decompress: false }));
    assertStreamError(error, StreamRequestError, 'Unsupported');
  });

  it('a failed download rejects for await, too', async () => {
    const stream = client.downloadAsStream(fresh('missing-for-await.txt'));
    const error = await rejectionOf(readAll(stream), 'for await over a failed download');
    assertStreamError(error, StreamRequestError, 'ObjectNotFound', 404);
  });

  it('destroying the stream early is clean (no uncaught error, later calls work)', async () => {
    const name = fresh('destroyed.bin');
    const bytes = randomBytes(6 * 1024 * 1024);
    assertOk(await client.uploadFromBytes(name, bytes));
    const stream = client.downloadAsStream(name);
    const errors = [];
    stream.on('error', (error) => errors.push(error));
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stream.destroyed, true);
    assert.deepEqual(errors, [], 'destroy() without an error must not emit one');
    assertResult(await client.exists(name), { ok: true, value: true });
  });
});

describe('uploadFromStream', () => {
  it('a PassThrough: resolves to undefined and stores the bytes', async () => {
    const name = fresh('pass-through.txt');
    const stream = new PassThrough();
    stream.end('Hello stream');
    assert.equal(await withTimeout(client.uploadFromStream(name, stream), 20000, 'upload'), undefined);
    assertResult(await client.downloadAsText(name), { ok: true, value: 'Hello stream' });
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'text/plain');
  });

  it('a multi-MiB Node Readable in uneven chunks', async () => {
    const name = fresh('big.bin');
    const bytes = randomBytes(5 * 1024 * 1024 + 4321);
    const stream = Readable.from(chunksOf(bytes, 100003));
    await withTimeout(client.uploadFromStream(name, stream), 60000, 'upload');
    const stored = await emulatorStoredBytes(TEST_BUCKET, name);
    assert.equal(stored.length, bytes.length);
    assert.equal(sha256(stored), sha256(bytes));
  });

  it('all 256 byte values, one byte per chunk', async () => {
    const name = fresh('bytes.bin');
    const bytes = allByteValues();
    await withTimeout(client.uploadFromStream(name, Readable.from(chunksOf(bytes, 1))), 20000, 'upload');
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes);
  });

  it('a stream of strings', async () => {
    const name = fresh('strings.txt');
    await withTimeout(client.uploadFromStream(name, Readable.from(['héllo ', 'wörld 🌍'])), 20000, 'upload');
    assertResult(await client.downloadAsText(name), { ok: true, value: 'héllo wörld 🌍' });
  });

  it('a web ReadableStream', async () => {
    const name = fresh('web.bin');
    const bytes = randomBytes(2 * 1024 * 1024 + 17);
    assert.equal(
      await withTimeout(client.uploadFromStream(name, webStream(chunksOf(bytes, 65536))), 60000, 'upload'),
      undefined,
    );
    assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(bytes));
  });

  it('an empty stream makes an empty object', async () => {
    const name = fresh('empty.bin');
    await withTimeout(client.uploadFromStream(name, Readable.from([])), 20000, 'upload');
    assert.equal((await emulatorMetadata(TEST_BUCKET, name))?.size, '0');
  });

  it('overwrites an existing object', async () => {
    const name = fresh('overwrite.txt');
    assertOk(await client.uploadFromText(name, 'old contents that are longer'));
    await withTimeout(client.uploadFromStream(name, Readable.from([Buffer.from('new')])), 20000, 'upload');
    assertResult(await client.downloadAsText(name), { ok: true, value: 'new' });
  });

  it('compress: true stores gzip', async () => {
    const name = fresh('compressed.txt');
    const text = 'gzip me '.repeat(4000);
    await withTimeout(client.uploadFromStream(name, Readable.from([text]), { compress: true }), 20000, 'upload');
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentEncoding, 'gzip');
    assert.equal(gunzipSync(await emulatorStoredBytes(TEST_BUCKET, name)).toString(), text);
    assertResult(await client.downloadAsText(name), { ok: true, value: text });
  });

  it('a Node stream that errors mid-way: rejects with StreamRequestError (never hangs), stores nothing', async () => {
    const name = fresh('source-fails.bin');
    const source = failingReadable(chunksOf(randomBytes(512 * 1024), 65536), new Error('disk on fire'));
    const error = await rejectionOf(client.uploadFromStream(name, source), 'upload from a failing stream');
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    assertRequestError(error.getRequestError(), 'LocalFile', null);
    assert.match(error.message, /disk on fire/, 'the source\'s own error is in the message');
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'a failed upload must not leave an object');
  });

  it('a Node stream that errors before its first chunk: rejects', async () => {
    const name = fresh('source-fails-at-once.bin');
    const error = await rejectionOf(
      client.uploadFromStream(name, failingReadable([], new Error('nothing to read'))),
      'upload from a stream that fails at once',
    );
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    assertRequestError(error.getRequestError(), 'LocalFile', null);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('a multi-MiB Node stream that errors late: rejects, stores nothing', async () => {
    const name = fresh('source-fails-late.bin');
    const source = failingReadable(chunksOf(randomBytes(3 * 1024 * 1024), 256 * 1024), new Error('late failure'));
    const error = await rejectionOf(client.uploadFromStream(name, source), 'upload from a late-failing stream', 60000);
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    assertRequestError(error.getRequestError(), 'LocalFile', null);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('a web stream that errors mid-way: rejects with StreamRequestError', async () => {
    const name = fresh('web-fails.bin');
    let sent = 0;
    const source = new ReadableStream({
      pull(controller) {
        if (sent++ < 3) controller.enqueue(new Uint8Array(65536));
        else controller.error(new Error('web source failed'));
      },
    });
    const error = await rejectionOf(client.uploadFromStream(name, source), 'upload from a failing web stream');
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error?.stack ?? error}`);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('a missing bucket: rejects with StreamRequestError BucketNotFound, status kept', async () => {
    const missing = new Client({ bucketId: MISSING_BUCKET });
    const error = await rejectionOf(
      missing.uploadFromStream('anything.txt', Readable.from([Buffer.from('x')])),
      'upload to a missing bucket',
    );
    const requestError = assertStreamError(error, StreamRequestError, 'BucketNotFound', 404);
    assert.equal(error.message, `404: ${requestError.message}`);
  });

  it('a multi-MiB upload to a missing bucket also keeps the status', async () => {
    const missing = new Client({ bucketId: MISSING_BUCKET });
    const error = await rejectionOf(
      missing.uploadFromStream('big.bin', Readable.from(chunksOf(randomBytes(3 * 1024 * 1024), 65536))),
      'big upload to a missing bucket',
      60000,
    );
    assertStreamError(error, StreamRequestError, 'BucketNotFound', 404);
  });

  it('the client works after a failed stream upload', async () => {
    const name = fresh('after-failure.txt');
    await rejectionOf(
      client.uploadFromStream(fresh('x.bin'), failingReadable([Buffer.from('x')], new Error('boom'))),
      'failing upload',
    );
    await withTimeout(client.uploadFromStream(name, Readable.from(['fine'])), 20000, 'upload');
    assertResult(await client.downloadAsText(name), { ok: true, value: 'fine' });
  });
});

describe('StreamRequestError', () => {
  it('is an Error carrying the RequestError, with the status in the message', () => {
    const requestError = { kind: 'Forbidden', message: 'no access', statusCode: 403 };
    const error = new StreamRequestError(requestError);
    assert.ok(error instanceof Error);
    assert.ok(error instanceof StreamRequestError);
    assert.equal(error.message, '403: no access');
    assert.equal(error.kind, 'Forbidden');
    assert.deepEqual(error.getRequestError(), requestError);
    assert.equal(typeof error.stack, 'string');
  });

  it('without a status, the message is the RequestError message', () => {
    const error = new StreamRequestError({ kind: 'Network', message: 'connection refused' });
    assert.equal(error.message, 'connection refused');
    assert.equal(error.kind, 'Network');
    assert.equal(error.getRequestError().statusCode, undefined);
  });
});
