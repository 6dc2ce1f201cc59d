// Every object method's success and failure paths against the emulator, with an explicit
// bucket (no sidecar involved): result shapes, bodies of every kind, overwrites, copies,
// deletes, content types, compression, and the errors a missing object or bucket gives.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import {
  MISSING_BUCKET,
  TEST_BUCKET,
  allByteValues,
  assertErr,
  assertOk,
  assertResult,
  emulatorMetadata,
  emulatorStoredBytes,
  emulatorUpload,
  sha256,
  testObjects,
} from './helpers.mjs';

const { fresh } = testObjects('objects');
let client;

before(() => {
  client = new Client({ bucketId: TEST_BUCKET });
});

describe('uploadFromText / downloadAsText', () => {
  it('round-trips text and resolves to {ok: true, value: null}', async () => {
    const name = fresh('hello.txt');
    assertResult(await client.uploadFromText(name, 'Hello World!'), { ok: true, value: null });
    assertResult(await client.downloadAsText(name), { ok: true, value: 'Hello World!' });
  });

  it('stores text as UTF-8 and decodes it back, astral characters included', async () => {
    const name = fresh('unicode.txt');
    const text = 'héllo wörld – 日本語 – 🌍🚀 – \u0000 nul – end';
    assertOk(await client.uploadFromText(name, text));
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), Buffer.from(text, 'utf8'));
    assertResult(await client.downloadAsText(name), { ok: true, value: text });
  });

  it('overwrites an existing object', async () => {
    const name = fresh('overwrite.txt');
    assertOk(await client.uploadFromText(name, 'first version, longer than the second'));
    assertOk(await client.uploadFromText(name, 'second'));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'second' });
  });

  it('round-trips the empty string', async () => {
    const name = fresh('empty.txt');
    assertOk(await client.uploadFromText(name, ''));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).size, '0');
    assertResult(await client.downloadAsText(name), { ok: true, value: '' });
  });

  it('decodes invalid UTF-8 lossily (U+FFFD) instead of failing', async () => {
    const name = fresh('invalid-utf8.txt');
    assertOk(await client.uploadFromBytes(name, Buffer.from([0x68, 0xff, 0x69, 0xc3])));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'h\uFFFDi\uFFFD' });
  });

  it('keeps a byte order mark', async () => {
    const name = fresh('bom.txt');
    assertOk(await client.uploadFromBytes(name, Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69])));
    assertResult(await client.downloadAsText(name), { ok: true, value: '\uFEFFhi' });
  });

  it('reports a missing object as ObjectNotFound 404', async () => {
    assertErr(await client.downloadAsText(fresh('missing.txt')), 'ObjectNotFound', 404);
  });
});

