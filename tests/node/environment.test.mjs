// Replit's environment, as the App Storage tool sets it and the generated apps read it:
// DEFAULT_OBJECT_STORAGE_BUCKET_ID is the default bucket before the sidecar is asked (the
// sidecar can answer an empty bucketId right after a bucket is created); objectPaths() reads
// PRIVATE_OBJECT_DIR and PUBLIC_OBJECT_SEARCH_PATHS; findPublic searches the public paths in
// order. The variables are set in this process before each client is made (a client reads
// them when it is constructed) and restored after.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';

import { Client, objectPaths } from 'replit-object-storage-wasm';

import {
  DEFAULT_BUCKET,
  SIDECAR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  emulatorDeletePrefix,
  emulatorMetadata,
  emulatorUpload,
  sidecar,
  uniquePrefix,
} from './helpers.mjs';

const VARIABLES = ['DEFAULT_OBJECT_STORAGE_BUCKET_ID', 'PRIVATE_OBJECT_DIR', 'PUBLIC_OBJECT_SEARCH_PATHS'];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
const prefix = uniquePrefix('environment');

/** Sets (a string) or unsets (undefined) the variables given. */
function setEnv(values) {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

afterEach(() => setEnv(saved));

after(async () => {
  await sidecar.reset();
  await emulatorDeletePrefix(TEST_BUCKET, prefix);
  await emulatorDeletePrefix(DEFAULT_BUCKET, prefix);
});

describe('DEFAULT_OBJECT_STORAGE_BUCKET_ID', () => {
  before(() => sidecar.reset());

  it('is the default bucket, and the sidecar is not asked (it may not know the bucket yet)', async () => {
    await sidecar.control({ defaultBucket: '' }); // as right after the bucket was created
    setEnv({ DEFAULT_OBJECT_STORAGE_BUCKET_ID: TEST_BUCKET });
    const client = new Client({ sidecarEndpoint: SIDECAR_URL });
    const name = `${prefix}/default-from-env.txt`;
    assertOk(await client.uploadFromText(name, 'in the bucket the environment names'));
    assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'stored in DEFAULT_OBJECT_STORAGE_BUCKET_ID');
    assert.equal(await emulatorMetadata(DEFAULT_BUCKET, name), null, "not in the sidecar's bucket");
    assert.equal((await sidecar.stats()).defaultBucketRequests, 0, 'the sidecar was not asked');
  });

  it('gives way to the bucketId option', async () => {
    await sidecar.reset();
    setEnv({ DEFAULT_OBJECT_STORAGE_BUCKET_ID: 'replit-objstore-elsewhere' });
    const client = new Client({ bucketId: TEST_BUCKET, sidecarEndpoint: SIDECAR_URL });
    const name = `${prefix}/option-wins.txt`;
    assertOk(await client.uploadFromText(name, 'x'));
    assert.ok(await emulatorMetadata(TEST_BUCKET, name));
  });

  it('empty or unset, the sidecar is asked; a client keeps the environment it was made in', async () => {
    await sidecar.reset();
    setEnv({ DEFAULT_OBJECT_STORAGE_BUCKET_ID: '' });
    const empty = new Client({ sidecarEndpoint: SIDECAR_URL });
    setEnv({ DEFAULT_OBJECT_STORAGE_BUCKET_ID: TEST_BUCKET }); // too late for `empty`
    const name = `${prefix}/from-sidecar.txt`;
    assertOk(await empty.uploadFromText(name, 'x'));
    assert.ok(await emulatorMetadata(DEFAULT_BUCKET, name), "stored in the sidecar's default bucket");
    assert.equal((await sidecar.stats()).defaultBucketRequests, 1);
    setEnv({ DEFAULT_OBJECT_STORAGE_BUCKET_ID: undefined });
    await sidecar.control({ defaultBucket: '' });
    assertErr(await new Client({ sidecarEndpoint: SIDECAR_URL }).exists('x'), 'DefaultBucket');
  });
});

