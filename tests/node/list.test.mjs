// list: exactly [{name}, ...] in lexicographic (UTF-8 byte) order, every page followed,
// at most maxResults objects, and the prefix / startOffset / endOffset filters; with
// withMetadata, whole ObjectMetadata elements. listPage: one page at a time, with a delimiter's
// prefixes. Every list request asks for only what its result needs (prettyPrint=false and a
// `fields` projection, seen through the fault proxy's log; the emulator ignores `fields`).
// Every call uses a prefix: other test files write to the same bucket at the same time.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
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

  it('listPage serves at most 1000 a page however many are asked for', async () => {
    const first = assertOk(await client.listPage({ prefix: `${dir}/`, maxResults: 5000 }));
    assert.deepEqual(first.objects.map((object) => object.name), names.slice(0, 1000));
    assert.equal(typeof first.nextPageToken, 'string');
    const second = assertOk(await client.listPage({ prefix: `${dir}/`, maxResults: 5000, pageToken: first.nextPageToken }));
    assert.deepEqual(second.objects.map((object) => object.name), names.slice(1000));
    assert.ok(!('nextPageToken' in second), 'the last page has no nextPageToken');
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

describe('folders and pages (listPage) and full metadata (withMetadata)', () => {
  const dir = `${prefix}/folders`;
  const files = ['a.txt', 'b.txt', 'sub1/x', 'sub1/y/z', 'sub2/w', 'z.bin'];
  const names = files.map((file) => `${dir}/${file}`);

  before(async () => {
    for (const name of names) {
      assertOk(await client.uploadFromText(name, name, { metadata: { file: name.slice(dir.length + 1) }, cacheControl: 'no-store' }));
    }
  });

  it('a delimiter gives the objects at that level and the folders below it', async () => {
    const page = assertOk(await client.listPage({ prefix: `${dir}/`, delimiter: '/' }));
    assert.deepEqual(page.objects.map((object) => object.name), [`${dir}/a.txt`, `${dir}/b.txt`, `${dir}/z.bin`]);
    assert.deepEqual(page.prefixes, [`${dir}/sub1/`, `${dir}/sub2/`]);
    assert.ok(!('nextPageToken' in page), 'one page holds them all');
    const sub = assertOk(await client.listPage({ prefix: `${dir}/sub1/`, delimiter: '/' }));
    assert.deepEqual(sub.objects.map((object) => object.name), [`${dir}/sub1/x`]);
    assert.deepEqual(sub.prefixes, [`${dir}/sub1/y/`]);
  });

  it('each object comes with its metadata, as getMetadata gives it', async () => {
    const page = assertOk(await client.listPage({ prefix: `${dir}/`, delimiter: '/', maxResults: 10 }));
    for (const object of page.objects) {
      assert.deepEqual(object, assertOk(await client.getMetadata(object.name)), object.name);
      assert.equal(object.cacheControl, 'no-store');
      assert.deepEqual(object.metadata, { file: object.name.slice(dir.length + 1) });
    }
  });

  it('without a delimiter prefixes is an empty array', async () => {
    const page = assertOk(await client.listPage({ prefix: `${dir}/` }));
    assert.deepEqual(page.objects.map((object) => object.name), names);
    assert.deepEqual(page.prefixes, []);
  });

  it('paging with pageToken visits every object once, in order', async () => {
    const seen = [];
    let pageToken;
    let pages = 0;
    do {
      const page = assertOk(await client.listPage({ prefix: `${dir}/`, maxResults: 4, pageToken }));
      assert.ok(page.objects.length <= 4, `a page of ${page.objects.length}`);
      seen.push(...page.objects.map((object) => object.name));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== undefined);
    assert.deepEqual(seen, names);
    assert.equal(pages, 2);
  });

  it('list withMetadata gives whole ObjectMetadata elements; otherwise exactly {name}', async () => {
    const full = assertOk(await client.list({ prefix: `${dir}/`, withMetadata: true }));
    assert.deepEqual(full.map((object) => object.name), names);
    for (const object of full) assert.deepEqual(object, assertOk(await client.getMetadata(object.name)), object.name);
    const limited = assertOk(await client.list({ prefix: `${dir}/`, withMetadata: true, maxResults: 2 }));
    assert.deepEqual(limited.map((object) => object.name), names.slice(0, 2));
    assertResult(await client.list({ prefix: `${dir}/`, withMetadata: false }), { ok: true, value: names.map((name) => ({ name })) });
  });

  it('every list request asks for only what its result needs', async () => {
    const proxy = await startFaultProxy({ target: EMULATOR_URL });
    try {
      const through = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 't' });
      assertOk(await through.list({ prefix: `${dir}/` }));
      assertOk(await through.list({ prefix: `${dir}/`, withMetadata: true }));
      assertOk(await through.listPage({ prefix: `${dir}/`, delimiter: '/', maxResults: 2000 }));
      const queries = proxy.requests('list').map((entry) => new URL(entry.url, 'http://x').searchParams);
      assert.equal(queries.length, 3);
      for (const query of queries) assert.equal(query.get('prettyPrint'), 'false');
      assert.equal(queries[0].get('fields'), 'items(name),nextPageToken');
      const metadataFields =
        'items(name,size,metadata,bucket,contentType,contentEncoding,contentDisposition,cacheControl,etag,generation,metageneration,timeCreated,updated,crc32c,md5Hash),prefixes,nextPageToken';
      assert.equal(queries[1].get('fields'), metadataFields);
      assert.equal(queries[2].get('fields'), metadataFields);
      assert.equal(queries[2].get('delimiter'), '/');
      assert.equal(queries[2].get('maxResults'), '1000', 'a page above 1000 is asked for as 1000');
    } finally {
      await proxy.stop();
    }
  });
});

describe('failures', () => {
  it('a missing bucket is BucketNotFound 404', async () => {
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).list(), 'BucketNotFound', 404);
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).list({ prefix: 'x/' }), 'BucketNotFound', 404);
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).listPage({ prefix: 'x/' }), 'BucketNotFound', 404);
  });

  it('listPage refuses bad options before any request', async () => {
    for (const [options, expected] of [
      [{ maxResults: 0 }, '`maxResults` must be at least 1'],
      [{ maxResults: -1 }, '`maxResults` must be a non-negative integer'],
      [{ delimiter: 1 }, '`delimiter` must be a string'],
      [{ pageToken: {} }, '`pageToken` must be a string'],
      ['prefix', 'must be an object'],
    ]) {
      const error = assertErr(await client.listPage(options), 'InvalidArgument', null, JSON.stringify(options));
      assert.ok(error.message.includes(expected), `${JSON.stringify(options)}: ${error.message}`);
    }
  });
});