describe('uploadFromBytes / downloadAsBytes', () => {
  it('resolves to a one-element array holding a Buffer', async () => {
    const name = fresh();
    assertResult(await client.uploadFromBytes(name, Buffer.from('abc')), { ok: true, value: null });
    const value = assertOk(await client.downloadAsBytes(name));
    assert.ok(Array.isArray(value), 'value must be an array');
    assert.equal(value.length, 1);
    assert.ok(Buffer.isBuffer(value[0]), 'value[0] must be a Buffer');
    assert.deepEqual(value[0], Buffer.from('abc'));
  });

  it('round-trips all 256 byte values', async () => {
    const name = fresh();
    const bytes = allByteValues();
    assertOk(await client.uploadFromBytes(name, bytes));
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes, 'stored bytes');
    const [downloaded] = assertOk(await client.downloadAsBytes(name));
    assert.deepEqual(downloaded, bytes);
  });

  it('round-trips a multi-MiB random body', async () => {
    const name = fresh('big.bin');
    const bytes = randomBytes(5 * 1024 * 1024 + 12345);
    assertOk(await client.uploadFromBytes(name, bytes));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).size, String(bytes.length));
    const [downloaded] = assertOk(await client.downloadAsBytes(name));
    assert.equal(downloaded.length, bytes.length);
    assert.equal(sha256(downloaded), sha256(bytes));
  });

  it('round-trips an empty body', async () => {
    const name = fresh('empty.bin');
    assertOk(await client.uploadFromBytes(name, Buffer.alloc(0)));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).size, '0');
    const value = assertOk(await client.downloadAsBytes(name));
    assert.equal(value.length, 1);
    assert.ok(Buffer.isBuffer(value[0]));
    assert.equal(value[0].length, 0);
  });

  it('accepts a Uint8Array, a view into a larger buffer, an ArrayBuffer and a Blob', async () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const cases = [
      ['Uint8Array', new Uint8Array([1, 2, 3])],
      ['subarray view', backing.subarray(2, 5)],
      ['ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
      ['Blob', new Blob([new Uint8Array([1, 2])], { type: 'application/x-test' }).slice(0, 2)],
    ];
    for (const [label, contents] of cases) {
      const name = fresh(`${label.replace(/ /g, '-')}.bin`);
      assertOk(await client.uploadFromBytes(name, contents), label);
      const expected = label === 'Blob' ? Buffer.from([1, 2]) : Buffer.from([1, 2, 3]);
      assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), expected, label);
    }
  });

  it('overwrites an existing object', async () => {
    const name = fresh();
    assertOk(await client.uploadFromBytes(name, Buffer.from('one')));
    assertOk(await client.uploadFromBytes(name, Buffer.from('two')));
    const [downloaded] = assertOk(await client.downloadAsBytes(name));
    assert.equal(downloaded.toString(), 'two');
  });

  it('reports a missing object as ObjectNotFound 404', async () => {
    assertErr(await client.downloadAsBytes(fresh('missing.bin')), 'ObjectNotFound', 404);
  });
});

describe('content type', () => {
  const guesses = [
    ['notes/hello.txt', 'text/plain'],
    ['data.json', 'application/json'],
    ['page.html', 'text/html'],
    ['photo.png', 'image/png'],
    ['PHOTO.PNG', 'image/png'],
    ['no-extension', 'application/octet-stream'],
    ['dir.txt/no-extension', 'application/octet-stream'],
  ];

  for (const [suffix, expected] of guesses) {
    it(`guesses ${expected} for "${suffix}"`, async () => {
      const name = fresh(suffix);
      assertOk(await client.uploadFromText(name, 'x'));
      const metadata = await emulatorMetadata(TEST_BUCKET, name);
      assert.equal(metadata.contentType.split(';')[0].trim(), expected);
    });
  }

  it('guesses from the object name for bytes uploads too', async () => {
    const name = fresh('image.png');
    assertOk(await client.uploadFromBytes(name, allByteValues()));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'image/png');
  });

  it('uses an explicit contentType over the guess', async () => {
    const name = fresh('data.txt');
    assertOk(await client.uploadFromText(name, '{}', { contentType: 'application/vnd.test+json' }));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'application/vnd.test+json');
  });
});

