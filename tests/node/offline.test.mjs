// Failures when nothing answers: an unreachable API endpoint is Network (no status) for
// every method; an unreachable sidecar is a DefaultBucket result, never a rejection; and a
// Client that is constructed but never used does nothing at all (no output, no unhandled
// rejection), unlike @replit/object-storage outside Replit.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import {
  TEST_BUCKET,
  assertErr,
  assertStreamError,
  closedPortUrl,
  makeTempDir,
  nextStreamError,
  rejectionOf,
  removeDir,
  withTimeout,
} from './helpers.mjs';

let localDir;
let sourceFile;
let closedUrl;

before(async () => {
  localDir = await makeTempDir();
  sourceFile = path.join(localDir, 'source.txt');
  await writeFile(sourceFile, 'source');
  closedUrl = await closedPortUrl();
});

after(async () => {
  await removeDir(localDir);
});

/** Runs every method once; checks each fails with `kind` (and `statusCode`). */
async function everyMethodFails(client, kind, statusCode) {
  const target = path.join(localDir, `never-${kind}.txt`);
  const calls = {
    copy: () => client.copy('a.txt', 'b.txt'),
    delete: () => client.delete('a.txt'),
    'delete (ignoreNotFound)': () => client.delete('a.txt', { ignoreNotFound: true }),
    downloadAsBytes: () => client.downloadAsBytes('a.txt'),
    downloadAsText: () => client.downloadAsText('a.txt'),
    downloadToFilename: () => client.downloadToFilename('a.txt', target),
    exists: () => client.exists('a.txt'),
    list: () => client.list({ prefix: 'a' }),
    uploadFromBytes: () => client.uploadFromBytes('a.bin', Buffer.from('x')),
    uploadFromText: () => client.uploadFromText('a.txt', 'x'),
    uploadFromFilename: () => client.uploadFromFilename('a.txt', sourceFile),
  };
  for (const [method, call] of Object.entries(calls)) {
    let result;
    try {
      result = await withTimeout(call(), 20000, method);
    } catch (error) {
      assert.fail(`${method}: must resolve to an error result, but rejected with ${error?.stack ?? error}`);
    }
    assertErr(result, kind, statusCode, method);
  }
  assert.equal(existsSync(target), false, 'downloadToFilename must not create the file');

  const streamError = await nextStreamError(client.downloadAsStream('a.txt'), 20000);
  assertStreamError(streamError, StreamRequestError, kind, statusCode, 'downloadAsStream');

  const rejection = await rejectionOf(client.uploadFromStream('a.txt', Readable.from([Buffer.from('x')])), 'uploadFromStream');
  assertStreamError(rejection, StreamRequestError, kind, statusCode, 'uploadFromStream');
}

describe('an API endpoint that refuses connections', () => {
  it('every method fails with Network and no statusCode', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, accessToken: 'unused' });
    await everyMethodFails(client, 'Network', null);
  });

  it('the same with the token from a function', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, accessToken: async () => 'unused' });
    assertErr(await client.exists('a.txt'), 'Network', null);
  });
});

describe('a sidecar that refuses connections (as outside Replit)', () => {
  it('every method needing the default bucket is a DefaultBucket result, never a rejection', async () => {
    // The emulator endpoint comes from STORAGE_EMULATOR_HOST; only the sidecar is unreachable.
    const client = new Client({ sidecarEndpoint: closedUrl });
    await everyMethodFails(client, 'DefaultBucket', null);
  });

  it('the message tells how to fix it', async () => {
    const client = new Client({ sidecarEndpoint: closedUrl });
    const error = assertErr(await client.exists('a.txt'), 'DefaultBucket', null);
    assert.match(error.message, /bucket/i);
  });

  it('an explicit bucketId needs no sidecar at all (emulator: no credentials)', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, sidecarEndpoint: closedUrl });
    const result = await client.exists(`node-tests/offline/${Date.now()}-missing.txt`);
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.equal(result.value, false);
  });

  it('an explicit endpoint without accessToken needs the sidecar for tokens: one it cannot reach is Network, a result', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, sidecarEndpoint: closedUrl });
    assertErr(await client.exists('a.txt'), 'Network', null);
  });
});

describe('a Client that is never used', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));

  function runChild(source, env) {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--input-type=module', '--eval', source],
        { cwd: here, env, timeout: 20000 },
        (error, stdout, stderr) => resolve({ code: error ? error.code ?? error.signal : 0, stdout, stderr }),
      );
    });
  }

  const childSource = (sidecarUrl) => `
    process.on('unhandledRejection', (reason) => {
      process.stderr.write('unhandledRejection: ' + (reason && reason.stack || reason) + '\\n');
      process.exit(1);
    });
    process.on('uncaughtException', (error) => {
      process.stderr.write('uncaughtException: ' + (error && error.stack || error) + '\\n');
      process.exit(1);
    });
    const { Client } = await import('replit-object-storage-wasm');
    const clients = [
      new Client(),
      new Client({}),
      new Client({ sidecarEndpoint: ${JSON.stringify(sidecarUrl)} }),
      new Client({ bucketId: 'some-bucket', sidecarEndpoint: ${JSON.stringify(sidecarUrl)} }),
      new Client({ apiEndpoint: ${JSON.stringify(sidecarUrl)}, sidecarEndpoint: ${JSON.stringify(sidecarUrl)} }),
    ];
    // Give any stray background work time to fail loudly.
    await new Promise((resolve) => setTimeout(resolve, 500));
  `;

  it('prints nothing and exits 0 (emulator configured)', async () => {
    const { code, stdout, stderr } = await runChild(childSource(closedUrl), { ...process.env });
    assert.equal(stderr, '');
    assert.equal(stdout, '');
    assert.equal(code, 0);
  });

  it('prints nothing and exits 0 outside Replit (no emulator, no sidecar)', async () => {
    const env = { ...process.env };
    delete env.STORAGE_EMULATOR_HOST;
    const { code, stdout, stderr } = await runChild(childSource(closedUrl), env);
    assert.equal(stderr, '');
    assert.equal(stdout, '');
    assert.equal(code, 0);
  });

  it('the same child exits 1 on a real unhandled rejection (the check works)', async () => {
    const source = `${childSource(closedUrl)}\nPromise.reject(new Error('on purpose'));\nawait new Promise((r) => setTimeout(r, 100));`;
    const { code, stderr } = await runChild(source, { ...process.env });
    assert.equal(code, 1);
    assert.match(stderr, /unhandledRejection: Error: on purpose/);
  });
});
