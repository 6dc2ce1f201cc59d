// Object names: unusual but legal names reach GCS exactly as given (each one a single,
// percent-encoded path segment or query value, never normalised), and names GCS forbids
// are refused with InvalidArgument before any request is sent.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import {
  TEST_BUCKET,
  allByteValues,
  assertErr,
  assertOk,
  assertResult,
  assertStreamError,
  closedPortUrl,
  emulatorDeletePrefix,
  emulatorList,
  emulatorMetadata,
  emulatorStoredBytes,
  makeTempDir,
  nextStreamError,
  readAll,
  rejectionOf,
  removeDir,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const prefix = uniquePrefix('names');
const rootId = randomUUID();
let client;
let localDir;

before(async () => {
  client = new Client({ bucketId: TEST_BUCKET });
  localDir = await makeTempDir();
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
  for (const rootName of rootLevelNames) {
    await client.delete(rootName, { ignoreNotFound: true });
  }
  await removeDir(localDir);
});

/** Legal names that break naive URL building: each must round-trip exactly. */
const hostileSuffixes = [
  'dir/sp ace#?ü+%.txt',
  'a/../b.txt',
  '../up.txt',
  'x/..',
  'a/./b',
  './dot.txt',
  '%2F',
  'a%2Fb%20c%25',
  'a//double//slash',
  'trailing/',
  'query?x=1&y=2#frag',
  'plus+and space',
  'quotes\'"<>\\|*[]{}^`~!$&(),;=@',
  'tab\there',
  '日本語/ファイル.txt',
  'emoji 🌍🚀.txt',
  'nfc-\u00e9',
  'nfd-e\u0301',
  '.well-known/acme-challenge/not-at-the-start',
  'replacement character \ufffd, given as such',
];

/** Legal at the bucket's root too (only a leading `.well-known/acme-challenge/` is refused). */
const rootLevelNames = [`../${rootId}.txt`, `./${rootId}.txt`, `.well-known/${rootId}.txt`];

function longName(char, totalBytes) {
  // `${prefix}/long-` + chars, padded with 'x' so the UTF-8 length is exactly totalBytes.
  const head = `${prefix}/long-`;
  const room = totalBytes - Buffer.byteLength(head);
  const charBytes = Buffer.byteLength(char);
  const count = Math.floor(room / charBytes);
  return head + char.repeat(count) + 'x'.repeat(room - count * charBytes);
}

describe('legal but hostile names round-trip exactly', () => {
  for (const suffix of hostileSuffixes) {
    it(JSON.stringify(suffix), async () => {
      const name = `${prefix}/hostile/${suffix}`;
      const copyName = `${prefix}/hostile-copies/${suffix}`;
      const text = `contents of ${suffix}`;

      assertOk(await client.uploadFromText(name, text), 'uploadFromText');
      // Stored under exactly this name, not a decoded or normalised variant.
      const metadata = await emulatorMetadata(TEST_BUCKET, name);
      assert.ok(metadata, 'the emulator has no object of exactly this name');
      assert.equal(metadata.name, name);

      assertResult(await client.exists(name), { ok: true, value: true }, 'exists');
      assertResult(await client.downloadAsText(name), { ok: true, value: text }, 'downloadAsText');
      assert.equal(assertOk(await client.downloadAsBytes(name))[0].toString(), text, 'downloadAsBytes');
      assert.equal((await readAll(client.downloadAsStream(name))).toString(), text, 'downloadAsStream');

      assertOk(await client.copy(name, copyName), 'copy');
      assert.equal((await emulatorStoredBytes(TEST_BUCKET, copyName)).toString(), text);

      const listed = assertOk(await client.list({ prefix: name }), 'list');
      assert.ok(
        listed.some((object) => object.name === name),
        `list({prefix}) must contain the name exactly: ${JSON.stringify(listed)}`,
      );

      assertResult(await client.delete(name), { ok: true, value: null }, 'delete');
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
      assertResult(await client.exists(name), { ok: true, value: false }, 'exists after delete');
    });
  }

  it('NFC and NFD spellings stay two different objects', async () => {
    const nfc = `${prefix}/normalisation/caf\u00e9`;
    const nfd = `${prefix}/normalisation/cafe\u0301`;
    assertOk(await client.uploadFromText(nfc, 'composed'));
    assertOk(await client.uploadFromText(nfd, 'decomposed'));
    assertResult(await client.downloadAsText(nfc), { ok: true, value: 'composed' });
    assertResult(await client.downloadAsText(nfd), { ok: true, value: 'decomposed' });
    const listed = assertOk(await client.list({ prefix: `${prefix}/normalisation/` }));
    assert.equal(listed.length, 2);
  });

  it('names that look like paths out of a prefix are plain names at the bucket root', async () => {
    for (const name of rootLevelNames) {
      assertOk(await client.uploadFromText(name, name), name);
      assert.equal((await emulatorMetadata(TEST_BUCKET, name))?.name, name, name);
      assertResult(await client.downloadAsText(name), { ok: true, value: name }, name);
      assertResult(await client.delete(name), { ok: true, value: null }, name);
    }
  });

  it('every upload and download method handles a hostile name', async () => {
    const name = `${prefix}/methods/dir/sp ace#?ü+%.bin`;
    const bytes = allByteValues();

    assertOk(await client.uploadFromBytes(name, bytes), 'uploadFromBytes');
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes);

    const source = path.join(localDir, 'hostile-source.bin');
    await writeFile(source, bytes.subarray(0, 100));
    assertOk(await client.uploadFromFilename(name, source), 'uploadFromFilename');
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes.subarray(0, 100));

    const stream = new PassThrough();
    stream.end(bytes.subarray(0, 50));
    assert.equal(await withTimeout(client.uploadFromStream(name, stream), 15000, 'uploadFromStream'), undefined);
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), bytes.subarray(0, 50));

    const destination = path.join(localDir, 'hostile-destination.bin');
    assertOk(await client.downloadToFilename(name, destination), 'downloadToFilename');
    assert.deepEqual(await readFile(destination), bytes.subarray(0, 50));
  });

  it('accepts names of exactly 1024 UTF-8 bytes', async () => {
    for (const char of ['x', 'ü', '🌍']) {
      const name = longName(char, 1024);
      assert.equal(Buffer.byteLength(name), 1024);
      assertOk(await client.uploadFromText(name, char), `1024 bytes of ${char}`);
      assertResult(await client.downloadAsText(name), { ok: true, value: char });
      assert.equal((await emulatorMetadata(TEST_BUCKET, name))?.name, name);
    }
  });
});