describe('compression', () => {
  it('compress: true stores gzip bytes with contentEncoding gzip; downloads give the original', async () => {
    const name = fresh('compressed.txt');
    const text = 'compress me '.repeat(1000);
    assertOk(await client.uploadFromText(name, text, { compress: true }));

    const metadata = await emulatorMetadata(TEST_BUCKET, name);
    assert.equal(metadata.contentEncoding, 'gzip');
    const stored = await emulatorStoredBytes(TEST_BUCKET, name);
    assert.deepEqual([...stored.subarray(0, 2)], [0x1f, 0x8b], 'stored bytes must be gzip');
    assert.ok(stored.length < Buffer.byteLength(text), 'gzip of a repetitive text is smaller');
    assert.equal(gunzipSync(stored).toString('utf8'), text);
    assert.equal(metadata.size, String(stored.length));

    assertResult(await client.downloadAsText(name), { ok: true, value: text });
    const [bytes] = assertOk(await client.downloadAsBytes(name));
    assert.equal(bytes.toString('utf8'), text);
    // decompress: true is the default; saying so changes nothing.
    assertResult(await client.downloadAsText(name, { decompress: true }), { ok: true, value: text });
  });

  it('compress: true where the runtime has no CompressionStream is Unsupported, and writes nothing', async () => {
    const name = fresh('no-compressor.txt');
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'CompressionStream');
    delete globalThis.CompressionStream;
    let result;
    try {
      result = await client.uploadFromText(name, 'x'.repeat(100), { compress: true });
    } finally {
      Object.defineProperty(globalThis, 'CompressionStream', saved);
    }
    const error = assertErr(result, 'Unsupported', null);
    assert.match(error.message, /^compress: true: CompressionStream is not defined/);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('compress: true round-trips binary bytes', async () => {
    const name = fresh('compressed.bin');
    const bytes = Buffer.concat([allByteValues(), randomBytes(100000)]);
    assertOk(await client.uploadFromBytes(name, bytes, { compress: true }));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentEncoding, 'gzip');
    assert.deepEqual(gunzipSync(await emulatorStoredBytes(TEST_BUCKET, name)), bytes);
    const [downloaded] = assertOk(await client.downloadAsBytes(name));
    assert.equal(sha256(downloaded), sha256(bytes));
  });

  it('compress keeps the guessed content type', async () => {
    const name = fresh('compressed.json');
    assertOk(await client.uploadFromText(name, '{"a":1}', { compress: true }));
    const metadata = await emulatorMetadata(TEST_BUCKET, name);
    assert.equal(metadata.contentType, 'application/json');
    assert.equal(metadata.contentEncoding, 'gzip');
  });

  it('without compress (the default), nothing is gzipped', async () => {
    const name = fresh('plain.txt');
    assertOk(await client.uploadFromText(name, 'plain plain plain plain', { compress: false }));
    const metadata = await emulatorMetadata(TEST_BUCKET, name);
    assert.ok(!metadata.contentEncoding, `unexpected contentEncoding ${metadata.contentEncoding}`);
    assert.equal((await emulatorStoredBytes(TEST_BUCKET, name)).toString(), 'plain plain plain plain');
  });

  it('decompress: false on a gzip-stored object is Unsupported (fetch always decompresses)', async () => {
    const name = fresh('compressed-unsupported.txt');
    assertOk(await client.uploadFromText(name, 'zip zip zip', { compress: true }));
    assertErr(await client.downloadAsBytes(name, { decompress: false }), 'Unsupported');
    assertErr(await client.downloadAsText(name, { decompress: false }), 'Unsupported');
  });

  it('decompress: false on an object stored without gzip downloads it as usual', async () => {
    const name = fresh('not-compressed.bin');
    assertOk(await client.uploadFromBytes(name, allByteValues()));
    const [bytes] = assertOk(await client.downloadAsBytes(name, { decompress: false }));
    assert.deepEqual(bytes, allByteValues());
  });
});

