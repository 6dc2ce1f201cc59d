// uploadFromFilename and downloadToFilename: exact bytes both ways, content types,
// compression, and local-file failures (LocalFile) kept apart from storage failures.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { appendFileSync, existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { Client } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  MISSING_BUCKET,
  TEST_BUCKET,
  allByteValues,
  assertErr,
  assertOk,
  assertResult,
  emulatorDeletePrefix,
  emulatorList,
  emulatorMetadata,
  emulatorStoredBytes,
  makeTempDir,
  removeDir,
  revoked,
  sha256,
  throwingGetter,
  uniquePrefix,
} from './helpers.mjs';

const prefix = uniquePrefix('files');
let client;
let localDir;
let counter = 0;
const fresh = (suffix = 'obj.bin') => `${prefix}/${++counter}/${suffix}`;
const localPath = (name) => path.join(localDir, `${++counter}-${name}`);

before(async () => {
  client = new Client({ bucketId: TEST_BUCKET });
  localDir = await makeTempDir();
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
  await removeDir(localDir);
});

describe('uploadFromFilename', () => {
  it('uploads the exact bytes of a file and resolves to {ok: true, value: null}', async () => {
    const file = localPath('bytes.bin');
    await writeFile(file, allByteValues());
    const name = fresh('bytes.bin');
    assertResult(await client.uploadFromFilename(name, file), { ok: true, value: null });
    assert.deepEqual(await emulatorStoredBytes(TEST_BUCKET, name), allByteValues());
  });

  it('uploads a multi-MiB file intact', async () => {
    const bytes = randomBytes(6 * 1024 * 1024 + 99);
    const file = localPath('big.bin');
    await writeFile(file, bytes);
    const name = fresh('big.bin');
    assertOk(await client.uploadFromFilename(name, file));
    const stored = await emulatorStoredBytes(TEST_BUCKET, name);
    assert.equal(stored.length, bytes.length);
    assert.equal(sha256(stored), sha256(bytes));
  });

  it('uploads an empty file', async () => {
    const file = localPath('empty');
    await writeFile(file, '');
    const name = fresh('empty');
    assertOk(await client.uploadFromFilename(name, file));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name))?.size, '0');
  });

  it('guesses the content type from the object name', async () => {
    const file = localPath('no-extension-on-disk');
    await writeFile(file, '{"a": 1}');
    const name = fresh('data.json');
    assertOk(await client.uploadFromFilename(name, file));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'application/json');
  });

  it('takes an explicit contentType', async () => {
    const file = localPath('typed.bin');
    await writeFile(file, 'x');
    const name = fresh('typed.bin');
    assertOk(await client.uploadFromFilename(name, file, { contentType: 'text/csv' }));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentType, 'text/csv');
  });

  it('compress: true stores gzip; downloads give the original', async () => {
    const text = 'file contents '.repeat(3000);
    const file = localPath('compress.txt');
    await writeFile(file, text);
    const name = fresh('compress.txt');
    assertOk(await client.uploadFromFilename(name, file, { compress: true }));
    assert.equal((await emulatorMetadata(TEST_BUCKET, name)).contentEncoding, 'gzip');
    assert.equal(gunzipSync(await emulatorStoredBytes(TEST_BUCKET, name)).toString(), text);
    assertResult(await client.downloadAsText(name), { ok: true, value: text });
  });

  it('overwrites an existing object', async () => {
    const name = fresh('overwrite.txt');
    assertOk(await client.uploadFromText(name, 'old and longer contents'));
    const file = localPath('overwrite.txt');
    await writeFile(file, 'new');
    assertOk(await client.uploadFromFilename(name, file));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'new' });
  });

  it('a file name with spaces and unicode', async () => {
    const file = path.join(localDir, 'dïr with space', 'fïle #1.txt');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, 'unicode path');
    const name = fresh('unicode-path.txt');
    assertOk(await client.uploadFromFilename(name, file));
    assertResult(await client.downloadAsText(name), { ok: true, value: 'unicode path' });
  });

  it('a missing file is LocalFile without a status, and uploads nothing', async () => {
    const name = fresh('never.txt');
    const error = assertErr(
      await client.uploadFromFilename(name, path.join(localDir, 'does-not-exist.txt')),
      'LocalFile',
      null,
    );
    assert.ok(error.message.includes('does-not-exist.txt'), `the message should name the file: ${error.message}`);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('a file changed while it is read is LocalFile, and no object is made', async () => {
    const file = localPath('changing.bin');
    await writeFile(file, randomBytes(3 * 1024 * 1024));
    const name = fresh('changing.bin');
    let appended = false;
    // Told after the first MiB is read: the file grows before the next read.
    const onProgress = () => {
      if (!appended) appendFileSync(file, 'more');
      appended = true;
    };
    const error = assertErr(await client.uploadFromFilename(name, file, { onProgress }), 'LocalFile', null);
    assert.ok(appended, 'progress was told before the end');
    assert.match(error.message, /changed while it was read/);
    assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
  });

  it('a directory instead of a file is LocalFile', async () => {
    assertErr(await client.uploadFromFilename(fresh('dir.txt'), localDir), 'LocalFile', null);
  });

  it('a missing bucket is BucketNotFound 404, not LocalFile', async () => {
    const file = localPath('to-missing-bucket.txt');
    await writeFile(file, 'x');
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).uploadFromFilename('x.txt', file), 'BucketNotFound', 404);
  });

  it('a failed upload gives its file descriptor back at once (not at garbage collection)', { skip: !existsSync('/proc/self/fd') }, async () => {
    const file = localPath('fails-to-upload.bin');
    await writeFile(file, randomBytes(3 * 1024 * 1024));
    const openDescriptors = async () => (await readdir('/proc/self/fd')).length;
    const missing = new Client({ bucketId: MISSING_BUCKET });
    const before = await openDescriptors();
    for (let i = 0; i < 20; i++) {
      assertErr(await missing.uploadFromFilename('x.bin', file), 'BucketNotFound', 404);
      assertErr(await client.uploadFromFilename(fresh('bad.bin'), file, { ifGenerationMatch: 'not a number' }), 'InvalidArgument', null);
      // Options that throw when read are refused as the core reads them, not thrown.
      assertErr(await client.uploadFromFilename(fresh('bad.bin'), file, revoked()), 'InvalidArgument', null);
      const throwing = assertErr(await client.uploadFromFilename(fresh('bad.bin'), file, throwingGetter('ifGenerationMatch')), 'InvalidArgument', null);
      assert.match(throwing.message, /`ifGenerationMatch` must be/);
    }
    assert.deepEqual(await emulatorList(TEST_BUCKET, `${prefix}/`).then((names) => names.filter((n) => n.includes('bad.bin'))), [], 'nothing was uploaded');
    // A socket of the keep-alive pool may open meanwhile; leaked files would be up to 80.
    assert.ok((await openDescriptors()) - before <= 2, `descriptors before ${before}, after ${await openDescriptors()}`);
  });
});

