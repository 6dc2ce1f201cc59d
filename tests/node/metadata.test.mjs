// Object metadata: what getMetadata resolves to (GCS's field names, numbers and strings as
// users of @google-cloud/storage read them), checked against the emulator's own answer;
// setMetadata's patches (against tests/support/object-patches.mjs, which makes them as GCS
// does: metageneration, ifMetagenerationMatch, null removes) and when they are retried; and the
// metadata every upload method can set, one-request (multipart) and resumable.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  MISSING_BUCKET,
  TEST_BUCKET,
  assertErr,
  assertOk,
  crc32cBase64,
  emulatorMetadata,
  makeTempDir,
  md5Base64,
  removeDir,
  testObjects,
} from './helpers.mjs';

const { fresh } = testObjects('metadata');
let client;

before(() => {
  client = new Client({ bucketId: TEST_BUCKET });
});

describe('getMetadata', () => {
  it('gives the fields GCS sends, size as a number and generations as strings', async () => {
    const name = fresh('notes/hello world.txt');
    const body = Buffer.from('Hello, metadata!');
    assertOk(await client.uploadFromBytes(name, body));
    const meta = assertOk(await client.getMetadata(name));
    const stored = await emulatorMetadata(TEST_BUCKET, name);
    assert.equal(meta.name, name);
    assert.equal(meta.bucket, TEST_BUCKET);
    assert.equal(meta.size, body.length);
    assert.equal(meta.contentType, 'text/plain');
    assert.equal(meta.crc32c, crc32cBase64(body));
    assert.equal(meta.md5Hash, md5Base64(body));
    assert.equal(typeof meta.generation, 'string');
    assert.equal(meta.generation, String(stored.generation));
    assert.match(meta.metageneration, /^\d+$/);
    assert.equal(meta.etag, stored.etag);
    assert.ok(!Number.isNaN(Date.parse(meta.timeCreated)), `timeCreated ${meta.timeCreated}`);
    assert.ok(!Number.isNaN(Date.parse(meta.updated)), `updated ${meta.updated}`);
    assert.deepEqual(meta.metadata, {});
  });

  it('leaves out fields the object does not have', async () => {
    const name = fresh('plain.bin');
    assertOk(await client.uploadFromBytes(name, Buffer.from([1, 2, 3])));
    const meta = assertOk(await client.getMetadata(name));
    for (const absent of ['contentEncoding', 'contentDisposition', 'cacheControl']) {
      assert.ok(!(absent in meta), `${absent} should be absent, got ${JSON.stringify(meta[absent])}`);
    }
  });

  it('reports a compressed upload with its encoding and stored size', async () => {
    const name = fresh('big.txt');
    const text = 'compressible '.repeat(1000);
    assertOk(await client.uploadFromText(name, text, { compress: true }));
    const meta = assertOk(await client.getMetadata(name));
    assert.equal(meta.contentEncoding, 'gzip');
    assert.ok(meta.size > 0 && meta.size < text.length, `stored size ${meta.size} should be the gzip size`);
  });

  it('is ObjectNotFound for a missing object and BucketNotFound for a missing bucket', async () => {
    assertErr(await client.getMetadata(fresh('missing.txt')), 'ObjectNotFound', 404);
    const elsewhere = new Client({ bucketId: MISSING_BUCKET });
    assertErr(await elsewhere.getMetadata('anything.txt'), 'BucketNotFound', 404);
  });

  it('refuses names GCS forbids before any request', async () => {
    assertErr(await client.getMetadata(''), 'InvalidArgument', null);
    assertErr(await client.getMetadata('.well-known/acme-challenge/x'), 'InvalidArgument', null);
    assertErr(await client.getMetadata(42), 'InvalidArgument', null);
  });

  it('takes the {name} objects list returns', async () => {
    const name = fresh('listed.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    const listed = assertOk(await client.list({ prefix: name }));
    assert.equal(listed.length, 1);
    assert.equal(assertOk(await client.getMetadata(listed[0])).name, name);
  });
});

describe('setMetadata', () => {
  it('sets and clears fields, adds and removes custom keys, and raises the metageneration', async () => {
    const name = fresh('patched.txt');
    assertOk(await client.uploadFromText(name, 'patch me'));
    const before = assertOk(await client.getMetadata(name));
    const first = Number(before.metageneration);

    const set = assertOk(
      await client.setMetadata(name, {
        contentType: 'text/csv',
        cacheControl: 'no-store',
        contentDisposition: 'attachment; filename="p.csv"',
        metadata: { 'custom:aclPolicy': '{"owner":"u1","visibility":"private"}', keep: 'k', drop: 'd' },
      }),
    );
    assert.equal(set.contentType, 'text/csv');
    assert.equal(set.cacheControl, 'no-store');
    assert.equal(set.contentDisposition, 'attachment; filename="p.csv"');
    assert.deepEqual(set.metadata, { 'custom:aclPolicy': '{"owner":"u1","visibility":"private"}', keep: 'k', drop: 'd' });
    assert.equal(set.metageneration, String(first + 1));
    assert.equal(set.generation, before.generation, 'a metadata change keeps the generation');
    assert.deepEqual(assertOk(await client.getMetadata(name)), set, 'setMetadata resolves to the metadata getMetadata then gives');

    const cleared = assertOk(await client.setMetadata(name, { cacheControl: null, metadata: { drop: null, added: 'a' } }));
    assert.ok(!('cacheControl' in cleared), `cacheControl should be cleared, got ${JSON.stringify(cleared.cacheControl)}`);
    assert.equal(cleared.contentType, 'text/csv', 'fields not named are kept');
    assert.equal(cleared.contentDisposition, 'attachment; filename="p.csv"');
    assert.deepEqual(cleared.metadata, { 'custom:aclPolicy': '{"owner":"u1","visibility":"private"}', keep: 'k', added: 'a' });
    assert.equal(cleared.metageneration, String(first + 2));
    assert.equal(assertOk(await client.downloadAsText(name)), 'patch me', 'the contents are untouched');
  });

  it('takes an empty patch, and {name} objects', async () => {
    const name = fresh('empty.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    const meta = assertOk(await client.setMetadata({ name }, {}));
    assert.equal(meta.name, name);
    assert.deepEqual(meta.metadata, {});
    assert.equal(assertOk(await client.setMetadata(name)).name, name, 'no patch at all is an empty one');
  });

  it('with ifMetagenerationMatch changes only the version named, else PreconditionFailed', async () => {
    const name = fresh('guarded.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    const { metageneration } = assertOk(await client.getMetadata(name));
    const changed = assertOk(await client.setMetadata(name, { metadata: { v: '1' } }, { ifMetagenerationMatch: metageneration }));
    assertErr(await client.setMetadata(name, { metadata: { v: 'stale' } }, { ifMetagenerationMatch: metageneration }), 'PreconditionFailed', 412);
    assert.deepEqual(assertOk(await client.getMetadata(name)).metadata, { v: '1' }, 'the refused patch changed nothing');
    const next = Number(changed.metageneration);
    assertOk(await client.setMetadata(name, { metadata: { v: '2' } }, { ifMetagenerationMatch: next }), 'a number works as a string does');
    assert.deepEqual(assertOk(await client.getMetadata(name)).metadata, { v: '2' });
  });

  it('a new upload starts the metadata over at metageneration 1', async () => {
    const name = fresh('reuploaded.txt');
    assertOk(await client.uploadFromText(name, 'one'));
    assertOk(await client.setMetadata(name, { metadata: { a: 'b' } }));
    assertOk(await client.uploadFromText(name, 'two'));
    const meta = assertOk(await client.getMetadata(name));
    assert.equal(meta.metageneration, '1');
    assert.deepEqual(meta.metadata, {});
  });

  it('a transient failure is retried only under ifMetagenerationMatch', async () => {
    const proxy = await startFaultProxy({ target: EMULATOR_URL });
    try {
      const through = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 't', retryInitialDelayMs: 10, retryMaxDelayMs: 50 });
      const name = fresh('retried.txt');
      assertOk(await client.uploadFromText(name, 'x'));

      proxy.setFaults({ kind: 'patch', fault: 'status', status: 503 });
      assertErr(await through.setMetadata(name, { metadata: { unguarded: 'y' } }), 'ServerError', 503);
      assert.equal(proxy.requests('patch').length, 1, 'an unguarded patch is sent once');
      assert.deepEqual(assertOk(await client.getMetadata(name)).metadata, {});

      proxy.clear();
      proxy.setFaults({ kind: 'patch', fault: 'status', status: 503 });
      const meta = assertOk(await through.setMetadata(name, { metadata: { guarded: 'y' } }, { ifMetagenerationMatch: 1 }));
      assert.deepEqual(meta.metadata, { guarded: 'y' });
      assert.equal(proxy.requests('patch').length, 2, 'a guarded patch is tried again');
    } finally {
      await proxy.stop();
    }
  });

  it('refuses values that are not strings, naming the key, before any request', async () => {
    const name = fresh('refused.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    for (const [patch, expected] of [
      [{ metadata: { n: 1 } }, '`metadata.n` must be a string or null'],
      [{ metadata: { ok: 'fine', o: { deep: 'x' } } }, '`metadata.o` must be a string or null'],
      [{ metadata: null }, '`metadata` must be an object'],
      [{ metadata: ['x'] }, '`metadata` must be an object'],
      [{ cacheControl: 60 }, '`cacheControl` must be a string or null'],
      [{ contentEncoding: 'gzip' }, '`contentEncoding` cannot be set'],
      ['no-store', 'must be an object'],
      // A lone UTF-16 surrogate has no UTF-8 form: refused, not stored as U+FFFD.
      [{ metadata: { tag: 'half \ud83d' } }, '`metadata.tag` must be a string or null'],
      [{ metadata: { ['k\udc00']: 'v' } }, '`metadata.k\ufffd` must be a string or null'],
      [{ contentDisposition: 'attachment; filename="\ud800.txt"' }, '`contentDisposition` must be a string or null'],
    ]) {
      const error = assertErr(await client.setMetadata(name, patch), 'InvalidArgument', null, JSON.stringify(patch));
      assert.ok(error.message.includes(expected), `${JSON.stringify(patch)}: ${error.message}`);
    }
    const options = assertErr(await client.setMetadata(name, {}, { ifMetagenerationMatch: 'one' }), 'InvalidArgument', null);
    assert.match(options.message, /ifMetagenerationMatch/);
    assert.equal(assertOk(await client.getMetadata(name)).metageneration, '1', 'nothing was changed');
  });

  it('is ObjectNotFound for a missing object and BucketNotFound for a missing bucket', async () => {
    assertErr(await client.setMetadata(fresh('missing.txt'), { metadata: { a: 'b' } }), 'ObjectNotFound', 404);
    const elsewhere = new Client({ bucketId: MISSING_BUCKET });
    assertErr(await elsewhere.setMetadata('anything.txt', {}), 'BucketNotFound', 404);
  });
});

