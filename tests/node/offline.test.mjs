// Failures when nothing answers: an unreachable API endpoint is Network (no status) for
// every method; an unreachable sidecar is a DefaultBucket result, never a rejection; and a
// Client that is constructed but never used does nothing at all (no output, no unhandled
// rejection), unlike @replit/object-storage outside Replit.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import {
  TEST_BUCKET,
  assertErr,
  assertEveryCallFails,
  assertStreamError,
  closedPortUrl,
  makeTempDir,
  nextStreamError,
  removeDir,
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
  await assertEveryCallFails({ client, StreamRequestError, name: 'a.txt', calls, target }, kind, statusCode);
}

describe('an API endpoint that refuses connections', () => {
  it('every method fails with Network and no statusCode', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, accessToken: 'unused' });
    await everyMethodFails(client, 'Network', null);
  });

  it('the message names the method called, the HTTP method and the endpoint', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, accessToken: 'unused', maxRetries: 0 });
    const calls = {
      exists: [() => client.exists('a.txt'), 'GET'],
      downloadAsBytes: [() => client.downloadAsBytes('a.txt'), 'GET'],
      downloadToFilename: [() => client.downloadToFilename('a.txt', path.join(localDir, 'never.txt')), 'GET'],
      delete: [() => client.delete('a.txt'), 'DELETE'],
      uploadFromText: [() => client.uploadFromText('a.txt', 'x'), 'POST'],
      uploadFromFilename: [() => client.uploadFromFilename('a.txt', sourceFile), 'POST'],
    };
    for (const [method, [call, http]] of Object.entries(calls)) {
      const error = assertErr(await call(), 'Network', null, method);
      assert.ok(error.message.startsWith(`${method}: ${http} ${closedUrl} failed: fetch failed`), `${method}: ${error.message}`);
      assert.ok(error.message.includes('ECONNREFUSED'), `${method}: the cause is kept: ${error.message}`);
      assert.ok(!error.message.includes('CORS'), `${method}: no CORS hint on a server: ${error.message}`);
    }
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

  it('an explicit endpoint without accessToken needs the sidecar for tokens: Unauthorized at once, saying what to set', async () => {
    const client = new Client({ bucketId: TEST_BUCKET, apiEndpoint: closedUrl, sidecarEndpoint: closedUrl });
    const error = assertErr(await client.exists('a.txt'), 'Unauthorized', null);
    assert.equal(error.attempts, undefined, 'a refused sidecar is not retried');
    assert.ok(error.message.startsWith(`getting an access token needs the Replit sidecar at ${closedUrl}, which did not answer (`), error.message);
    assert.ok(
      error.message.endsWith('off Replit, set STORAGE_EMULATOR_HOST to use an emulator, or pass `accessToken` (and `bucketId`) for GCS'),
      error.message,
    );
  });

  it('the default bucket lookup names the sidecar it asked', async () => {
    const client = new Client({ sidecarEndpoint: closedUrl });
    const error = assertErr(await client.list(), 'DefaultBucket', null);
    assert.ok(error.message.startsWith(`Failed to fetch default bucket from the Replit sidecar at ${closedUrl} (GET ${closedUrl} failed: `), error.message);
    assert.ok(error.message.endsWith("make sure you're running on Replit, or pass `bucketId`"), error.message);
  });
});

describe('a server that never answers, and the call\'s signal', () => {
  let server;
  let hangingUrl;
  before(async () => {
    server = http.createServer(() => {});
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${server.address().port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const hanging = () => new Client({ bucketId: TEST_BUCKET, apiEndpoint: hangingUrl, accessToken: 'unused' });

  it("an abort in flight keeps the signal's reason as cause and in the message", async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    setTimeout(() => controller.abort(reason), 50);
    const error = assertErr(await hanging().downloadAsBytes('a.txt', { signal: controller.signal }), 'Aborted', null);
    assert.equal(error.message, 'the operation was aborted by its signal: user cancelled');
    assert.equal(error.cause, reason);
  });

  it('AbortSignal.timeout in flight is a Timeout whose cause is the TimeoutError', async () => {
    const signal = AbortSignal.timeout(50);
    const error = assertErr(await hanging().exists('a.txt', { signal }), 'Timeout', null);
    assert.match(error.message, /^the call's signal timed out: /);
    assert.equal(error.cause, signal.reason);
    assert.equal(error.cause.name, 'TimeoutError');
  });

  it('downloadAsStream errors with a StreamRequestError that keeps the cause', async () => {
    const controller = new AbortController();
    const reason = new Error('page closed');
    setTimeout(() => controller.abort(reason), 50);
    const error = await nextStreamError(hanging().downloadAsStream('a.txt', { signal: controller.signal }), 20000);
    assertStreamError(error, StreamRequestError, 'Aborted', null, 'downloadAsStream');
    assert.equal(error.cause, reason);
    assert.equal(error.getRequestError().cause, reason);
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
