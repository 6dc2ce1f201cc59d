// Signed URLs: signUrl and createUploadUrl ask the sidecar stand-in, whose URLs point at the
// gate, which checks them as GCS does (another method or a changed signature: 403
// SignatureDoesNotMatch; past its time: 400 ExpiredToken) and then reads or writes the
// emulator. Each URL is used with plain fetch, holding no token, as a browser would.
// Sidecar refusals and malformed answers come from a fault proxy in front of the stand-in,
// so the shared stand-in's state is never changed; the web client is checked to refuse
// without loading its wasm.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { Client } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  DEFAULT_BUCKET,
  SIDECAR_URL,
  TEST_BUCKET,
  allByteValues,
  assertErr,
  assertOk,
  closedPortUrl,
  emulatorDeletePrefix,
  emulatorMetadata,
  emulatorUpload,
  testObjects,
  withTimeout,
} from './helpers.mjs';

const { prefix, fresh } = testObjects('signing');

/** Signs through the stand-in; reads and writes of its own go straight to the emulator. */
const signer = (options = {}) => new Client({ bucketId: TEST_BUCKET, sidecarEndpoint: SIDECAR_URL, ...options });
let client;

/** A stored object with known bytes, put there without the client under test. */
async function stored(suffix, body = allByteValues(), contentType = 'application/octet-stream') {
  const name = fresh(suffix);
  await emulatorUpload(TEST_BUCKET, name, body, contentType);
  return { name, body };
}

/** The gate's XML error code, as GCS sends it. */
async function errorCode(response) {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

const SECOND = 1000;

before(() => {
  client = signer();
});

describe('signUrl', () => {
  it('a GET URL gives the object to plain fetch, for 15 minutes by default', async () => {
    const { name, body } = await stored('dir/photo one.png');
    const startedAt = Date.now();
    const signed = assertOk(await client.signUrl(name));
    assert.equal(signed.method, 'GET');
    assert.ok(signed.expiresAt instanceof Date, 'expiresAt is a Date');
    const lifetime = signed.expiresAt.getTime() - startedAt;
    assert.ok(lifetime >= 900 * SECOND && lifetime <= 900 * SECOND + 5 * SECOND, `expires in ~900 s, got ${lifetime} ms`);
    const url = new URL(signed.url);
    assert.equal(url.searchParams.get('X-Goog-Expires'), '900', 'the sidecar was asked for 900 s');
    assert.equal(url.pathname, `/${TEST_BUCKET}/${name.split('/').map(encodeURIComponent).join('/')}`);

    const response = await fetch(signed.url);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
  });

  it('expiresIn sets the lifetime the sidecar signs for', async () => {
    const { name } = await stored('hour.bin');
    const signed = assertOk(await client.signUrl(name, { expiresIn: 3600 }));
    assert.equal(new URL(signed.url).searchParams.get('X-Goog-Expires'), '3600');
    const week = assertOk(await client.signUrl(name, { expiresIn: 604800 }));
    assert.equal(new URL(week.url).searchParams.get('X-Goog-Expires'), '604800');
    assert.ok(Math.abs(week.expiresAt.getTime() - (Date.now() + 604800 * SECOND)) < 5 * SECOND);
  });

  it('a PUT URL uploads, and the object keeps the content type sent', async () => {
    const name = fresh('upload.csv');
    const signed = assertOk(await client.signUrl(name, { method: 'PUT' }));
    assert.equal(signed.method, 'PUT');
    const body = 'a,b\n1,2\n';
    const response = await fetch(signed.url, { method: 'PUT', headers: { 'Content-Type': 'text/csv' }, body });
    assert.equal(response.status, 200, await response.clone().text());
    const meta = await emulatorMetadata(TEST_BUCKET, name);
    assert.equal(meta.contentType, 'text/csv');
    assert.equal(assertOk(await client.downloadAsText(name)), body);
  });

  it('a DELETE URL removes the object', async () => {
    const { name } = await stored('doomed.bin');
    const signed = assertOk(await client.signUrl(name, { method: 'DELETE' }));
    const response = await fetch(signed.url, { method: 'DELETE' });
    assert.ok(response.ok, `deleted, got ${response.status}`);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'the object is gone');
  });

  it('a HEAD URL answers with the headers and no body', async () => {
    const { name, body } = await stored('head.bin');
    const signed = assertOk(await client.signUrl(name, { method: 'HEAD' }));
    assert.equal(signed.method, 'HEAD');
    const response = await fetch(signed.url, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(body.length));
    assert.equal((await response.arrayBuffer()).byteLength, 0);
  });

  it('the method may be written in lower case; the result names it in upper case', async () => {
    const { name, body } = await stored('lower.bin');
    const signed = assertOk(await client.signUrl(name, { method: 'get' }));
    assert.equal(signed.method, 'GET');
    assert.deepEqual(Buffer.from(await (await fetch(signed.url)).arrayBuffer()), body);
  });

  it('a URL used with another method is refused: 403 SignatureDoesNotMatch', async () => {
    const { name } = await stored('read-only.bin');
    const signed = assertOk(await client.signUrl(name));
    for (const method of ['PUT', 'DELETE', 'HEAD']) {
      const response = await fetch(signed.url, { method, body: method === 'PUT' ? 'overwrite' : undefined });
      assert.equal(response.status, 403, method);
      if (method !== 'HEAD') assert.equal(await errorCode(response), 'SignatureDoesNotMatch', method);
    }
    assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'the object is still there');
  });

  it('a URL whose signature was changed is refused: 403 SignatureDoesNotMatch', async () => {
    const { name } = await stored('tampered.bin');
    const url = new URL(assertOk(await client.signUrl(name)).url);
    const signature = url.searchParams.get('X-Goog-Signature');
    url.searchParams.set('X-Goog-Signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    const response = await fetch(url);
    assert.equal(response.status, 403);
    assert.equal(await errorCode(response), 'SignatureDoesNotMatch');

    const other = new URL(assertOk(await client.signUrl(name)).url);
    other.pathname = other.pathname.replace('tampered.bin', 'other.bin');
    assert.equal((await fetch(other)).status, 403, 'a signature is for one object only');
  });

  it('an expired URL is refused: 400 ExpiredToken', async () => {
    const { name } = await stored('short-lived.bin');
    const signed = assertOk(await client.signUrl(name, { expiresIn: 1 }));
    assert.ok(signed.expiresAt.getTime() - Date.now() <= SECOND);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const response = await fetch(signed.url);
    assert.equal(response.status, 400);
    assert.equal(await errorCode(response), 'ExpiredToken');
  });

  it('without bucketId the default bucket is signed for', async () => {
    const defaultClient = new Client({ sidecarEndpoint: SIDECAR_URL });
    const name = fresh('in-default.bin');
    const signed = assertOk(await defaultClient.signUrl(name, { method: 'PUT' }));
    assert.ok(new URL(signed.url).pathname.startsWith(`/${DEFAULT_BUCKET}/`), signed.url);
    const response = await fetch(signed.url, { method: 'PUT', body: 'x' });
    assert.equal(response.status, 200);
    assert.ok(await emulatorMetadata(DEFAULT_BUCKET, name), 'stored in the default bucket');
    await emulatorDeletePrefix(DEFAULT_BUCKET, `${prefix}/`);
  });

  it('accepts a {name} object as list gives it', async () => {
    const { name, body } = await stored('listed.bin');
    const signed = assertOk(await client.signUrl({ name }));
    assert.deepEqual(Buffer.from(await (await fetch(signed.url)).arrayBuffer()), body);
  });
});

