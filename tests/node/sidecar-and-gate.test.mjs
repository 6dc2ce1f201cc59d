// Everything that needs the sidecar stand-in's control API or the gate: the token flow
// (caching, single-flight, refresh near expiry, refresh-and-retry after a 401, caller
// tokens), the default bucket (lazy lookup, every failure mode, recovery on the next call)
// and the error kinds of injected HTTP failures.
//
// The stand-in and the gate are shared by every test file, so all tests that change their
// state live in this one file, whose tests run one after another; each starts and ends with
// a reset. Other files never use the gate and always pass `bucketId` (compat.test.mjs waits
// out a broken default bucket in its `before`).

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';

import {
  DEFAULT_BUCKET,
  GATE_URL,
  SIDECAR_URL,
  TEST_BUCKET,
  allByteValues,
  assertErr,
  assertEveryCallFails,
  assertOk,
  assertResult,
  crc32cBase64,
  emulatorDeletePrefix,
  emulatorMetadata,
  emulatorUpload,
  gate,
  gcsErrorBody,
  makeTempDir,
  md5Base64,
  nextStreamError,
  readAll,
  removeDir,
  sidecar,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

/**
 * Options that turn the client's own retries off, so an injected failure is seen at once
 * (retries themselves are tested in faults.test.mjs and transfers.test.mjs).
 */
const NO_RETRIES = { maxRetries: 0 };
/** Injected faults repeat this often, more than any retry budget; `afterEach` clears them. */
const FAULT_TIMES = 50;

const prefix = uniquePrefix('sidecar-and-gate');
let localDir;
let counter = 0;
const fresh = (suffix = 'obj.txt') => `${prefix}/${++counter}/${suffix}`;

/** Through the gate: real sidecar auth (the token flow), explicit bucket. */
const gateClient = (options = {}) =>
  new Client({ apiEndpoint: GATE_URL, sidecarEndpoint: SIDECAR_URL, bucketId: TEST_BUCKET, ...NO_RETRIES, ...options });
/** Straight to the emulator (STORAGE_EMULATOR_HOST, no credentials); default bucket from the stand-in. */
const emulatorClient = (options = {}) => new Client({ sidecarEndpoint: SIDECAR_URL, ...NO_RETRIES, ...options });

async function resetAll() {
  await sidecar.reset();
  await gate.clearFaults();
}

before(async () => {
  localDir = await makeTempDir();
  await resetAll();
});

beforeEach(resetAll);
afterEach(resetAll);

after(async () => {
  await resetAll();
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
  await emulatorDeletePrefix(DEFAULT_BUCKET, `${prefix}/`);
  await removeDir(localDir);
});

/** Every method once, each expected to fail with `kind` (and `statusCode` when given). */
async function everyMethodFails(client, kind, statusCode) {
  const name = fresh('every-method.txt');
  const target = path.join(localDir, `never-${++counter}.txt`);
  const source = path.join(localDir, `source-${counter}.txt`);
  await writeFile(source, 'source');
  const calls = {
    copy: () => client.copy(name, `${name}.copy`),
    delete: () => client.delete(name),
    downloadAsBytes: () => client.downloadAsBytes(name),
    downloadAsText: () => client.downloadAsText(name),
    downloadToFilename: () => client.downloadToFilename(name, target),
    exists: () => client.exists(name),
    list: () => client.list({ prefix: name }),
    uploadFromBytes: () => client.uploadFromBytes(name, allByteValues()),
    uploadFromText: () => client.uploadFromText(name, 'x'),
    uploadFromFilename: () => client.uploadFromFilename(name, source),
  };
  await assertEveryCallFails({ client, StreamRequestError, name, calls, target }, kind, statusCode);
}

// ---------------------------------------------------------------------------------------

describe('auth: the sidecar token flow through the gate', () => {
  it('an explicit apiEndpoint wins over STORAGE_EMULATOR_HOST and carries a sidecar token', async () => {
    const client = gateClient();
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'through the gate'));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'through the gate' });
    const stats = await sidecar.stats();
    assert.ok(stats.gcsRequests >= 2, `the requests went through the gate: ${JSON.stringify(stats)}`);
    assert.equal(stats.rejectedRequests, 0, 'the gate accepted every request');
    assert.equal(stats.credentialRequests, 1);
    assert.equal(stats.tokenRequests, 1);
  });

  it('against the emulator (no apiEndpoint) no token is asked for', async () => {
    const client = emulatorClient({ bucketId: TEST_BUCKET });
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    assertOk(await client.downloadAsText(name));
    const stats = await sidecar.stats();
    assert.equal(stats.credentialRequests, 0);
    assert.equal(stats.tokenRequests, 0);
    assert.equal(stats.gcsRequests, 0, 'the emulator client must not use the gate');
  });

  it('the constructor asks for nothing', async () => {
    gateClient();
    gateClient({ bucketId: undefined });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stats = await sidecar.stats();
    assert.equal(stats.credentialRequests, 0);
    assert.equal(stats.tokenRequests, 0);
  });

  it('a token is cached across calls', async () => {
    const client = gateClient();
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'cached'));
    for (let i = 0; i < 4; i++) assertResult(await client.exists(name), { ok: true, value: true });
    assertOk(await client.list({ prefix: name }));
    const stats = await sidecar.stats();
    assert.equal(stats.tokenRequests, 1);
    assert.equal(stats.credentialRequests, 1);
  });

  it('concurrent first calls share one token request', async () => {
    const client = gateClient();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => client.exists(fresh(`concurrent-${i}`))));
    for (const result of results) assertResult(result, { ok: true, value: false });
    const stats = await sidecar.stats();
    assert.equal(stats.tokenRequests, 1);
    assert.equal(stats.credentialRequests, 1);
  });

  it('a token within 5 minutes of expiry is refreshed before use', async () => {
    await sidecar.control({ tokenTtlSeconds: 200 });
    const client = gateClient();
    const name = fresh();
    await emulatorUpload(TEST_BUCKET, name, 'x');
    for (let i = 0; i < 3; i++) assertResult(await client.exists(name), { ok: true, value: true });
    const stats = await sidecar.stats();
    assert.equal(stats.tokenRequests, 3, 'every call found the token too close to expiry');
    assert.equal(stats.rejectedRequests, 0);
  });

  it('a token with more than 5 minutes left is not refreshed', async () => {
    await sidecar.control({ tokenTtlSeconds: 400 });
    const client = gateClient();
    const name = fresh();
    await emulatorUpload(TEST_BUCKET, name, 'x');
    for (let i = 0; i < 3; i++) assertResult(await client.exists(name), { ok: true, value: true });
    assert.equal((await sidecar.stats()).tokenRequests, 1);
  });

  it('concurrent calls share one refresh of an expiring token', async () => {
    await sidecar.control({ tokenTtlSeconds: 200 });
    const client = gateClient();
    assertOk(await client.exists(fresh()));
    assert.equal((await sidecar.stats()).tokenRequests, 1);
    const results = await Promise.all(Array.from({ length: 8 }, () => client.exists(fresh())));
    for (const result of results) assertOk(result);
    assert.equal((await sidecar.stats()).tokenRequests, 2);
  });

  it('after a 401 (revoked token) the client refreshes once and retries once', async () => {
    const client = gateClient();
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'before revocation'));
    await sidecar.control({ revokeTokens: true });
    assertResult(await client.downloadAsText(name), { ok: true, value: 'before revocation' });
    const stats = await sidecar.stats();
    assert.equal(stats.tokenRequests, 2, 'one refresh after the 401');
    assert.equal(stats.rejectedRequests, 1, 'one request was refused, its retry was not');
  });

  it('every method survives a revoked token', async () => {
    const client = gateClient();
    const name = fresh('revoked.bin');
    const calls = {
      uploadFromBytes: () => client.uploadFromBytes(name, allByteValues()),
      uploadFromText: () => client.uploadFromText(`${name}.txt`, 'text'),
      exists: () => client.exists(name),
      downloadAsBytes: () => client.downloadAsBytes(name),
      downloadAsText: () => client.downloadAsText(`${name}.txt`),
      downloadToFilename: () => client.downloadToFilename(name, path.join(localDir, `revoked-${counter}.bin`)),
      copy: () => client.copy(name, `${name}.copy`),
      list: () => client.list({ prefix: name }),
      delete: () => client.delete(`${name}.copy`),
    };
    assertOk(await client.exists(name), 'first call');
    for (const [method, call] of Object.entries(calls)) {
      await sidecar.control({ revokeTokens: true });
      assertOk(await call(), method);
    }
    await sidecar.control({ revokeTokens: true });
    assert.deepEqual(await readAll(client.downloadAsStream(name)), allByteValues(), 'downloadAsStream');
    const stats = await sidecar.stats();
    assert.equal(stats.tokenRequests, 1 + Object.keys(calls).length + 1);
  });

  it('uploadFromStream survives a revoked token', async () => {
    const client = gateClient();
    const name = fresh('revoked-stream.txt');
    assertOk(await client.exists(name));
    await sidecar.control({ revokeTokens: true });
    await withTimeout(client.uploadFromStream(name, Readable.from(['streamed after revocation'])), 20000, 'upload');
    assertResult(await client.downloadAsText(name), { ok: true, value: 'streamed after revocation' });
  });

  it('a 401 that persists after the refresh is Unauthorized 401 (one refresh, no loop)', async () => {
    const client = gateClient();
    const name = fresh();
    assertOk(await client.exists(name));
    await gate.faults([
      { status: 401, times: FAULT_TIMES, body: gcsErrorBody(401, 'Invalid Credentials', 'authError'), headers: { 'content-type': 'application/json' } },
    ]);
    const error = assertErr(await client.downloadAsText(name), 'Unauthorized', 401);
    assert.match(error.message, /Invalid Credentials/);
    assert.equal((await sidecar.stats()).tokenRequests, 2);
    await gate.clearFaults();
    assertOk(await client.exists(name), 'works again once the gate accepts');
  });

  it('a failed token exchange is Unauthorized for every method, and is not cached', async () => {
    await sidecar.control({ failToken: true });
    const client = gateClient();
    const error = assertErr(await client.exists(fresh()), 'Unauthorized', 400);
    assert.match(error.message, /invalid_grant|refused|token/i);
    await everyMethodFails(client, 'Unauthorized', 400);
    await sidecar.control({ failToken: false });
    assertResult(await client.exists(fresh()), { ok: true, value: false }, 'the next call asks again and succeeds');
  });
});

