// Secrets: access tokens (given as a string, returned by a function, or obtained from the
// sidecar) and the sidecar's subject token never appear in an error message, in
// String()/JSON.stringify()/util.inspect() of a result, an error or the client, or in
// anything the client logs, even when the server echoes the Authorization header back in
// its answer (401/403 bodies and headers, as some proxies and test servers do).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import util from 'node:util';
import { writeFile } from 'node:fs/promises';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  emulatorDeletePrefix,
  emulatorUpload,
  makeTempDir,
  nextStreamError,
  removeDir,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const prefix = uniquePrefix('secrets');
let proxy;
let localDir;
let object;
let srcFile;

const secret = (label) => `ya29.${label}-${randomBytes(18).toString('base64url')}`;

/** Every way a user might print what they got. */
function renderings(value) {
  const out = [];
  const add = (label, fn) => {
    try {
      out.push([label, String(fn())]);
    } catch (error) {
      out.push([`${label} (threw)`, String(error?.message ?? error)]);
    }
  };
  add('String', () => String(value));
  add('JSON.stringify', () => JSON.stringify(value));
  add('util.inspect', () => util.inspect(value, { depth: Infinity, showHidden: true, getters: true }));
  if (value && typeof value === 'object') {
    add('toString()', () => value.toString());
    if (value instanceof Error) {
      add('message', () => value.message);
      add('stack', () => value.stack);
      if (typeof value.getRequestError === 'function') {
        add('getRequestError() JSON', () => JSON.stringify(value.getRequestError()));
        add('getRequestError() inspect', () => util.inspect(value.getRequestError(), { depth: Infinity }));
      }
    }
    if (value.error) {
      add('error.message', () => value.error.message);
      add('String(error)', () => String(value.error));
    }
  }
  return out;
}

/** Where a secret (or most of one: a truncated token still leaks) shows in `value`'s renderings. */
function leaks(value, secrets, what) {
  const found = [];
  for (const [how, text] of renderings(value)) {
    for (const s of secrets) {
      if (text.includes(s.slice(0, Math.max(16, s.length - 8)))) {
        const at = text.indexOf(s.slice(0, 16));
        found.push(`${what}: ${how} contains a secret: …${text.slice(Math.max(0, at - 80), at + 40)}…`);
        break;
      }
    }
  }
  return found;
}

function assertNoSecret(value, secrets, what) {
  const found = leaks(value, secrets, what);
  if (found.length) assert.fail(`secrets leaked:\n${found.join('\n')}`);
}

/** Captures console output and process writes during `fn` (passing them through). */
async function capturingLogs(fn) {
  const captured = [];
  const originals = {};
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    originals[method] = console[method];
    console[method] = (...args) => {
      captured.push(util.format(...args));
      return originals[method].apply(console, args);
    };
  }
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.stdout.write = function (chunk, ...rest) {
    captured.push(String(chunk));
    return stdoutWrite.call(this, chunk, ...rest);
  };
  process.stderr.write = function (chunk, ...rest) {
    captured.push(String(chunk));
    return stderrWrite.call(this, chunk, ...rest);
  };
  const warnings = [];
  const onWarning = (warning) => warnings.push(String(warning?.stack ?? warning));
  process.on('warning', onWarning);
  try {
    return { value: await fn(), captured, warnings };
  } finally {
    for (const [method, original] of Object.entries(originals)) console[method] = original;
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.removeListener('warning', onWarning);
  }
}

/** Every method, called so that its request reaches the proxy; results as they come. */
function everyMethod(client) {
  return {
    copy: () => client.copy(object, `${prefix}/copy.bin`),
    delete: () => client.delete(`${prefix}/gone.bin`),
    exists: () => client.exists(object),
    list: () => client.list({ prefix: `${prefix}/` }),
    downloadAsBytes: () => client.downloadAsBytes(object),
    downloadAsText: () => client.downloadAsText(object),
    downloadToFilename: () => client.downloadToFilename(object, path.join(localDir, 'out.bin')),
    downloadAsStream: () =>
      new Promise((resolve) => {
        const readable = client.downloadAsStream(object);
        readable.on('error', resolve);
        readable.on('end', () => resolve('ended'));
        readable.resume();
      }),
    uploadFromBytes: () => client.uploadFromBytes(`${prefix}/up.bin`, Buffer.from('contents')),
    uploadFromText: () => client.uploadFromText(`${prefix}/up.txt`, 'contents'),
    uploadFromFilename: () => client.uploadFromFilename(`${prefix}/up-file.bin`, srcFile),
    uploadFromStream: () => client.uploadFromStream(`${prefix}/up-stream.bin`, Readable.from([Buffer.from('contents')])).then(() => 'resolved', (error) => error),
  };
}

