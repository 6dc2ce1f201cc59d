// The scenarios of @replit/object-storage's own integration suite, with node:test: code
// written for that package must behave the same with this one. As there, the client is
// `new Client()`: the default bucket comes from the sidecar (the stand-in), the endpoint
// from STORAGE_EMULATOR_HOST.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import { SIDECAR_URL, assertResult, makeTempDir, nextStreamError, removeDir, uniquePrefix } from './helpers.mjs';

const testDir = uniquePrefix('compat');
const testFileContents = 'Hello World!';
let client;
let localDir;

before(async () => {
  // As in the original suite: no options. The runner puts the sidecar stand-in on the
  // default endpoint; should it have had to move, point the client at it.
  client = SIDECAR_URL === 'http://127.0.0.1:1106' ? new Client() : new Client({ sidecarEndpoint: SIDECAR_URL });
  localDir = await makeTempDir();
  // sidecar-and-gate.test.mjs may be breaking the stand-in's default bucket for a moment
  // while this file starts (files run in parallel): wait until the lookup succeeds once.
  // The client caches a successful lookup, so the scenarios below are unaffected after.
  const deadline = Date.now() + 10000;
  let result = await client.exists(`${testDir}/warm-up`);
  while (!result.ok && result.error.kind === 'DefaultBucket' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    result = await client.exists(`${testDir}/warm-up`);
  }
  assertResult(result, { ok: true, value: false }, 'the default bucket lookup');
});

after(async () => {
  // Only this file's objects: other test files use the same bucket at the same time.
  const listed = await client.list({ prefix: `${testDir}/` });
  assert.equal(listed.ok, true, JSON.stringify(listed.error));
  const deletions = await Promise.all(listed.value.map((object) => client.delete(object)));
  for (const deletion of deletions) assert.equal(deletion.ok, true, JSON.stringify(deletion.error));
  const remaining = await client.list({ prefix: `${testDir}/` });
  assertResult(remaining, { ok: true, value: [] });
  await removeDir(localDir);
});

describe('copy', () => {
  it('upload then copy', async () => {
    const objectName1 = `${testDir}/copy-1.txt`;
    const objectName2 = `${testDir}/copy-2.txt`;
    await client.uploadFromText(objectName1, testFileContents);
    assertResult(await client.exists(objectName1), { ok: true, value: true });

    const { ok, value } = await client.copy(objectName1, objectName2);
    assert.equal(ok, true);
    assert.equal(value, null);

    assertResult(await client.exists(objectName2), { ok: true, value: true });
    assertResult(await client.exists(objectName1), { ok: true, value: true });
    assertResult(await client.downloadAsText(objectName2), { ok: true, value: testFileContents });
  });

  it('does not exist', async () => {
    const result = await client.copy(`${testDir}/bad-object-1`, `${testDir}/should-never-happen`);
    assert.equal(result.ok, false);
    assert.ok(result.error.message);
    assert.equal(result.error.statusCode, 404);
    assertResult(await client.exists(`${testDir}/should-never-happen`), { ok: true, value: false });
  });
});

describe('delete', () => {
  it('upload then delete', async () => {
    const objectName = `${testDir}/delete-1.txt`;
    await client.uploadFromText(objectName, testFileContents);
    assertResult(await client.exists(objectName), { ok: true, value: true });

    const deleteResult = await client.delete(objectName);
    assert.equal(deleteResult.ok, true);
    assert.equal(deleteResult.value, null);

    const existsResult = await client.exists(objectName);
    assert.equal(existsResult.ok, true);
    assert.equal(existsResult.value, false);
  });

  it('does not exist', async () => {
    const result = await client.delete(`${testDir}/delete-missing.txt`);
    assert.equal(result.ok, false);
    assert.ok(result.error.message);
    assert.equal(result.error.statusCode, 404);
  });

  it('does not exist, ignoreNotFound', async () => {
    const result = await client.delete(`${testDir}/delete-missing.txt`, { ignoreNotFound: true });
    assertResult(result, { ok: true, value: null });
  });
});

describe('downloadAsBytes', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/download-as-bytes-1.txt`;
    await client.uploadFromText(objectName, testFileContents);

    const { ok, value: buffer } = await client.downloadAsBytes(objectName);
    assert.equal(ok, true);
    // Existing code stringifies the one-element array, or reads value[0].
    assert.equal(buffer.toString(), testFileContents);
    assert.equal(buffer[0].toString('utf8'), testFileContents);
  });

  it('does not exist', async () => {
    const result = await client.downloadAsBytes(`${testDir}/download-as-bytes-missing.txt`);
    assert.equal(result.ok, false);
    assert.ok(result.error.message);
    assert.equal(result.error.statusCode, 404);
  });
});

describe('downloadAsText', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/download-as-text-1.txt`;
    await client.uploadFromText(objectName, testFileContents);

    const { ok, value: text } = await client.downloadAsText(objectName);
    assert.equal(ok, true);
    assert.equal(text, testFileContents);
  });

  it('does not exist', async () => {
    const result = await client.downloadAsText(`${testDir}/download-as-text-missing.txt`);
    assert.equal(result.ok, false);
    assert.ok(result.error.message);
    assert.equal(result.error.statusCode, 404);
  });
});