describe('names GCS forbids are InvalidArgument, before any request', () => {
  const invalidNames = [
    ['the empty string', ''],
    ['a line feed', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['a trailing line feed', 'file.txt\n'],
    ['"."', '.'],
    ['".."', '..'],
    ['a leading .well-known/acme-challenge/', '.well-known/acme-challenge/token'],
    // Not valid Unicode, so not storable as UTF-8: each would otherwise become U+FFFD, and two
    // different names one object.
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['a surrogate pair reversed', 'x\ude00\ud83d'],
  ];
  // 1025 bytes; the multi-byte ones are short in characters but long in bytes.
  const tooLong = [
    ['1025 ASCII bytes', 'x'.repeat(1025)],
    ['513 two-byte characters (1026 bytes)', 'ü'.repeat(513)],
    ['257 four-byte characters (1028 bytes)', '🌍'.repeat(257)],
  ];

  // A client whose endpoint refuses connections: an InvalidArgument (not Network) proves
  // the name was refused before any request.
  let offline;
  before(async () => {
    offline = new Client({ bucketId: TEST_BUCKET, apiEndpoint: await closedPortUrl(), accessToken: 'unused' });
  });

  for (const [label, name] of [...invalidNames, ...tooLong]) {
    it(`${label}: every method`, async () => {
      const file = path.join(localDir, `invalid-${randomUUID()}.bin`);
      await writeFile(file, 'x');
      const target = path.join(localDir, `never-${randomUUID()}.bin`);
      const checks = {
        exists: () => offline.exists(name),
        downloadAsBytes: () => offline.downloadAsBytes(name),
        downloadAsText: () => offline.downloadAsText(name),
        downloadToFilename: () => offline.downloadToFilename(name, target),
        uploadFromBytes: () => offline.uploadFromBytes(name, Buffer.from('x')),
        uploadFromText: () => offline.uploadFromText(name, 'x'),
        uploadFromFilename: () => offline.uploadFromFilename(name, file),
        'copy (source)': () => offline.copy(name, 'valid-destination.txt'),
        'copy (destination)': () => offline.copy('valid-source.txt', name),
        delete: () => offline.delete(name),
        'delete (ignoreNotFound)': () => offline.delete(name, { ignoreNotFound: true }),
        '{name} object': () => offline.exists({ name }),
      };
      for (const [method, call] of Object.entries(checks)) {
        assertErr(await call(), 'InvalidArgument', null, method);
      }
      assert.equal(existsSync(target), false, 'downloadToFilename must not create the file');

      const error = await nextStreamError(offline.downloadAsStream(name));
      assertStreamError(error, StreamRequestError, 'InvalidArgument', null, 'downloadAsStream');

      const rejection = await rejectionOf(
        offline.uploadFromStream(name, Readable.from([Buffer.from('x')])),
        'uploadFromStream',
        15000,
      );
      assertStreamError(rejection, StreamRequestError, 'InvalidArgument', null, 'uploadFromStream');
    });
  }

  it('the error message says what is wrong with the name', async () => {
    const empty = assertErr(await client.exists(''), 'InvalidArgument', null);
    assert.match(empty.message, /empty/i);
    const long = assertErr(await client.exists('x'.repeat(1025)), 'InvalidArgument', null);
    assert.match(long.message, /1024/);
    const surrogate = assertErr(await client.copy('valid.txt', 'a\ud800'), 'InvalidArgument', null);
    assert.equal(surrogate.message, 'destObjectName: object name holds a lone UTF-16 surrogate');
  });

  it('a refused upload creates nothing on the real emulator', async () => {
    const name = `${prefix}/refused\nname`;
    assertErr(await client.uploadFromText(name, 'x'), 'InvalidArgument', null);
    assert.deepEqual(await emulatorList(TEST_BUCKET, `${prefix}/refused`), []);
  });
});