const ECHO_FAULTS = [
  ['401 echoing the token', { fault: 'status', status: 401, echoAuthorization: true, times: Infinity }],
  ['403 echoing the token', { fault: 'status', status: 403, echoAuthorization: true, times: Infinity }],
  ['400 echoing the token', { fault: 'status', status: 400, echoAuthorization: true, times: Infinity }],
  ['503 echoing the token, after retries', { fault: 'status', status: 503, echoAuthorization: true, times: Infinity }],
];

async function checkAllMethods(client, secrets, label) {
  const found = [];
  for (const [faultLabel, rule] of ECHO_FAULTS) {
    proxy.clear();
    proxy.setFaults([rule]);
    const { captured, warnings } = await capturingLogs(async () => {
      for (const [method, call] of Object.entries(everyMethod(client))) {
        const value = await withTimeout(call(), 15000, `${label} / ${faultLabel} / ${method}`);
        const what = `${label} / ${faultLabel} / ${method}`;
        assert.ok(value !== 'ended' && value !== 'resolved', `${what}: the call should have failed, got ${util.inspect(value)}`);
        if (!(value instanceof Error)) assert.equal(value?.ok, false, `${what}: the call should have failed, got ${util.inspect(value)}`);
        if (value instanceof Error) assert.ok(value instanceof StreamRequestError, `${what}: ${value.stack}`);
        // One line per leaking method, whichever renderings show it.
        const leaked = leaks(value, secrets, what);
        if (leaked.length) found.push(`${leaked[0]} (and ${leaked.length - 1} more renderings)`);
      }
    });
    // The echo really happened (so the checks above saw a server that leaks).
    assert.ok(proxy.log.some((e) => e.fault === 'status'), `${label} / ${faultLabel}: no request was answered with the echo`);
    for (const line of [...captured, ...warnings]) {
      if (secrets.some((s) => line.includes(s))) found.push(`${label} / ${faultLabel}: a log line contains a secret: ${line.slice(0, 300)}`);
    }
  }
  if (found.length) assert.fail(`secrets leaked in ${found.length} cases:\n${found.join('\n')}`);
}

before(async () => {
  localDir = await makeTempDir();
  proxy = await startFaultProxy({ target: EMULATOR_URL, recordAuthorization: true });
  object = `${prefix}/object.bin`;
  await emulatorUpload(TEST_BUCKET, object, Buffer.from('object contents'));
  srcFile = path.join(localDir, 'src.bin');
  await writeFile(srcFile, 'file contents');
});

after(async () => {
  await removeDir(localDir);
  await proxy?.stop();
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
});

const options = (accessToken, extra = {}) => ({
  bucketId: TEST_BUCKET,
  apiEndpoint: proxy.url,
  accessToken,
  maxRetries: 1,
  retryInitialDelayMs: 10,
  retryMaxDelayMs: 20,
  requestTimeoutMs: 5000,
  ...extra,
});