describe('objectPaths()', () => {
  it('reads both variables as the App Storage tool sets them', () => {
    setEnv({ PRIVATE_OBJECT_DIR: `/${DEFAULT_BUCKET}/.private`, PUBLIC_OBJECT_SEARCH_PATHS: `/${DEFAULT_BUCKET}/public` });
    assert.deepEqual(assertOk(objectPaths()), {
      privateDir: { bucketId: DEFAULT_BUCKET, prefix: '.private' },
      publicPaths: [{ bucketId: DEFAULT_BUCKET, prefix: 'public' }],
    });
  });

  it('tolerates spaces, trailing slashes, blank entries, repeats, a whole bucket and a JSON array', () => {
    setEnv({
      PRIVATE_OBJECT_DIR: ' /test-bucket/a/b/ ',
      PUBLIC_OBJECT_SEARCH_PATHS: ' /test-bucket/public/ ,, /other-bucket , /test-bucket/public',
    });
    const expected = {
      privateDir: { bucketId: 'test-bucket', prefix: 'a/b' },
      publicPaths: [{ bucketId: 'test-bucket', prefix: 'public' }, { bucketId: 'other-bucket', prefix: '' }],
    };
    assert.deepEqual(assertOk(objectPaths()), expected);
    setEnv({ PUBLIC_OBJECT_SEARCH_PATHS: '["/test-bucket/public/", "/other-bucket"]' });
    assert.deepEqual(assertOk(objectPaths()), expected);
  });

  it('takes another environment as its argument', () => {
    setEnv({ PRIVATE_OBJECT_DIR: undefined });
    const env = { PRIVATE_OBJECT_DIR: '/test-bucket/.private' };
    assert.deepEqual(assertOk(objectPaths(env)), { privateDir: { bucketId: 'test-bucket', prefix: '.private' }, publicPaths: [] });
  });

  it('needs PRIVATE_OBJECT_DIR; an unset PUBLIC_OBJECT_SEARCH_PATHS is no public paths', () => {
    setEnv({ PRIVATE_OBJECT_DIR: undefined, PUBLIC_OBJECT_SEARCH_PATHS: '/test-bucket/public' });
    const error = assertErr(objectPaths(), 'InvalidArgument', null);
    assert.match(error.message, /^PRIVATE_OBJECT_DIR is not set: create a bucket in the App Storage tool/);
    setEnv({ PRIVATE_OBJECT_DIR: '', PUBLIC_OBJECT_SEARCH_PATHS: '/test-bucket/public' });
    assert.match(assertErr(objectPaths(), 'InvalidArgument').message, /^PRIVATE_OBJECT_DIR is not set/);
    setEnv({ PRIVATE_OBJECT_DIR: '/test-bucket/.private', PUBLIC_OBJECT_SEARCH_PATHS: undefined });
    assert.deepEqual(assertOk(objectPaths()).publicPaths, []);
  });

  it('names the variable and the rule when a path is malformed', () => {
    setEnv({ PRIVATE_OBJECT_DIR: '/Test_Bucket/.private', PUBLIC_OBJECT_SEARCH_PATHS: undefined });
    const privateError = assertErr(objectPaths(), 'InvalidArgument');
    assert.match(privateError.message, /^PRIVATE_OBJECT_DIR: "\/Test_Bucket\/\.private" is not a \/<bucket>\/<prefix> path: .*lowercase/);
    setEnv({ PRIVATE_OBJECT_DIR: '/test-bucket/.private', PUBLIC_OBJECT_SEARCH_PATHS: '/test-bucket/public,gs://test-bucket/x' });
    assert.match(assertErr(objectPaths(), 'InvalidArgument').message, /^PUBLIC_OBJECT_SEARCH_PATHS: "gs:\/\/test-bucket\/x"/);
    setEnv({ PUBLIC_OBJECT_SEARCH_PATHS: '["/test-bucket/public", 3]' });
    assert.match(assertErr(objectPaths(), 'InvalidArgument').message, /^PUBLIC_OBJECT_SEARCH_PATHS starts with '\[' but is not a JSON array of strings/);
  });

  it('is the same function from require()', () => {
    const require = createRequire(import.meta.url);
    assert.equal(require('replit-object-storage-wasm').objectPaths, objectPaths);
  });
});

describe('findPublic', () => {
  const first = `${prefix}/public-a`;
  const second = `${prefix}/public-b`;

  before(async () => {
    await emulatorUpload(TEST_BUCKET, `${first}/both.png`, 'first');
    await emulatorUpload(DEFAULT_BUCKET, `${second}/both.png`, 'second');
    await emulatorUpload(DEFAULT_BUCKET, `${second}/img/only-second.png`, 'second');
  });

  /** A client made while PUBLIC_OBJECT_SEARCH_PATHS is `paths`. */
  function clientWith(paths) {
    setEnv({ PUBLIC_OBJECT_SEARCH_PATHS: paths });
    return new Client({ bucketId: TEST_BUCKET });
  }

  it('finds an object in the first search path that has it, in order', async () => {
    const client = clientWith(`/${TEST_BUCKET}/${first}/, /${DEFAULT_BUCKET}/${second}`);
    assert.deepEqual(assertOk(await client.findPublic('both.png')), { bucketId: TEST_BUCKET, objectName: `${first}/both.png` });
    assert.deepEqual(assertOk(await client.findPublic('img/only-second.png')), {
      bucketId: DEFAULT_BUCKET,
      objectName: `${second}/img/only-second.png`,
    });
    assert.deepEqual(assertOk(await client.findPublic('/img/only-second.png')), {
      bucketId: DEFAULT_BUCKET,
      objectName: `${second}/img/only-second.png`,
    });
    const reversed = clientWith(`/${DEFAULT_BUCKET}/${second},/${TEST_BUCKET}/${first}`);
    assert.deepEqual(assertOk(await reversed.findPublic('both.png')), { bucketId: DEFAULT_BUCKET, objectName: `${second}/both.png` });
  });

  it('is null when no search path has the object (a missing bucket too)', async () => {
    const client = clientWith(`/${TEST_BUCKET}/${first},/no-such-bucket-xyz/public`);
    assert.equal(assertOk(await client.findPublic('nothing-here.png')), null);
  });

  it('without PUBLIC_OBJECT_SEARCH_PATHS, or with a malformed one, is an error naming it', async () => {
    const unset = assertErr(await clientWith(undefined).findPublic('both.png'), 'InvalidArgument', null);
    assert.match(unset.message, /^PUBLIC_OBJECT_SEARCH_PATHS is not set/);
    const malformed = assertErr(await clientWith('/UPPER/x').findPublic('both.png'), 'InvalidArgument');
    assert.match(malformed.message, /^PUBLIC_OBJECT_SEARCH_PATHS: "\/UPPER\/x"/);
  });

  it('refuses a relative path that makes no object name, and follows its signal', async () => {
    const client = clientWith(`/${TEST_BUCKET}/${first}`);
    for (const bad of ['', '/', 'a\nb']) {
      assert.match(assertErr(await client.findPublic(bad), 'InvalidArgument').message, /^relativePath/, JSON.stringify(bad));
    }
    assert.match(assertErr(await client.findPublic(42), 'InvalidArgument').message, /relativePath must be a string/);
    assertErr(await client.findPublic('both.png', { signal: AbortSignal.abort() }), 'Aborted');
  });
});
