// list: exactly [{name}, ...] in lexicographic (UTF-8 byte) order, every page followed,
// at most maxResults objects, and the prefix / startOffset / endOffset filters.
// Every call uses a prefix: other test files write to the same bucket at the same time.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import {
  MISSING_BUCKET,
  TEST_BUCKET,
  assertErr,
  assertOk,
  assertResult,
  emulatorDeletePrefix,
  emulatorUpload,
  sortByUtf8,
  uniquePrefix,
} from './helpers.mjs';

const prefix = uniquePrefix('list');
let client;

before(() => {
  client = new Client({ bucketId: TEST_BUCKET });
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
});

/** Uploads `names` (in the given order) through the client, a few at a time. */
async function uploadAll(names) {
  for (let i = 0; i < names.length; i += 25) {
    const results = await Promise.all(names.slice(i, i + 25).map((name) => client.uploadFromText(name, name)));
    for (const result of results) assertOk(result, 'upload');
  }
}

describe('shape and order', () => {
  const dir = `${prefix}/order`;
  // Deliberately unsorted, with names whose UTF-16 and UTF-8 orders differ (U+FF21 vs an emoji).
  const suffixes = ['b', 'a', 'a/b', 'a-b', 'B', '~', 'a b', '\uFF21', '🌍', 'é', 'e', 'a/a', '0', 'A', '_'];
  const names = suffixes.map((suffix) => `${dir}/${suffix}`);

  before(async () => {
    await uploadAll(names);
  });

  it('returns exactly [{name}] objects, sorted by UTF-8 bytes', async () => {
    const listed = assertOk(await client.list({ prefix: `${dir}/` }));
    assert.deepEqual(
      listed,
      sortByUtf8(names).map((name) => ({ name })),
    );
    for (const object of listed) assert.deepEqual(Object.keys(object), ['name']);
  });

  it('a prefix without the trailing slash matches as a plain string prefix', async () => {
    const listed = assertOk(await client.list({ prefix: `${dir}/a` }));
    assert.deepEqual(
      listed.map((object) => object.name),
      sortByUtf8(names.filter((name) => name.startsWith(`${dir}/a`))),
    );
  });

  it('a list without options contains these objects, in order', async () => {
    const listed = assertOk(await client.list()).map((object) => object.name);
    const mine = listed.filter((name) => name.startsWith(`${dir}/`));
    assert.deepEqual(mine, sortByUtf8(names));
    // The whole answer is sorted too (objects of other files included).
    assert.deepEqual(listed, sortByUtf8(listed));
  });

  it('a prefix that matches nothing gives an empty array', async () => {
    assertResult(await client.list({ prefix: `${prefix}/nothing-here/` }), { ok: true, value: [] });
  });

  it('startOffset is inclusive, endOffset exclusive', async () => {
    const sorted = sortByUtf8(names);
    const start = sorted[3];
    const end = sorted[9];
    const listed = assertOk(await client.list({ prefix: `${dir}/`, startOffset: start, endOffset: end }));
    assert.deepEqual(
      listed.map((object) => object.name),
      sorted.slice(3, 9),
    );
    const fromStart = assertOk(await client.list({ prefix: `${dir}/`, startOffset: start }));
    assert.deepEqual(fromStart.map((object) => object.name), sorted.slice(3));
    const untilEnd = assertOk(await client.list({ prefix: `${dir}/`, endOffset: end }));
    assert.deepEqual(untilEnd.map((object) => object.name), sorted.slice(0, 9));
  });

  it('maxResults returns the first objects in order', async () => {
    const sorted = sortByUtf8(names);
    for (const maxResults of [1, 2, 5]) {
      const listed = assertOk(await client.list({ prefix: `${dir}/`, maxResults }));
      assert.deepEqual(listed.map((object) => object.name), sorted.slice(0, maxResults), `maxResults ${maxResults}`);
    }
    const more = assertOk(await client.list({ prefix: `${dir}/`, maxResults: names.length + 10 }));
    assert.equal(more.length, names.length);
  });

  it('matchGlob is accepted (the emulator ignores it; the matching names are there)', async () => {
    const listed = assertOk(await client.list({ prefix: `${dir}/`, matchGlob: `${dir}/a*` }));
    const got = listed.map((object) => object.name);
    for (const name of names.filter((n) => /^a[^/]*$/.test(n.slice(dir.length + 1)))) {
      assert.ok(got.includes(name), `${name} matches the glob but is missing`);
    }
    assert.deepEqual(got, sortByUtf8(got));
  });
});

describe('many objects', () => {
  const dir = `${prefix}/many`;
  const count = 1105;
  const names = Array.from({ length: count }, (_, i) => `${dir}/${String(i).padStart(5, '0')}`);

  before(async () => {
    // Straight to the emulator: faster, and this is about listing.
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => emulatorUpload(TEST_BUCKET, name, 'x')));
    }
  });

  it('returns every object (more than one GCS page of 1000)', async () => {
    const listed = assertOk(await client.list({ prefix: `${dir}/` }));
    assert.equal(listed.length, count);
    assert.deepEqual(
      listed.map((object) => object.name),
      names,
    );
  });

  it('maxResults above one page still stops at maxResults', async () => {
    const listed = assertOk(await client.list({ prefix: `${dir}/`, maxResults: 1050 }));
    assert.deepEqual(
      listed.map((object) => object.name),
      names.slice(0, 1050),
    );
  });

  it('offsets combine with many objects', async () => {
    const listed = assertOk(
      await client.list({ prefix: `${dir}/`, startOffset: names[995], endOffset: names[1010] }),
    );
    assert.deepEqual(
      listed.map((object) => object.name),
      names.slice(995, 1010),
    );
  });
});

describe('failures', () => {
  it('a missing bucket is BucketNotFound 404', async () => {
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).list(), 'BucketNotFound', 404);
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).list({ prefix: 'x/' }), 'BucketNotFound', 404);
  });
});