describe('tokens never appear in errors, results, the client or logs', () => {
  it('a string token, with servers echoing it back', async () => {
    const token = secret('string-token');
    const client = new Client(options(token));
    await checkAllMethods(client, [token], 'string token');
    assert.ok(proxy.log.some((e) => e.authorization === `Bearer ${token}`), 'the token was sent');
    assertNoSecret(client, [token], 'the client');
    assert.ok(!Object.keys(client).some((key) => String(client[key]).includes(token)));
  });

  it('a function token (sync and async), with servers echoing it back', async () => {
    const syncToken = secret('sync-fn-token');
    await checkAllMethods(new Client(options(() => syncToken)), [syncToken], 'sync function token');
    const asyncToken = secret('async-fn-token');
    const client = new Client(options(async () => asyncToken));
    await checkAllMethods(client, [asyncToken], 'async function token');
    assertNoSecret(client, [asyncToken], 'the client');
  });

  it('successful results carry no token', async () => {
    proxy.clear();
    const token = secret('success-token');
    const client = new Client(options(token));
    for (const [method, call] of Object.entries(everyMethod(client))) {
      const value = await withTimeout(call(), 15000, method);
      assertNoSecret(value, [token], `success of ${method}`);
    }
  });

  it('a token fetch refusing the token (401 twice: after the refresh too) says Unauthorized without it', async () => {
    let calls = 0;
    const tokens = [secret('first'), secret('second'), secret('third')];
    const client = new Client(options(() => tokens[Math.min(calls++, tokens.length - 1)]));
    proxy.clear();
    proxy.setFaults([{ fault: 'status', status: 401, echoAuthorization: true, times: Infinity }]);
    const result = await client.exists(object);
    assertErr(result, 'Unauthorized', 401);
    assertNoSecret(result, tokens, 'refused twice');
  });

  it('a token with characters not allowed in a header is refused without repeating it', async () => {
    const token = `${secret('bad')}\nX-Injected: 1`;
    const result = await new Client(options(token)).exists(object);
    assertErr(result, 'InvalidArgument', null);
    assertNoSecret(result, [token.split('\n')[0]], 'invalid token');
  });

  it('an endpoint holding a password is refused without repeating it, by every method', async () => {
    const password = secret('endpoint-password');
    for (const option of ['apiEndpoint', 'sidecarEndpoint']) {
      const endpoint = proxy.url.replace('://', `://user:${password}@`);
      const client = new Client(options('a-token', { [option]: endpoint }));
      for (const [method, call] of Object.entries(everyMethod(client))) {
        const value = await withTimeout(call(), 15000, method);
        // Result methods give { ok: false, error }; the two stream methods give the error itself.
        const error = value?.ok === false ? value.error : value;
        assert.equal(error?.kind, 'InvalidArgument', `${option}, ${method}: ${error?.message}`);
        assert.match(error.message, new RegExp(`^${option} must not hold credentials`), `${option}, ${method}`);
        assertNoSecret(value, [password], `${option} with a password, ${method}`);
      }
      assertNoSecret(client, [password], `the client with a password in ${option}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** A sidecar stand-in that hands out known tokens and can echo them in its errors. */
async function leakySidecar() {
  const state = { subject: secret('subject'), issued: [], failExchange: false };
  const server = http.createServer((req, res) => {
    const route = new URL(req.url, 'http://x').pathname;
    const json = (status, obj) => {
      const body = JSON.stringify(obj);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (route === '/credential') return json(200, { access_token: state.subject });
    if (route === '/token') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        if (state.failExchange) {
          // An error that quotes what it was given, subject token included.
          return json(400, { error: 'invalid_grant', error_description: `subject_token ${form.get('subject_token')} was not accepted` });
        }
        const token = secret('sidecar-access');
        state.issued.push(token);
        return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      });
      return;
    }
    if (route === '/object-storage/default-bucket') return json(200, { bucketId: TEST_BUCKET });
    json(404, { error: 'no such route' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(resolve);
      }),
  };
}

describe('sidecar tokens never appear either', () => {
  let sidecar;
  before(async () => {
    sidecar = await leakySidecar();
  });
  after(async () => {
    await sidecar?.stop();
  });

  it('access tokens from the token exchange, echoed by a 401/403 server', async () => {
    const client = new Client(options(undefined, { sidecarEndpoint: sidecar.url }));
    proxy.clear();
    proxy.setFaults([{ fault: 'status', status: 401, echoAuthorization: true, times: Infinity }]);
    const result = await client.downloadAsBytes(object);
    assertErr(result, 'Unauthorized', 401);
    assert.ok(sidecar.state.issued.length >= 1, 'tokens were issued');
    assertNoSecret(result, [...sidecar.state.issued, sidecar.state.subject], 'sidecar token, 401');
    await checkAllMethods(client, [...sidecar.state.issued, sidecar.state.subject], 'sidecar token');
    assertNoSecret(client, [...sidecar.state.issued, sidecar.state.subject], 'the client');
  });

  it("the subject token, quoted by the token endpoint's error", async () => {
    sidecar.state.failExchange = true;
    try {
      const client = new Client(options(undefined, { sidecarEndpoint: sidecar.url }));
      proxy.clear();
      const { value: result, captured } = await capturingLogs(() => client.exists(object));
      assert.equal(result.ok, false, 'the token exchange failed');
      assertNoSecret(result, [sidecar.state.subject], 'token exchange error');
      for (const line of captured) assert.ok(!line.includes(sidecar.state.subject), `logged: ${line}`);
      const stream = await nextStreamError(client.downloadAsStream(object));
      assertNoSecret(stream, [sidecar.state.subject], 'token exchange error (stream)');
    } finally {
      sidecar.state.failExchange = false;
    }
  });
});