describe('auth: caller-supplied accessToken', () => {
  it('a valid token string: used as is, the sidecar is never asked', async () => {
    const token = await sidecar.issueToken();
    const before = await sidecar.stats();
    const client = gateClient({ accessToken: token });
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'caller token'));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'caller token' });
    const after = await sidecar.stats();
    assert.equal(after.credentialRequests, before.credentialRequests);
    assert.equal(after.tokenRequests, before.tokenRequests);
    assert.equal(after.rejectedRequests, 0);
  });

  it('an invalid token string is Unauthorized 401, and the sidecar is not asked', async () => {
    const client = gateClient({ accessToken: 'not-a-token-the-gate-knows' });
    assertErr(await client.exists(fresh()), 'Unauthorized', 401);
    const stats = await sidecar.stats();
    assert.equal(stats.credentialRequests, 0);
    assert.equal(stats.tokenRequests, 0);
  });

  it('a function returning the token (sync), called for requests', async () => {
    const token = await sidecar.issueToken();
    const before = await sidecar.stats();
    let calls = 0;
    const client = gateClient({
      accessToken: () => {
        calls++;
        return token;
      },
    });
    assert.equal(calls, 0, 'not called by the constructor');
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'sync provider'));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'sync provider' });
    assert.ok(calls >= 2, `the provider is asked before requests (called ${calls} times)`);
    const after = await sidecar.stats();
    assert.equal(after.tokenRequests, before.tokenRequests);
    assert.equal(after.credentialRequests, before.credentialRequests);
  });

  it('a function returning a promise of the token', async () => {
    const token = await sidecar.issueToken();
    const client = gateClient({
      accessToken: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return token;
      },
    });
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'async provider'));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'async provider' });
    assert.deepEqual(await readAll(client.downloadAsStream(name)), Buffer.from('async provider'));
  });

  it('after a 401, a token function is asked again and the request retried', async () => {
    const token = await sidecar.issueToken();
    let calls = 0;
    const client = gateClient({ accessToken: () => (++calls === 1 ? 'stale-token' : token) });
    assertResult(await client.exists(fresh()), { ok: true, value: false });
    assert.ok(calls >= 2);
  });

  it('a token function that throws or rejects gives an error result, not a rejection', async () => {
    for (const [label, accessToken] of [
      ['throws', () => {
        throw new Error('provider exploded');
      }],
      ['rejects', async () => {
        throw new Error('provider exploded');
      }],
    ]) {
      const client = gateClient({ accessToken });
      let result;
      try {
        result = await withTimeout(client.exists(fresh()), 20000, label);
      } catch (error) {
        assert.fail(`${label}: rejected with ${error?.stack ?? error}`);
      }
      assert.equal(result.ok, false, label);
      assert.equal(result.error.kind, 'Unauthorized', `${label}: no token, no authorisation`);
      assert.ok(result.error.message.includes('provider exploded'), `${label}: the message carries the cause: ${result.error.message}`);
      const streamError = await nextStreamError(client.downloadAsStream(fresh()));
      assert.ok(streamError instanceof StreamRequestError, `${label}: downloadAsStream error`);
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('default bucket', () => {
  it('the constructor does not look it up', async () => {
    const before = (await sidecar.stats()).defaultBucketRequests;
    emulatorClient();
    emulatorClient();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await sidecar.stats()).defaultBucketRequests, before);
  });

  it('objects go to the bucket the sidecar names', async () => {
    const client = emulatorClient();
    const name = fresh('in-default-bucket.txt');
    assertOk(await client.uploadFromText(name, 'default'));
    assert.ok(await emulatorMetadata(DEFAULT_BUCKET, name), 'the object is in the default bucket');
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('whatever bucket the sidecar names', async () => {
    await sidecar.control({ defaultBucket: TEST_BUCKET });
    const client = emulatorClient();
    const name = fresh('in-test-bucket.txt');
    assertOk(await client.uploadFromText(name, 'named'));
    assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'the object is in the bucket the sidecar named');
    assert.equal(await emulatorMetadata(DEFAULT_BUCKET, name), null);
  });

  it('is looked up once, then cached', async () => {
    const client = emulatorClient();
    const before = (await sidecar.stats()).defaultBucketRequests;
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    assertOk(await client.exists(name));
    assertOk(await client.downloadAsText(name));
    assertOk(await client.list({ prefix: name }));
    assert.equal((await sidecar.stats()).defaultBucketRequests - before, 1);
  });

  it('concurrent first calls all succeed', async () => {
    const client = emulatorClient();
    const results = await Promise.all(Array.from({ length: 8 }, () => client.exists(fresh())));
    for (const result of results) assertResult(result, { ok: true, value: false });
  });

  it('a cached bucket survives a later sidecar failure', async () => {
    const client = emulatorClient();
    assertOk(await client.exists(fresh()));
    await sidecar.control({ defaultBucket: null });
    assertResult(await client.exists(fresh()), { ok: true, value: false });
  });

  it('an explicit bucketId means the sidecar is never asked, even when it fails', async () => {
    await sidecar.control({ defaultBucket: null });
    const before = (await sidecar.stats()).defaultBucketRequests;
    const client = emulatorClient({ bucketId: TEST_BUCKET });
    assertResult(await client.exists(fresh()), { ok: true, value: false });
    assert.equal((await sidecar.stats()).defaultBucketRequests, before);
  });

  const failureModes = [
    ['404 (no default bucket)', { defaultBucket: null }, 404],
    ['a 500', { defaultBucketStatus: 500 }, 500],
    ['a 403', { defaultBucketStatus: 403 }, 403],
    ['an empty bucketId', { defaultBucket: '' }, null],
    ['a body without bucketId', { defaultBucketBody: '{"bucket": "x"}' }, null],
    ['a bucketId that is not a string', { defaultBucketBody: '{"bucketId": 42}' }, null],
    ['a body that is not JSON', { defaultBucketBody: 'this is not json' }, null],
    ['an empty body', { defaultBucketBody: '' }, null],
  ];

  for (const [label, settings, statusCode] of failureModes) {
    it(`${label}: a DefaultBucket result, asked again on the next call, which recovers`, async () => {
      await sidecar.control(settings);
      const client = emulatorClient();
      const before = (await sidecar.stats()).defaultBucketRequests;
      let result;
      try {
        result = await client.exists(fresh());
      } catch (error) {
        assert.fail(`must be a result, not a rejection: ${error?.stack ?? error}`);
      }
      assertErr(result, 'DefaultBucket', statusCode);
      assertErr(await client.downloadAsText(fresh()), 'DefaultBucket', statusCode, 'second call');
      assert.equal((await sidecar.stats()).defaultBucketRequests - before, 2, 'a failure is not cached');

      await sidecar.reset();
      assertResult(await client.exists(fresh()), { ok: true, value: false }, 'after the sidecar recovers');
      const name = fresh('recovered.txt');
      assertOk(await client.uploadFromText(name, 'recovered'));
      assert.ok(await emulatorMetadata(DEFAULT_BUCKET, name), 'in the default bucket');
    });
  }

  it('every method reports DefaultBucket (streams included)', async () => {
    await sidecar.control({ defaultBucket: null });
    await everyMethodFails(emulatorClient(), 'DefaultBucket', 404);
  });
});

// ---------------------------------------------------------------------------------------

describe('injected HTTP failures map to error kinds', () => {
  const statuses = [
    [403, 'Forbidden'],
    [429, 'TooManyRequests'],
    [412, 'PreconditionFailed'],
    [500, 'ServerError'],
    [503, 'ServerError'],
    [400, 'InvalidArgument'],
    [408, 'Timeout'],
  ];

  for (const [status, kind] of statuses) {
    it(`${status} -> ${kind} with statusCode ${status}, for every method`, async () => {
      const client = gateClient();
      assertOk(await client.exists(fresh()), 'warm up (token)');
      const message = `injected ${status} for the test`;
      await gate.faults([
        { status, times: FAULT_TIMES, body: gcsErrorBody(status, message), headers: { 'content-type': 'application/json' } },
      ]);
      await everyMethodFails(client, kind, status);
      const error = assertErr(await client.downloadAsBytes(fresh()), kind, status);
      assert.ok(error.message.includes(message), `the message carries GCS's: ${error.message}`);
      await gate.clearFaults();
      assertOk(await client.exists(fresh()), 'the client works again once the faults are gone');
    });
  }

  it('a connection reset is Network without statusCode, for every method', async () => {
    const client = gateClient();
    assertOk(await client.exists(fresh()), 'warm up (token)');
    await gate.faults([{ reset: true, times: FAULT_TIMES }]);
    await everyMethodFails(client, 'Network', null);
    await gate.clearFaults();
    assertOk(await client.exists(fresh()), 'the client works again once the faults are gone');
  });

  it('an error body that is plain text or empty still maps by status', async () => {
    const client = gateClient();
    assertOk(await client.exists(fresh()));
    await gate.faults([{ status: 503, times: FAULT_TIMES, body: 'upstream unavailable', headers: { 'content-type': 'text/plain' } }]);
    const plain = assertErr(await client.downloadAsText(fresh()), 'ServerError', 503);
    assert.ok(plain.message.length > 0);
    await gate.clearFaults();
    await gate.faults([{ status: 403, times: FAULT_TIMES, body: '' }]);
    assertErr(await client.downloadAsText(fresh()), 'Forbidden', 403);
  });

  it("real GCS 404 messages tell a missing bucket from a missing object", async () => {
    const client = gateClient();
    assertOk(await client.exists(fresh()));
    await gate.faults([
      { status: 404, times: FAULT_TIMES, body: gcsErrorBody(404, 'The specified bucket does not exist.', 'notFound'), headers: { 'content-type': 'application/json' } },
    ]);
    assertErr(await client.downloadAsText(fresh()), 'BucketNotFound', 404);
    assertResult(await client.exists(fresh()), { ok: true, value: false }, 'exists is false for a missing bucket');
    await gate.clearFaults();
    const objectPath = `${TEST_BUCKET}/${fresh()}`;
    await gate.faults([
      { status: 404, times: FAULT_TIMES, body: gcsErrorBody(404, `No such object: ${objectPath}`, 'notFound'), headers: { 'content-type': 'application/json' } },
    ]);
    assertErr(await client.downloadAsText(fresh()), 'ObjectNotFound', 404);
    assertErr(await client.delete(fresh()), 'ObjectNotFound', 404);
    assertResult(await client.delete(fresh(), { ignoreNotFound: true }), { ok: true, value: null });
  });

  it('list follows nextPageToken across pages', async () => {
    const client = gateClient();
    const dir = fresh('paged');
    const names = ['a', 'b', 'c', 'd'].map((letter) => `${dir}/${letter}`);
    for (const name of names) await emulatorUpload(TEST_BUCKET, name, 'x');
    // The first list page comes from the gate and names only `a`; the emulator (which
    // treats a page token as the first name to return) serves the rest.
    await gate.faults([
      {
        method: 'GET',
        pathIncludes: `/storage/v1/b/${TEST_BUCKET}/o`,
        status: 200,
        times: 1,
        body: JSON.stringify({ kind: 'storage#objects', items: [{ name: names[0] }], nextPageToken: names[1] }),
        headers: { 'content-type': 'application/json' },
      },
    ]);
    const listed = assertOk(await client.list({ prefix: `${dir}/` }));
    assert.deepEqual(listed, names.map((name) => ({ name })));
  });

  it('a download whose bytes do not match X-Goog-Hash is IntegrityMismatch', async () => {
    const client = gateClient();
    const name = fresh('integrity.txt');
    const original = Buffer.from('the original contents');
    assertOk(await client.uploadFromBytes(name, original));
    await gate.faults([
      {
        method: 'GET',
        pathIncludes: `${encodeURIComponent(name)}?alt=media`,
        status: 200,
        times: FAULT_TIMES,
        body: 'tampered contents!!!!',
        headers: {
          'content-type': 'text/plain',
          'x-goog-hash': `crc32c=${crc32cBase64(original)},md5=${md5Base64(original)}`,
          'x-goog-stored-content-encoding': 'identity',
        },
      },
    ]);
    assertErr(await client.downloadAsBytes(name), 'IntegrityMismatch');
  });
});

// ---------------------------------------------------------------------------------------

describe('a fault proxy in front of the sidecar or the gate', () => {
  it('a sidecar that stalls mid-answer fails the waiting calls by requestTimeoutMs instead of hanging them', async () => {
    const proxy = await startFaultProxy({ target: SIDECAR_URL });
    try {
      const stall = (path) => [{ path, fault: 'stall', phase: 'body', afterBytes: 1, times: Infinity }];
      proxy.setFaults(stall('/credential'));
      const client = gateClient({ sidecarEndpoint: proxy.url, requestTimeoutMs: 300 });
      const tokenless = await withTimeout(Promise.all([client.exists(fresh()), client.list()]), 5000, 'a stalled /credential');
      for (const result of tokenless) assertErr(result, 'Timeout', null);

      proxy.setFaults(stall('/object-storage/default-bucket'));
      const lookup = emulatorClient({ sidecarEndpoint: proxy.url, requestTimeoutMs: 300 }).exists(fresh());
      const error = assertErr(await withTimeout(lookup, 5000, 'a stalled default bucket'), 'DefaultBucket', null);
      assert.match(error.message, /no answer for 300 ms/);
    } finally {
      await proxy.stop();
    }
  });

  it('an upload the client finds corrupted is deleted with its credentials (the gate refuses anonymous deletes)', async () => {
    // The proxy flips a byte on the way and checks no hash (as fake-gcs-server): the client
    // sees the stored CRC32C differ from its own and removes the object, through the gate.
    const proxy = await startFaultProxy({ target: GATE_URL });
    try {
      const name = fresh('corrupted-on-the-way.bin');
      proxy.setFaults([{ kind: 'upload-media', fault: 'corruptRequest' }]);
      const client = gateClient({ apiEndpoint: proxy.url });
      assertErr(await client.uploadFromBytes(name, allByteValues()), 'IntegrityMismatch');
      const deletes = proxy.requests('delete').map((entry) => entry.status);
      assert.ok(deletes.length === 1 && deletes[0] < 300, `one accepted delete, got statuses ${deletes}`);
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'the corrupted object is gone');
    } finally {
      await proxy.stop();
    }
  });
});