describe('upload options metadata, cacheControl and contentDisposition', () => {
  const KiB = 1024;
  const options = {
    metadata: { 'custom:aclPolicy': '{"owner":"u1","visibility":"public"}', note: 'line\r\n--replit-objstore-1 "quoted" ✓ \u{1F600}', empty: '' },
    cacheControl: 'public, max-age=60',
    contentDisposition: 'attachment; filename="r\u00e9sum\u00e9.bin"',
  };
  let dir;
  let proxy;
  let viaProxy;

  before(async () => {
    dir = await makeTempDir();
    proxy = await startFaultProxy({ target: EMULATOR_URL });
    // Bodies over 256 KiB go up resumably, in 256 KiB chunks.
    viaProxy = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 't', resumableThreshold: 256 * KiB, uploadChunkSize: 256 * KiB });
  });

  after(async () => {
    await proxy.stop();
    await removeDir(dir);
  });

  /** Asserts that `name` holds `bytes` and carries `options`, and returns how it was sent. */
  async function check(name, bytes, expectedKind) {
    const meta = assertOk(await viaProxy.getMetadata(name));
    assert.deepEqual(meta.metadata, options.metadata);
    assert.equal(meta.cacheControl, options.cacheControl);
    assert.equal(meta.contentDisposition, options.contentDisposition);
    assert.equal(meta.size, bytes.length);
    assert.equal(meta.crc32c, crc32cBase64(bytes), 'the stored bytes are the ones sent');
    assert.ok(Buffer.from(assertOk(await viaProxy.downloadAsBytes(name))[0]).equals(bytes), 'the contents round-trip');
    const sent = proxy.log.filter((entry) => entry.url.includes(`name=${encodeURIComponent(name)}`) && entry.method === 'POST');
    const kinds = sent.map((entry) => entry.kind);
    assert.ok(kinds.includes(expectedKind), `${name} went as ${kinds.join(', ')}, expected ${expectedKind}`);
    return meta;
  }

  const cases = [
    ['uploadFromBytes', (length) => randomBytes(length), (name, bytes) => viaProxy.uploadFromBytes(name, bytes, options)],
    ['uploadFromBytes (Blob)', (length) => randomBytes(length), (name, bytes) => viaProxy.uploadFromBytes(name, new Blob([bytes]), options)],
    ['uploadFromText', (length) => Buffer.from('abcd✓'.repeat(Math.ceil(length / 7))), (name, bytes) => viaProxy.uploadFromText(name, bytes.toString(), options)],
  ];
  for (const [method, contents, upload] of cases) {
    for (const [label, length, kind] of [['small: multipart', 3 * KiB, 'upload-multipart'], ['large: resumable', 600 * KiB + 5, 'resumable-start']]) {
      it(`${method}, ${label}`, async () => {
        proxy.clear();
        const name = fresh(`${method.replace(/\W+/g, '-')}-${length}.bin`);
        const bytes = contents(length);
        assertOk(await upload(name, bytes));
        await check(name, bytes, kind);
      });
    }
  }

  it('uploadFromFilename (resumable)', async () => {
    proxy.clear();
    const name = fresh('from-file.bin');
    const bytes = randomBytes(300 * KiB + 1);
    const file = path.join(dir, 'source.bin');
    await writeFile(file, bytes);
    assertOk(await viaProxy.uploadFromFilename(name, file, options));
    await check(name, bytes, 'resumable-start');
  });

  it('uploadFromStream (resumable)', async () => {
    proxy.clear();
    const name = fresh('from-stream.bin');
    const bytes = randomBytes(100 * KiB + 1);
    await viaProxy.uploadFromStream(name, Readable.from([bytes.subarray(0, 5000), bytes.subarray(5000)]), options);
    await check(name, bytes, 'resumable-start');
  });

  it('compressed: the resource names the encoding, the contents come back whole', async () => {
    proxy.clear();
    const name = fresh('compressed.txt');
    const text = 'compressible '.repeat(500);
    assertOk(await viaProxy.uploadFromText(name, text, { ...options, compress: true }));
    const meta = assertOk(await viaProxy.getMetadata(name));
    assert.equal(meta.contentEncoding, 'gzip');
    assert.deepEqual(meta.metadata, options.metadata);
    assert.equal(proxy.requests('upload-multipart').length, 1);
    assert.equal(assertOk(await viaProxy.downloadAsText(name)), text);
  });

  it('uploads without them are media uploads, as before', async () => {
    proxy.clear();
    const name = fresh('plain.bin');
    assertOk(await viaProxy.uploadFromBytes(name, randomBytes(100), { contentType: 'image/png', metadata: {} }));
    assert.deepEqual(proxy.log.filter((entry) => entry.kind.startsWith('upload-')).map((entry) => entry.kind), ['upload-media']);
    const meta = assertOk(await viaProxy.getMetadata(name));
    assert.equal(meta.contentType, 'image/png');
    assert.deepEqual(meta.metadata, {});
  });

  it('a multipart upload keeps ifGenerationMatch', async () => {
    const name = fresh('exists.bin');
    assertOk(await viaProxy.uploadFromBytes(name, randomBytes(10)));
    assertErr(await viaProxy.uploadFromBytes(name, randomBytes(10), { ...options, ifGenerationMatch: 0 }), 'PreconditionFailed', 412);
    assert.deepEqual(assertOk(await viaProxy.getMetadata(name)).metadata, {}, 'the refused upload stored nothing');
  });

  it('a multipart body corrupted on the way is IntegrityMismatch, and the object is removed', async () => {
    proxy.clear();
    // At a byte of the data part: a streamed body has no Content-Length for the proxy to halve.
    proxy.setFaults({ kind: 'upload-multipart', fault: 'corruptRequest', at: 50 * KiB });
    const name = fresh('corrupted.bin');
    assertErr(await viaProxy.uploadFromBytes(name, randomBytes(100 * KiB), options), 'IntegrityMismatch');
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, 'the corrupted object is deleted');
  });

  it('refuses metadata values that are not strings, and a content type that would break its part', async () => {
    const name = fresh('refused.bin');
    for (const [bad, expected] of [
      [{ metadata: { n: 1 } }, '`metadata.n` must be a string'],
      [{ metadata: { gone: null } }, '`metadata.gone` must be a string'],
      [{ metadata: 'k=v' }, '`metadata` must be an object'],
      [{ cacheControl: 60 }, '`cacheControl` must be a string'],
      [{ contentType: 'text/plain\r\nX-Evil: 1', cacheControl: 'no-store' }, 'contentType must not contain line breaks'],
      // A lone UTF-16 surrogate has no UTF-8 form: refused, not stored as U+FFFD.
      [{ metadata: { tag: 'cut \ud83d' } }, '`metadata.tag` must be a string'],
      [{ metadata: { ['\udc00k']: 'v' } }, '`metadata.\ufffdk` must be a string'],
      [{ contentType: 'text/\ud800' }, '`contentType` must be a string'],
    ]) {
      const error = assertErr(await client.uploadFromBytes(name, Buffer.from('x'), bad), 'InvalidArgument', null, JSON.stringify(bad));
      assert.ok(error.message.includes(expected), `${JSON.stringify(bad)}: ${error.message}`);
    }
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });
});
