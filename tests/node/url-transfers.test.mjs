// uploadToUrl and downloadFromUrl against signed URLs from the sidecar stand-in, whose gate
// checks them as GCS does (a wrong signature or method: 403 SignatureDoesNotMatch; expired:
// 400 ExpiredToken, both as XML): every body kind with its progress, the content type stored,
// whole and ranged downloads, each refusal's kind, aborts, and no signature in any message.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { describe, it } from 'node:test';

import { downloadFromUrl, uploadToUrl } from 'replit-object-storage-wasm';

import {
  SIDECAR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  closedPortUrl,
  emulatorMetadata,
  emulatorStoredBytes,
  emulatorUpload,
  testObjects,
} from './helpers.mjs';

const { fresh } = testObjects('url-transfers');

/** Every error message the tests saw, checked at the end for signatures. */
const messages = [];
const signatures = new Set();

/** A signed URL from the sidecar stand-in, as the server side of an app would get one. */
async function signedUrl(objectName, method, expiresInSeconds = 900) {
  const response = await fetch(`${SIDECAR_URL}/object-storage/signed-object-url`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      bucket_name: TEST_BUCKET,
      object_name: objectName,
      method,
      expires_at: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, `signing ${method} ${objectName}: ${JSON.stringify(body)}`);
  signatures.add(new URL(body.signed_url).searchParams.get('X-Goog-Signature'));
  return body.signed_url;
}

function failed(result, kind, statusCode) {
  const error = assertErr(result, kind, statusCode);
  messages.push(error.message);
  return error;
}

/** An onProgress that records its events, and the checks every transfer's events pass. */
function progressLog() {
  const events = [];
  return {
    events,
    onProgress: (event) => events.push(event),
    check(total, what) {
      assert.ok(events.length > 0, `${what}: no progress events`);
      for (const [i, event] of events.entries()) {
        assert.equal(event.loaded, event.bytes, `${what}: loaded and bytes are the same number`);
        assert.equal(event.total, total, `${what}: event ${i} total`);
        if (i > 0) assert.ok(event.loaded >= events[i - 1].loaded, `${what}: progress went back at event ${i}`);
      }
      assert.equal(events.at(-1).loaded, total, `${what}: the last event has loaded === total`);
    },
  };
}

