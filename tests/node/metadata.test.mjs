// Object metadata: what getMetadata resolves to (GCS's field names, numbers and strings as
// users of @google-cloud/storage read them), checked against the emulator's own answer.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import {
  MISSING_BUCKET,
  TEST_BUCKET,
  assertErr,
  assertOk,
  crc32cBase64,
  emulatorDeletePrefix,
  emulatorMetadata,
  md5Base64,
  uniquePrefix,
} from './helpers.mjs';

const prefix = uniquePrefix('metadata');
let client;
let counter = 0;
const fresh = (suffix = 'obj.bin') => `${prefix}/${++counter}/${suffix}`;

before(() => {
  client = new Client({ bucketId: TEST_BUCKET });
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
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