describe('copy', () => {
  it('copies within the bucket, keeping the source', async () => {
    const source = fresh('source.bin');
    const destination = fresh('destination.bin');
    const bytes = allByteValues();
    assertOk(await client.uploadFromBytes(source, bytes));
    assertResult(await client.copy(source, destination), { ok: true, value: null });
    assert.deepEqual(assertOk(await client.downloadAsBytes(destination))[0], bytes);
    assert.deepEqual(assertOk(await client.downloadAsBytes(source))[0], bytes);
  });

  it('overwrites the destination', async () => {
    const source = fresh('source.txt');
    const destination = fresh('destination.txt');
    assertOk(await client.uploadFromText(source, 'new contents'));
    assertOk(await client.uploadFromText(destination, 'old contents, to be replaced'));
    assertOk(await client.copy(source, destination));
    assertResult(await client.downloadAsText(destination), { ok: true, value: 'new contents' });
  });

  it('copies a multi-MiB object intact', async () => {
    const source = fresh('big-source.bin');
    const destination = fresh('big-destination.bin');
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    assertOk(await client.uploadFromBytes(source, bytes));
    assertOk(await client.copy(source, destination));
    assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, destination)), sha256(bytes));
  });

  it('takes ifGenerationMatch (of the destination) and ifSourceGenerationMatch, as numbers or strings of digits', async () => {
    // The emulator does not check them (the fault proxy does, in faults.test.mjs): this is the
    // call's shape only.
    const source = fresh('guarded-source.txt');
    const destination = fresh('guarded-destination.txt');
    assertOk(await client.uploadFromText(source, 'guarded'));
    const { generation } = await emulatorMetadata(TEST_BUCKET, source);
    assertResult(await client.copy(source, destination, { ifGenerationMatch: 0, ifSourceGenerationMatch: generation }), { ok: true, value: null });
    assertResult(await client.downloadAsText(destination), { ok: true, value: 'guarded' });
    assertOk(await client.copy(source, destination, { ifGenerationMatch: undefined, ifSourceGenerationMatch: null }), 'undefined and null are absent');
  });

  it('refuses a generation that is not a non-negative integer, naming the option, before any request', async () => {
    const source = fresh('refused-source.txt');
    assertOk(await client.uploadFromText(source, 'x'));
    for (const [options, key] of [
      [{ ifGenerationMatch: -1 }, 'ifGenerationMatch'],
      [{ ifGenerationMatch: '12a' }, 'ifGenerationMatch'],
      [{ ifSourceGenerationMatch: 1.5 }, 'ifSourceGenerationMatch'],
      [{ ifSourceGenerationMatch: '' }, 'ifSourceGenerationMatch'],
      [{ ifGenerationMatch: true }, 'ifGenerationMatch'],
    ]) {
      const destination = fresh('refused-destination.txt');
      const error = assertErr(await client.copy(source, destination, options), 'InvalidArgument', null, JSON.stringify(options));
      assert.equal(error.message, `copy options: \`${key}\` must be a non-negative integer or a string of digits`);
      assert.equal(await emulatorMetadata(TEST_BUCKET, destination), null);
    }
  });

  it('reports a missing source as ObjectNotFound 404 and creates nothing', async () => {
    const destination = fresh('never.txt');
    assertErr(await client.copy(fresh('missing.txt'), destination), 'ObjectNotFound', 404);
    assert.equal(await emulatorMetadata(TEST_BUCKET, destination), null);
  });
});

describe('delete', () => {
  it('deletes an object', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    assertResult(await client.delete(name), { ok: true, value: null });
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
    assertResult(await client.exists(name), { ok: true, value: false });
  });

  it('reports a missing object as ObjectNotFound 404', async () => {
    assertErr(await client.delete(fresh('missing')), 'ObjectNotFound', 404);
    assertErr(await client.delete(fresh('missing'), { ignoreNotFound: false }), 'ObjectNotFound', 404);
  });

  it('ignoreNotFound: a missing object is success', async () => {
    assertResult(await client.delete(fresh('missing'), { ignoreNotFound: true }), { ok: true, value: null });
  });

  it('ignoreNotFound still deletes an existing object', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    assertResult(await client.delete(name, { ignoreNotFound: true }), { ok: true, value: null });
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('takes ifGenerationMatch as a number or a string of digits', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    const { generation } = await emulatorMetadata(TEST_BUCKET, name);
    assertResult(await client.delete(name, { ifGenerationMatch: generation }), { ok: true, value: null });
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('refuses a generation that is not a non-negative integer, before any request', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    for (const bad of [-1, 2 ** 53, 'x1', '', {}, 1.25]) {
      const error = assertErr(await client.delete(name, { ifGenerationMatch: bad }), 'InvalidArgument', null, String(bad));
      assert.equal(error.message, 'delete options: `ifGenerationMatch` must be a non-negative integer or a string of digits');
    }
    assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'nothing was deleted');
  });

  it('a second delete of the same object is ObjectNotFound', async () => {
    const name = fresh();
    assertOk(await client.uploadFromText(name, 'x'));
    assertOk(await client.delete(name));
    assertErr(await client.delete(name), 'ObjectNotFound', 404);
  });
});