describe('downloadToFilename', () => {
  it('to a directory is LocalFile, found before anything is downloaded', async () => {
    const name = fresh('to-a-directory.bin');
    assertOk(await client.uploadFromBytes(name, randomBytes(1024)));
    const proxy = await startFaultProxy({ target: EMULATOR_URL });
    try {
      const viaProxy = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url });
      const error = assertErr(await viaProxy.downloadToFilename(name, localDir), 'LocalFile', null);
      assert.equal(error.message, `cannot write ${localDir}: it is a directory`);
      assert.deepEqual(proxy.log.map((entry) => entry.kind), [], 'no request was made');
      assert.deepEqual((await readdir(path.dirname(localDir))).filter((file) => file.endsWith('.part')), [], 'no partial file is left');
    } finally {
      await proxy.stop();
    }
  });

  it('writes the exact bytes and resolves to {ok: true, value: null}', async () => {
    const name = fresh('bytes.bin');
    assertOk(await client.uploadFromBytes(name, allByteValues()));
    const file = localPath('bytes.bin');
    assertResult(await client.downloadToFilename(name, file), { ok: true, value: null });
    assert.deepEqual(await readFile(file), allByteValues());
  });

  it('writes a multi-MiB object intact', async () => {
    const name = fresh('big.bin');
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    assertOk(await client.uploadFromBytes(name, bytes));
    const file = localPath('big.bin');
    assertOk(await client.downloadToFilename(name, file));
    assert.equal(sha256(await readFile(file)), sha256(bytes));
  });

  it('writes an empty object as an empty file', async () => {
    const name = fresh('empty');
    assertOk(await client.uploadFromBytes(name, Buffer.alloc(0)));
    const file = localPath('empty');
    assertOk(await client.downloadToFilename(name, file));
    assert.equal((await readFile(file)).length, 0);
  });

  it('writes through a symbolic link, and keeps the permissions of the file it replaces', async () => {
    const name = fresh('through-a-link.bin');
    const bytes = randomBytes(5000);
    assertOk(await client.uploadFromBytes(name, bytes));
    const target = localPath('link-target.bin');
    await writeFile(target, 'old');
    await chmod(target, 0o640);
    const link = localPath('link.bin');
    await symlink(target, link);
    assertOk(await client.downloadToFilename(name, link));
    assert.ok((await lstat(link)).isSymbolicLink(), 'the link is still a link');
    assert.deepEqual(await readFile(target), bytes, 'its target has the bytes');
    assert.equal((await stat(target)).mode & 0o777, 0o640, 'with the permissions it had');
    const secret = localPath('secret.bin');
    await writeFile(secret, 'old', { mode: 0o600 });
    assertOk(await client.downloadToFilename(name, secret));
    assert.deepEqual([await readFile(secret), (await stat(secret)).mode & 0o777], [bytes, 0o600], 'a file readable by its owner alone stays so');
  });

  it('flushes the bytes to disk before renaming the file into place', async () => {
    const name = fresh('durable.bin');
    const bytes = randomBytes(70_000);
    assertOk(await client.uploadFromBytes(name, bytes));
    const file = localPath('durable.bin');
    await writeFile(file, 'the old file');
    // What reaches the disk, in order: each fsync with the size of the file it flushed, each rename.
    const events = [];
    const probe = await fs.promises.open(file, 'r');
    const handles = Object.getPrototypeOf(probe);
    await probe.close();
    const { sync } = handles;
    const { rename } = fs.promises;
    handles.sync = async function () {
      events.push(`sync ${(await this.stat()).size}`);
      return sync.call(this);
    };
    fs.promises.rename = async (from, to) => {
      events.push(`rename to ${path.basename(to)}`);
      return rename(from, to);
    };
    try {
      assertOk(await client.downloadToFilename(name, file));
    } finally {
      handles.sync = sync;
      fs.promises.rename = rename;
    }
    assert.deepEqual(events, [`sync ${bytes.length}`, `rename to ${path.basename(file)}`]);
    assert.deepEqual(await readFile(file), bytes);
  });

  it('replaces an existing file completely (no leftover tail)', async () => {
    const name = fresh('short.txt');
    assertOk(await client.uploadFromText(name, 'short'));
    const file = localPath('existing.txt');
    await writeFile(file, 'a much longer existing file');
    assertOk(await client.downloadToFilename(name, file));
    assert.equal(await readFile(file, 'utf8'), 'short');
  });

  it('writes the decompressed bytes of a gzip-stored object', async () => {
    const name = fresh('compressed.txt');
    const text = 'decompress to disk '.repeat(2000);
    assertOk(await client.uploadFromText(name, text, { compress: true }));
    const file = localPath('compressed.txt');
    assertOk(await client.downloadToFilename(name, file));
    assert.equal(await readFile(file, 'utf8'), text);
  });

  it('a missing object is ObjectNotFound 404 and creates no file', async () => {
    const file = localPath('never.txt');
    assertErr(await client.downloadToFilename(fresh('missing.txt'), file), 'ObjectNotFound', 404);
    assert.equal(existsSync(file), false);
  });

  it('a missing bucket is BucketNotFound 404 and creates no file', async () => {
    const file = localPath('never-bucket.txt');
    assertErr(await new Client({ bucketId: MISSING_BUCKET }).downloadToFilename('x.txt', file), 'BucketNotFound', 404);
    assert.equal(existsSync(file), false);
  });

  it('decompress: false on a gzip-stored object is Unsupported and creates no file', async () => {
    const name = fresh('compressed-unsupported.txt');
    assertOk(await client.uploadFromText(name, 'zip', { compress: true }));
    const file = localPath('never-unsupported.txt');
    assertErr(await client.downloadToFilename(name, file, { decompress: false }), 'Unsupported');
    assert.equal(existsSync(file), false);
  });

  it('a missing directory is LocalFile without a status', async () => {
    const name = fresh('exists.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    const file = path.join(localDir, 'no-such-dir', 'nested', 'file.txt');
    assertErr(await client.downloadToFilename(name, file), 'LocalFile', null);
    assert.equal(existsSync(path.dirname(file)), false, 'the directory must not be created');
  });

  it('a directory as the destination is LocalFile', async () => {
    const name = fresh('exists-2.txt');
    assertOk(await client.uploadFromText(name, 'x'));
    const dir = localPath('a-directory');
    await mkdir(dir);
    assertErr(await client.downloadToFilename(name, dir), 'LocalFile', null);
    assert.deepEqual(await readdir(dir), []);
  });

  it('leaves no temporary files behind in the directory', async () => {
    const dir = localPath('clean-dir');
    await mkdir(dir);
    const name = fresh('clean.txt');
    assertOk(await client.uploadFromText(name, 'clean'));
    assertOk(await client.downloadToFilename(name, path.join(dir, 'clean.txt')));
    assertErr(await client.downloadToFilename(fresh('missing.txt'), path.join(dir, 'missing.txt')), 'ObjectNotFound', 404);
    assert.deepEqual(await readdir(dir), ['clean.txt']);
  });
});

describe('file round trip', () => {
  it('uploadFromFilename then downloadToFilename gives the same file', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 1);
    const source = localPath('source.bin');
    const destination = localPath('destination.bin');
    await writeFile(source, bytes);
    const name = fresh('round-trip.bin');
    assertOk(await client.uploadFromFilename(name, source));
    assertOk(await client.downloadToFilename(name, destination));
    assert.equal(sha256(await readFile(destination)), sha256(bytes));
    assert.ok(existsSync(source), 'the source file stays');
  });
});