describe('createUploadUrl', () => {
  it('a signed PUT and its headers: fetch with them uploads, with the content type given', async () => {
    const name = fresh('report.bin');
    const startedAt = Date.now();
    const upload = assertOk(await client.createUploadUrl(name, { contentType: 'application/pdf' }));
    assert.deepEqual(Object.keys(upload).sort(), ['expiresAt', 'headers', 'method', 'url']);
    assert.equal(upload.method, 'PUT');
    assert.deepEqual(upload.headers, { 'Content-Type': 'application/pdf' });
    assert.ok(upload.expiresAt instanceof Date);
    assert.ok(Math.abs(upload.expiresAt.getTime() - (startedAt + 900 * SECOND)) < 5 * SECOND);
    const body = allByteValues();
    const response = await fetch(upload.url, { method: upload.method, headers: upload.headers, body });
    assert.equal(response.status, 200);
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'application/pdf');
    assert.deepEqual(Buffer.from(assertOk(await client.downloadAsBytes(name))[0]), body);
  });

  it('without contentType the type is guessed from the name, as uploads guess it', async () => {
    for (const [suffix, type] of [['avatar.PNG', 'image/png'], ['notes.txt', 'text/plain'], ['no-extension', 'application/octet-stream']]) {
      const name = fresh(suffix);
      const upload = assertOk(await client.createUploadUrl(name, { expiresIn: 60 }));
      assert.deepEqual(upload.headers, { 'Content-Type': type }, suffix);
      assert.equal(new URL(upload.url).searchParams.get('X-Goog-Expires'), '60');
      assert.equal((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'x' })).status, 200);
      assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, type, suffix);
    }
  });

  it('the upload URL only uploads: a GET with it is refused', async () => {
    const upload = assertOk(await client.createUploadUrl(fresh('put-only.txt')));
    assert.equal((await fetch(upload.url)).status, 403);
  });
});