describe('uploadToUrl', () => {
  it('uploads a Blob with its content type, reporting progress as it goes up', async () => {
    const name = fresh('photo.png');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const progress = progressLog();
    const url = await signedUrl(name, 'PUT');
    const blob = new Blob([bytes], { type: 'image/png' });
    const result = await uploadToUrl(url, blob, { headers: { 'Content-Type': 'image/png' }, onProgress: progress.onProgress });
    assert.deepEqual(result, { ok: true, value: null });
    progress.check(bytes.length, 'Blob upload');
    assert.ok(progress.events.length >= 3, `a 3 MiB upload reports along the way, got ${progress.events.length} events`);
    assert.ok(progress.events[0].loaded < bytes.length, 'the first event comes before the end');
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes);
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'image/png');
  });

  it('uploads bytes (Buffer, Uint8Array, ArrayBuffer) and strings as UTF-8', async () => {
    const text = 'Grüße, signed URLs! ✓';
    const bodies = [
      ['Buffer', Buffer.from('a Node Buffer'), Buffer.from('a Node Buffer')],
      ['Uint8Array view', new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4), Buffer.from([1, 2, 3])],
      ['ArrayBuffer', new Uint8Array([4, 5, 6]).buffer, Buffer.from([4, 5, 6])],
      ['string', text, Buffer.from(text, 'utf8')],
    ];
    for (const [kind, body, stored] of bodies) {
      const name = fresh('body.txt');
      const progress = progressLog();
      const headers = { 'content-type': 'text/plain; charset=utf-8' };
      assertOk(await uploadToUrl(await signedUrl(name, 'PUT'), body, { headers, onProgress: progress.onProgress }), kind);
      progress.check(stored.length, kind);
      assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), stored, kind);
      assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'text/plain; charset=utf-8', kind);
    }
  });

  // Whatever their size, with or without onProgress, as fetch sends a Blob or bytes itself.
  it('sends its Content-Length, never chunked, and a Blob its own type when the headers name none', async () => {
    const seen = [];
    const server = http.createServer((req, res) => {
      let length = 0;
      req.on('data', (piece) => (length += piece.length));
      req.on('end', () => {
        seen.push({ length, contentLength: req.headers['content-length'], chunked: req.headers['transfer-encoding'], type: req.headers['content-type'] });
        res.end();
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${server.address().port}/${TEST_BUCKET}/o.bin?X-Goog-Signature=beef0123beef4567`;
      signatures.add('beef0123beef4567');
      const large = 300 * 1024;
      for (const body of [new Blob([randomBytes(large)], { type: 'image/png' }), new Blob(['tiny'], { type: 'text/plain' }), randomBytes(large)]) {
        assertOk(await uploadToUrl(url, body));
      }
      assertOk(await uploadToUrl(url, new Blob([randomBytes(large)], { type: 'image/png' }), { headers: { 'content-type': 'image/webp' } }));
      assert.deepEqual(seen, [
        { length: large, contentLength: String(large), chunked: undefined, type: 'image/png' },
        { length: 4, contentLength: '4', chunked: undefined, type: 'text/plain' },
        { length: large, contentLength: String(large), chunked: undefined, type: undefined },
        { length: large, contentLength: String(large), chunked: undefined, type: 'image/webp' },
      ]);
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stores a large Blob with its own type through a signed URL', async () => {
    const name = fresh('large.png');
    assertOk(await uploadToUrl(await signedUrl(name, 'PUT'), new Blob([randomBytes(300 * 1024)], { type: 'image/png' })));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'image/png');
  });

  it('overwrites, and uploads an empty body', async () => {
    const name = fresh('empty.bin');
    assertOk(await uploadToUrl(await signedUrl(name, 'PUT'), 'first'));
    const progress = progressLog();
    assertOk(await uploadToUrl(await signedUrl(name, 'PUT'), new Uint8Array(0), { onProgress: progress.onProgress }));
    progress.check(0, 'empty upload');
    assert.equal((await emulatorStoredBytes(TEST_BUCKET, name)).length, 0);
  });

  it('is Forbidden with a URL signed for another method, another object, or tampered with', async () => {
    const name = fresh();
    const forGet = await signedUrl(name, 'GET');
    const error = failed(await uploadToUrl(forGet, 'x'), 'Forbidden', 403);
    assert.match(error.message, /SignatureDoesNotMatch/);
    const other = await signedUrl(fresh(), 'PUT');
    const moved = other.replace(/\/[^/?]+\?/, `/${encodeURIComponent('elsewhere.bin')}?`);
    failed(await uploadToUrl(moved, 'x'), 'Forbidden', 403);
    const tampered = await signedUrl(name, 'PUT');
    const signature = new URL(tampered).searchParams.get('X-Goog-Signature');
    const flipped = tampered.replace(signature, `${signature[0] === 'a' ? 'b' : 'a'}${signature.slice(1)}`);
    signatures.add(flipped.match(/X-Goog-Signature=([^&]+)/)[1]);
    failed(await uploadToUrl(flipped, 'x'), 'Forbidden', 403);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'nothing was stored');
  });

  it('says an expired URL expired (Forbidden, status 400 as GCS sends it)', async () => {
    const name = fresh();
    const url = await signedUrl(name, 'PUT', 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const error = failed(await uploadToUrl(url, 'late'), 'Forbidden', 400);
    assert.match(error.message, /expired/);
    assert.match(error.message, /ExpiredToken/);
  });

  it('is Aborted when the signal fires mid-upload, and at once when it already had', async () => {
    const name = fresh();
    const url = await signedUrl(name, 'PUT');
    const controller = new AbortController();
    const started = Date.now();
    const result = await uploadToUrl(url, new Blob([randomBytes(32 * 1024 * 1024)]), {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    failed(result, 'Aborted', null);
    assert.ok(Date.now() - started < 10_000, 'the abort stopped the upload');
    failed(await uploadToUrl(url, 'x', { signal: AbortSignal.abort() }), 'Aborted', null);
  });

  it('is a Network error when nothing answers', async () => {
    const url = `${await closedPortUrl()}/${TEST_BUCKET}/o.bin?X-Goog-Signature=deadbeef0123`;
    signatures.add('deadbeef0123');
    failed(await uploadToUrl(url, 'x'), 'Network', null);
  });

  it('refuses bad arguments as InvalidArgument, before sending', async () => {
    const url = await signedUrl(fresh(), 'PUT');
    for (const [what, promise] of [
      ['a missing url', uploadToUrl(undefined, 'x')],
      ['a relative url', uploadToUrl('/upload?X-Goog-Signature=cafe0123cafe4567', 'x')],
      ['an unparsable url', uploadToUrl('http://[nope/b/o?X-Goog-Signature=cafe0123cafe4567', 'x')],
      ['a number body', uploadToUrl(url, 42)],
      ['a missing body', uploadToUrl(url)],
      ['a stream body', uploadToUrl(url, new Blob(['x']).stream())],
      ['headers that are not an object', uploadToUrl(url, 'x', { headers: 'text/plain' })],
      ['a header value that is not a string', uploadToUrl(url, 'x', { headers: { 'content-type': 5 } })],
      ['a header name fetch refuses', uploadToUrl(url, 'x', { headers: { 'bad header': 'x' } })],
      ['an onProgress that is not a function', uploadToUrl(url, 'x', { onProgress: 1 })],
    ]) {
      messages.push(assertErr(await promise, 'InvalidArgument', null, what).message);
    }
    signatures.add('cafe0123cafe4567');
  });
});

describe('downloadFromUrl', () => {
  const bytes = randomBytes(2 * 1024 * 1024 + 5);
  let name;
  let url;

  it('downloads a whole object into a Buffer, reporting progress', async () => {
    name = fresh('data.bin');
    await emulatorUpload(TEST_BUCKET, name, bytes);
    url = await signedUrl(name, 'GET');
    const progress = progressLog();
    const value = assertOk(await downloadFromUrl(url, { onProgress: progress.onProgress }));
    assert.ok(Buffer.isBuffer(value), 'Node gets a Buffer');
    assert.ok(value.equals(bytes), 'the bytes stored');
    progress.check(bytes.length, 'whole download');
  });

  it('downloads {start, end} and {suffix} ranges', async () => {
    const progress = progressLog();
    const middle = assertOk(await downloadFromUrl(url, { range: { start: 1000, end: 1999 }, onProgress: progress.onProgress }));
    assert.ok(middle.equals(bytes.subarray(1000, 2000)));
    progress.check(1000, '{start, end}');
    const open = assertOk(await downloadFromUrl(url, { range: { start: bytes.length - 10 } }));
    assert.ok(open.equals(bytes.subarray(bytes.length - 10)));
    const suffixProgress = progressLog();
    const tail = assertOk(await downloadFromUrl(url, { range: { suffix: 4096 }, onProgress: suffixProgress.onProgress }));
    assert.ok(tail.equals(bytes.subarray(bytes.length - 4096)));
    suffixProgress.check(4096, '{suffix}');
  });

  it('refuses a range past the end and a contradictory range as InvalidArgument', async () => {
    const past = failed(await downloadFromUrl(url, { range: { start: bytes.length + 10 } }), 'InvalidArgument', 416);
    assert.match(past.message, /past the end/);
    failed(await downloadFromUrl(url, { range: { start: 5, end: 4 } }), 'InvalidArgument', null);
  });

  it('is ObjectNotFound for a missing object', async () => {
    const missing = await signedUrl(fresh('never-uploaded.bin'), 'GET');
    failed(await downloadFromUrl(missing), 'ObjectNotFound', 404);
  });

  it('is Forbidden with a URL signed for PUT, or tampered with, and when expired', async () => {
    const error = failed(await downloadFromUrl(await signedUrl(name, 'PUT')), 'Forbidden', 403);
    assert.match(error.message, /SignatureDoesNotMatch/);
    failed(await downloadFromUrl(url.replace('X-Goog-Expires=', 'X-Goog-Expires=1')), 'Forbidden', 403);
    const shortLived = await signedUrl(name, 'GET', 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.match(failed(await downloadFromUrl(shortLived), 'Forbidden', 400).message, /expired/);
  });

  it('is Aborted when the signal fires', async () => {
    const controller = new AbortController();
    const result = await downloadFromUrl(url, { signal: controller.signal, onProgress: () => controller.abort() });
    failed(result, 'Aborted', null);
    failed(await downloadFromUrl(url, { signal: AbortSignal.abort() }), 'Aborted', null);
  });

  it('is a Network error when nothing answers (after retries), and InvalidArgument for a bad url', async () => {
    failed(await downloadFromUrl(`${await closedPortUrl()}/b/o?X-Goog-Signature=deadbeef0123`), 'Network', null);
    failed(await downloadFromUrl('ftp://example.com/o?X-Goog-Signature=cafe0123cafe4567'), 'InvalidArgument', null);
    failed(await downloadFromUrl(42), 'InvalidArgument', null);
  });
});

describe('signed URLs in messages', () => {
  it('never shows a signature', () => {
    assert.ok(messages.length >= 15, `collected ${messages.length} messages`);
    for (const message of messages) {
      for (const signature of signatures) {
        assert.ok(!message.includes(signature), `a message shows a signature: ${message}`);
      }
    }
    assert.ok(messages.some((message) => message.includes('[redacted]')), 'messages that quote the URL redact its signature');
  });
});