describe('downloadToFilename', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/download-to-filename-1.txt`;
    await client.uploadFromText(objectName, testFileContents);

    const filename = path.join(localDir, 'download-to-filename-1.txt');
    const result = await client.downloadToFilename(objectName, filename);
    assert.equal(result.ok, true);
    assert.equal(result.value, null);

    const contents = await readFile(filename);
    assert.equal(contents.toString(), testFileContents);
  });

  it('does not exist', async () => {
    const filename = path.join(localDir, 'download-to-filename-missing.txt');
    const result = await client.downloadToFilename(`${testDir}/download-to-filename-missing.txt`, filename);
    assert.equal(result.ok, false);
    assert.ok(result.error.message);
    assert.equal(result.error.statusCode, 404);
    assert.equal(existsSync(filename), false, 'a failed download must not create the file');
  });
});

describe('downloadAsStream', () => {
  it('upload then download (stream.forEach)', async () => {
    const objectName = `${testDir}/download-as-stream-1.txt`;
    await client.uploadFromText(objectName, testFileContents);

    let contents = '';
    const stream = client.downloadAsStream(objectName);
    await stream.forEach((chunk) => {
      contents += chunk.toString();
    });
    assert.equal(contents, testFileContents);
  });

  it('upload then download (for await)', async () => {
    const objectName = `${testDir}/download-as-stream-2.txt`;
    await client.uploadFromText(objectName, testFileContents);

    const chunks = [];
    for await (const chunk of client.downloadAsStream(objectName)) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), testFileContents);
  });

  it('does not exist', async () => {
    const stream = client.downloadAsStream(`${testDir}/download-as-stream-missing.txt`);
    const error = await nextStreamError(stream);
    assert.ok(error instanceof StreamRequestError, `expected a StreamRequestError, got ${error}`);
    assert.equal(error.getRequestError().statusCode, 404);
    assert.ok(error.getRequestError().message);
  });
});

describe('exists', () => {
  it('does not exist', async () => {
    const { ok, value: exists } = await client.exists(`${testDir}/exists-1.txt`);
    assert.equal(ok, true);
    assert.equal(exists, false);
  });

  it('does exist', async () => {
    const objectName = `${testDir}/exists-2.txt`;
    await client.uploadFromText(objectName, testFileContents);

    const { ok, value: exists } = await client.exists(objectName);
    assert.equal(ok, true);
    assert.equal(exists, true);
  });
});

describe('list', () => {
  it('upload multiple then list', async () => {
    const objectName1 = `${testDir}/list/list1-1.txt`;
    const objectName2 = `${testDir}/list/list1-2.txt`;
    await client.uploadFromText(objectName1, testFileContents);
    await client.uploadFromText(objectName2, testFileContents);

    const { ok, value: files } = await client.list({ prefix: `${testDir}/list` });
    assert.equal(ok, true);
    assert.deepEqual(files, [{ name: objectName1 }, { name: objectName2 }]);
  });
});

describe('uploadFromBytes', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/upload-from-bytes-1.txt`;
    const { ok, value } = await client.uploadFromBytes(objectName, Buffer.from(testFileContents));
    assert.equal(ok, true);
    assert.equal(value, null);

    const { value: output } = await client.downloadAsText(objectName);
    assert.equal(output, testFileContents);
  });
});

describe('uploadFromText', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/upload-from-text-1.txt`;
    const { ok, value } = await client.uploadFromText(objectName, testFileContents);
    assert.equal(ok, true);
    assert.equal(value, null);

    const { value: text } = await client.downloadAsText(objectName);
    assert.equal(text, testFileContents);
  });
});

describe('uploadFromFilename', () => {
  it('upload then download', async () => {
    const filename = path.join(localDir, 'upload-from-filename-1.txt');
    await writeFile(filename, testFileContents);

    const objectName = `${testDir}/upload-from-filename-1.txt`;
    const { ok, value } = await client.uploadFromFilename(objectName, filename);
    assert.equal(ok, true);
    assert.equal(value, null);

    const { value: text } = await client.downloadAsText(objectName);
    assert.equal(text, testFileContents);
  });
});

describe('uploadFromStream', () => {
  it('upload then download', async () => {
    const objectName = `${testDir}/upload-from-stream-1.txt`;

    const stream = new PassThrough();
    stream.end(testFileContents);
    const resolved = await client.uploadFromStream(objectName, stream);
    assert.equal(resolved, undefined);

    const { value: text } = await client.downloadAsText(objectName);
    assert.equal(text, testFileContents);
  });
});