/** For one describe block: a fault proxy in front of the stand-in, and a client signing through it. */
function watchedSidecar() {
  const watched = {};
  before(async () => {
    watched.proxy = await startFaultProxy({ target: SIDECAR_URL });
    watched.client = signer({ sidecarEndpoint: watched.proxy.url });
  });
  after(() => watched.proxy.stop());
  return watched;
}

describe('bad arguments are InvalidArgument, found before the sidecar is asked', () => {
  const sidecar = watchedSidecar();

  const cases = [
    ['an empty object name', (c) => c.signUrl(''), /objectName/],
    ['an object name GCS forbids', (c) => c.signUrl('a\nb'), /objectName/],
    ['"." as a name', (c) => c.createUploadUrl('.'), /objectName/],
    ['a name that is not a string', (c) => c.signUrl(42), /objectName/],
    ['expiresIn 0', (c) => c.signUrl('x', { expiresIn: 0 }), /`expiresIn` must be a whole number of seconds from 1 to 604800 \(7 days\)/],
    ['expiresIn over 7 days', (c) => c.signUrl('x', { expiresIn: 604801 }), /`expiresIn`/],
    ['a fractional expiresIn', (c) => c.signUrl('x', { expiresIn: 1.5 }), /`expiresIn`/],
    ['expiresIn as a string', (c) => c.createUploadUrl('x', { expiresIn: '900' }), /`expiresIn`/],
    ['expiresIn NaN', (c) => c.createUploadUrl('x', { expiresIn: NaN }), /`expiresIn`/],
    ['a method other than the four', (c) => c.signUrl('x', { method: 'POST' }), /`method` must be "GET", "PUT", "DELETE" or "HEAD"/],
    ['a method that is not a string', (c) => c.signUrl('x', { method: 1 }), /`method`/],
    ['an empty contentType', (c) => c.createUploadUrl('x', { contentType: '' }), /`contentType`/],
    ['a contentType with a line break', (c) => c.createUploadUrl('x', { contentType: 'text/plain\r\nX-Evil: 1' }), /`contentType`/],
    // A header no browser could send: fetch and XMLHttpRequest refuse characters past U+00FF.
    ['a contentType outside ASCII', (c) => c.createUploadUrl('x', { contentType: 'text/plain; name=\u20ac' }), /`contentType` must be .* in ASCII/],
    // @google-cloud/storage's getSignedUrl options: ignored, they gave a GET URL for 15 minutes.
    ['@google-cloud/storage\'s action', (c) => c.signUrl('x', { action: 'write' }), /^signUrl options: `action` is not an option here .*the method is `method`/],
    ['@google-cloud/storage\'s expires', (c) => c.createUploadUrl('x', { expires: Date.now() + 3600_000 }), /`expires` is not an option here .*`expiresIn`, in whole seconds/],
    ['an option the sidecar cannot sign', (c) => c.signUrl('x', { responseDisposition: 'attachment' }), /`responseDisposition` is not an option here .*signs only the method, the object and the expiry/],
    // fetch resolves these segments: the URL would address another object and fail with 403.
    ['a name with a .. segment', (c) => c.signUrl('uploads/../secret.txt'), /`\.` or `\.\.` segment/],
    ['a name with a . segment', (c) => c.createUploadUrl('uploads/./a.png'), /`\.` or `\.\.` segment/],
    ['options that are not an object', (c) => c.signUrl('x', 'GET'), /signUrl options/],
    ['a signal that is not an AbortSignal', (c) => c.createUploadUrl('x', { signal: 'stop' }), /`signal`/],
  ];
  for (const [what, call, message] of cases) {
    it(what, async () => {
      const error = assertErr(await call(sidecar.client), 'InvalidArgument', null);
      assert.match(error.message, message);
    });
  }

  it('none of them reached the sidecar', () => {
    assert.deepEqual(sidecar.proxy.log.map((entry) => entry.url), []);
  });
});