describe('exists', () => {
  it('is true for an existing object and false for a missing one', async () => {
    const name = fresh();
    assertResult(await client.exists(name), { ok: true, value: false });
    await emulatorUpload(TEST_BUCKET, name, 'made outside the client');
    assertResult(await client.exists(name), { ok: true, value: true });
  });

  it('is true for an empty object', async () => {
    const name = fresh('empty');
    assertOk(await client.uploadFromBytes(name, new Uint8Array(0)));
    assertResult(await client.exists(name), { ok: true, value: true });
  });

  it('is false for a "directory" prefix that holds objects but is no object itself', async () => {
    const name = fresh('inside/file.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    assertResult(await client.exists(name.slice(0, name.lastIndexOf('/'))), { ok: true, value: false });
    assertResult(await client.exists(name.slice(0, name.lastIndexOf('/') + 1)), { ok: true, value: false });
  });
});

describe('objects made outside the client', () => {
  it('downloads what another tool uploaded', async () => {
    const name = fresh('external.bin');
    await emulatorUpload(TEST_BUCKET, name, allByteValues());
    assert.deepEqual(assertOk(await client.downloadAsBytes(name))[0], allByteValues());
  });
});

describe('{name} objects wherever a name is accepted', () => {
  it('every method takes {name} as list returns it', async () => {
    const source = { name: fresh('by-object.txt') };
    const destination = { name: fresh('by-object-copy.txt') };
    assertOk(await client.uploadFromText(source, 'via object'));
    assertResult(await client.exists(source), { ok: true, value: true });
    assertResult(await client.downloadAsText(source), { ok: true, value: 'via object' });
    assert.equal(assertOk(await client.downloadAsBytes(source))[0].toString(), 'via object');
    assertOk(await client.copy(source, destination));
    assertOk(await client.uploadFromBytes(destination, Buffer.from('replaced')));
    assertResult(await client.downloadAsText(destination.name), { ok: true, value: 'replaced' });
    assertOk(await client.delete(destination));
    assertOk(await client.delete(source));
    assertResult(await client.exists(source.name), { ok: true, value: false });
  });

  it('list results can be passed straight back (extra fields are ignored)', async () => {
    const dir = fresh('listed');
    assertOk(await client.uploadFromText(`${dir}/a.txt`, 'A'));
    const listed = assertOk(await client.list({ prefix: `${dir}/` }));
    assert.equal(listed.length, 1);
    assertResult(await client.downloadAsText(listed[0]), { ok: true, value: 'A' });
    assertResult(await client.downloadAsText({ ...listed[0], size: 1, generation: '1' }), { ok: true, value: 'A' });
  });
});

describe('a bucket that does not exist', () => {
  const missing = new Client({ bucketId: MISSING_BUCKET });

  it('exists is false, not an error', async () => {
    assertResult(await missing.exists('anything.txt'), { ok: true, value: false });
  });

  it('object operations are BucketNotFound 404', async () => {
    assertErr(await missing.downloadAsBytes('anything.txt'), 'BucketNotFound', 404, 'downloadAsBytes');
    assertErr(await missing.downloadAsText('anything.txt'), 'BucketNotFound', 404, 'downloadAsText');
    assertErr(await missing.uploadFromText('anything.txt', 'x'), 'BucketNotFound', 404, 'uploadFromText');
    assertErr(await missing.uploadFromBytes('anything.bin', Buffer.from('x')), 'BucketNotFound', 404, 'uploadFromBytes');
    assertErr(await missing.copy('anything.txt', 'other.txt'), 'BucketNotFound', 404, 'copy');
    assertErr(await missing.delete('anything.txt'), 'BucketNotFound', 404, 'delete');
    assertErr(await missing.list(), 'BucketNotFound', 404, 'list');
  });

  it('the bucket check does not turn a missing object in an existing bucket into BucketNotFound', async () => {
    // The emulator's 404 says just "Not Found" either way; the client must still tell them apart.
    assertErr(await client.downloadAsBytes(fresh('missing')), 'ObjectNotFound', 404);
    assertErr(await client.copy(fresh('missing'), fresh('x')), 'ObjectNotFound', 404);
    assertErr(await client.delete(fresh('missing')), 'ObjectNotFound', 404);
  });
});