describe('when the sidecar refuses or answers badly', () => {
  const sidecar = watchedSidecar();
  const SIGN_PATH = '/object-storage/signed-object-url';

  const refusals = [
    [403, 'Forbidden'],
    [401, 'Unauthorized'],
    [429, 'TooManyRequests'],
    [500, 'ServerError'],
    [503, 'ServerError'],
  ];
  for (const [status, kind] of refusals) {
    it(`a ${status} is ${kind}, with the sidecar's words and one try`, async () => {
      const words = `no signing today (${status})`;
      sidecar.proxy.setFaults([{ path: SIGN_PATH, fault: 'status', status, body: JSON.stringify({ error: words }), times: Infinity }]);
      const logged = sidecar.proxy.log.length;
      const name = fresh('refused.bin');
      const error = assertErr(await sidecar.client.signUrl(name), kind, status);
      assert.match(error.message, new RegExp(`refused to sign a URL for ${TEST_BUCKET}/${name}: no signing today`));
      assert.equal(sidecar.proxy.log.length - logged, 1, 'asked once');
      assertErr(await sidecar.client.createUploadUrl(name), kind, status);
      sidecar.proxy.clear();
    });
  }

  it('an answer without signed_url is a clear Unknown error', async () => {
    sidecar.proxy.setFaults([{ path: SIGN_PATH, fault: 'status', status: 200, body: '{"url":"https://example.invalid/x"}' }]);
    const error = assertErr(await sidecar.client.signUrl(fresh()), 'Unknown', null);
    assert.equal(error.message, 'malformed response from the Replit sidecar: the answer has no `signed_url`');
  });

  it('an answer that is not JSON is a clear Unknown error', async () => {
    sidecar.proxy.setFaults([{ path: SIGN_PATH, fault: 'status', status: 200, body: '<html>hello</html>', headers: { 'content-type': 'text/html' } }]);
    const error = assertErr(await sidecar.client.createUploadUrl(fresh()), 'Unknown', null);
    assert.match(error.message, /malformed response from the Replit sidecar: the body is not JSON/);
  });

  it('a signed_url that is not a URL is a clear Unknown error', async () => {
    sidecar.proxy.setFaults([{ path: SIGN_PATH, fault: 'status', status: 200, body: '{"signed_url":42}' }]);
    const error = assertErr(await sidecar.client.signUrl(fresh()), 'Unknown', null);
    assert.match(error.message, /malformed response from the Replit sidecar: .*signed_url/);
  });

  it('a stalled sidecar fails by requestTimeoutMs; an abort ends the wait at once', async () => {
    sidecar.proxy.setFaults([{ path: SIGN_PATH, fault: 'stall', times: Infinity }]);
    const hurried = signer({ sidecarEndpoint: sidecar.proxy.url, requestTimeoutMs: 300 });
    const timedOut = assertErr(await withTimeout(hurried.signUrl(fresh()), 5000, 'a stalled sidecar'), 'Timeout', null);
    assert.match(timedOut.message, /needs the Replit sidecar at/);

    const controller = new AbortController();
    const pending = sidecar.client.signUrl(fresh(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    assertErr(await withTimeout(pending, 5000, 'an aborted signing'), 'Aborted', null);
    sidecar.proxy.clear();
  });

  it('an already aborted signal is Aborted', async () => {
    const error = assertErr(await sidecar.client.signUrl(fresh(), { signal: AbortSignal.abort() }), 'Aborted', null);
    assert.doesNotMatch(error.message, /sidecar/);
  });
});

describe('outside Replit (no sidecar)', () => {
  it('fails at once with a Network error that says signing needs the Replit sidecar', async () => {
    const endpoint = await closedPortUrl();
    const offReplit = signer({ sidecarEndpoint: endpoint });
    const started = Date.now();
    for (const call of [() => offReplit.signUrl('a.txt'), () => offReplit.createUploadUrl('a.txt')]) {
      const error = assertErr(await call(), 'Network', null);
      assert.match(error.message, new RegExp(`signing a URL needs the Replit sidecar at ${endpoint.replace(/[.]/g, '\\.')}`));
      assert.match(error.message, /only be made on Replit/);
    }
    assert.ok(Date.now() - started < 2000, `no retries: took ${Date.now() - started} ms`);
  });

  it('without bucketId, the default bucket lookup says the same first', async () => {
    const offReplit = new Client({ sidecarEndpoint: await closedPortUrl() });
    const error = assertErr(await offReplit.signUrl('a.txt'), 'DefaultBucket', null);
    assert.match(error.message, /running on Replit/);
  });
});

describe('the web client (browsers, Workers)', () => {
  it('signUrl and createUploadUrl are Unsupported, saying to sign on the server, without loading the wasm', async () => {
    const packageDir = path.dirname(createRequire(import.meta.url).resolve('replit-object-storage-wasm/package.json'));
    const { defineClient } = await import(pathToFileURL(path.join(packageDir, 'js/web/client.mjs')).href);
    let loads = 0;
    const { Client: WebClient } = defineClient(() => {
      loads++;
      throw new Error('the wasm must not be loaded for this');
    });
    const web = new WebClient({ bucketId: TEST_BUCKET, accessToken: 'token' });
    for (const [method, result] of [
      ['signUrl', await web.signUrl('a.png', { method: 'PUT' })],
      ['createUploadUrl', await web.createUploadUrl('a.png', { contentType: 'image/png' })],
    ]) {
      const error = assertErr(result, 'Unsupported', null);
      assert.match(error.message, new RegExp(`^${method}: .*sign URLs on your server`));
    }
    assert.equal(loads, 0);
  });
});
