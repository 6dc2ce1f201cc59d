// The fault matrix: every method through every fault the fault proxy (tests/support/faults.mjs)
// injects between the client and fake-gcs-server, asserting the outcome (success with intact
// data after retries, or the right typed error with the right number of attempts) and the
// data (hashes of what was stored or received; no partial or corrupted file left behind).
// Then the retry policy itself: which statuses are retried, Retry-After, maxRetries: 0,
// retryDeadlineMs, requestTimeoutMs, and CRC32C on uploads.
//
// The table of outcomes is printed at the end; with FAULT_MATRIX_OUT set (a file path, or
// `1` for test-output/fault-matrix.md under the current directory) it is also written as
// markdown for the README. A cell marked ✗ is a case whose assertion failed.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  emulatorDeletePrefix,
  emulatorMetadata,
  emulatorStoredBytes,
  emulatorUpload,
  exposeGc,
  makeTempDir,
  readAll,
  removeDir,
  sha256,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const KiB = 1024;
const CHUNK = 256 * KiB;
/** One-request uploads. */
const SMALL = 100 * KiB + 3;
/** Downloads and resumable uploads: 5 chunks of 256 KiB, the last one short. */
const LARGE = 4 * CHUNK + 77 * KiB + 7;
const STALL_TIMEOUT_MS = 400;
const CASE_TIMEOUT_MS = 15000;

const prefix = uniquePrefix('faults');
let localDir;
let counter = 0;
const fresh = (label) => `${prefix}/${++counter}-${label}`;

/** A client through `proxy` with small delays, so the matrix runs in seconds. */
function matrixClient(proxy, extra = {}) {
  return new Client({
    bucketId: TEST_BUCKET,
    apiEndpoint: proxy.url,
    accessToken: 'fault-matrix-token',
    maxRetries: 3,
    retryInitialDelayMs: 20,
    retryMaxDelayMs: 200,
    requestTimeoutMs: 5000,
    uploadChunkSize: CHUNK,
    resumableThreshold: 512 * KiB,
    ...extra,
  });
}

function proxyOptions() {
  return { target: EMULATOR_URL, checkUploadHashes: true, enforcePreconditions: true };
}

const textOf = (size) => {
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789 ünïcødé ✓\n';
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
};

/** Result-shaped outcome of any method, streams included. */
async function settle(promise) {
  try {
    const value = await promise;
    return value;
  } catch (error) {
    if (error instanceof StreamRequestError) return { ok: false, error: error.getRequestError(), thrown: error };
    throw error;
  }
}

async function streamOutcome(readable) {
  try {
    const bytes = await readAll(readable);
    return { ok: true, value: bytes };
  } catch (error) {
    if (error instanceof StreamRequestError) return { ok: false, error: error.getRequestError(), thrown: error };
    throw error;
  }
}

function nodeStreamOf(bytes, piece = 64 * KiB) {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= bytes.length) return this.push(null);
      const end = Math.min(bytes.length, offset + piece);
      this.push(bytes.subarray(offset, end));
      offset = end;
    },
  });
}

async function storedOrNull(name) {
  return (await emulatorMetadata(TEST_BUCKET, name)) ? emulatorStoredBytes(TEST_BUCKET, name) : null;
}

// ---------------------------------------------------------------------------------------------
// Methods: how to set one up, call it, and check what it did. `cls` decides the expected
// outcome of each fault: 'idempotent' (reads of metadata and listings), 'download', 'once' (a
// one-request upload without a precondition: never retried), 'once-igm' (one-request upload
// with ifGenerationMatch: retried), 'resumable', 'conditional' (a delete or copy without a
// precondition: never retried) and 'guarded' (a delete or copy with ifGenerationMatch: retried).

const METHODS = [
  copyMethod('copy', 'conditional', {}),
  copyMethod('copy (ifGenerationMatch: 0)', 'guarded', { ifGenerationMatch: 0 }),
  deleteMethod('delete', 'conditional', () => ({})),
  deleteMethod('delete (ifGenerationMatch)', 'guarded', (c) => ({ ifGenerationMatch: c.generation })),
  {
    name: 'exists',
    cls: 'idempotent',
    kind: 'metadata',
    async setup(c) {
      await emulatorUpload(TEST_BUCKET, c.name, Buffer.from('here'));
    },
    run: (client, c, options) => client.exists(c.name, options),
    async verifyOk(c, result) {
      assert.equal(result.value, true);
    },
  },
  {
    name: 'list',
    cls: 'idempotent',
    kind: 'list',
    async setup(c) {
      c.names = ['a.txt', 'b/c.txt', 'd.bin'].map((n) => `${c.name}/${n}`);
      for (const n of c.names) await emulatorUpload(TEST_BUCKET, n, Buffer.from(n));
    },
    run: (client, c, options) => client.list({ prefix: `${c.name}/`, ...options }),
    async verifyOk(c, result) {
      assert.deepEqual(result.value, c.names.map((name) => ({ name })));
    },
  },
  {
    name: 'downloadAsBytes',
    cls: 'download',
    kind: 'download',
    async setup(c) {
      c.data = randomBytes(LARGE);
      await emulatorUpload(TEST_BUCKET, c.name, c.data);
    },
    run: (client, c, options) => client.downloadAsBytes(c.name, options),
    async verifyOk(c, result) {
      assert.equal(result.value.length, 1);
      assert.equal(sha256(result.value[0]), sha256(c.data), 'downloaded bytes are intact');
    },
  },
  {
    name: 'downloadAsText',
    cls: 'download',
    kind: 'download',
    async setup(c) {
      c.text = textOf(LARGE);
      await emulatorUpload(TEST_BUCKET, c.name, Buffer.from(c.text), 'text/plain');
    },
    run: (client, c, options) => client.downloadAsText(c.name, options),
    async verifyOk(c, result) {
      assert.ok(result.value === c.text, 'downloaded text is intact');
    },
  },
  {
    name: 'downloadAsStream',
    cls: 'download',
    kind: 'download',
    async setup(c) {
      c.data = randomBytes(LARGE);
      await emulatorUpload(TEST_BUCKET, c.name, c.data);
    },
    run: (client, c, options) => streamOutcome(client.downloadAsStream(c.name, options)),
    async verifyOk(c, result) {
      assert.equal(sha256(result.value), sha256(c.data), 'streamed bytes are intact');
    },
  },
  {
    name: 'downloadToFilename',
    cls: 'download',
    kind: 'download',
    async setup(c) {
      c.data = randomBytes(LARGE);
      c.dir = path.join(localDir, `dl-${counter}-${Math.random().toString(36).slice(2)}`);
      await mkdir(c.dir);
      c.file = path.join(c.dir, 'target.bin');
      await emulatorUpload(TEST_BUCKET, c.name, c.data);
    },
    run: (client, c, options) => client.downloadToFilename(c.name, c.file, options),
    async verifyOk(c) {
      assert.equal(sha256(await readFile(c.file)), sha256(c.data), 'the file holds the object');
      assert.deepEqual(await readdir(c.dir), ['target.bin'], 'nothing else is left in the directory');
    },
    async verifyErr(c) {
      assert.deepEqual(await readdir(c.dir), [], 'no file (partial or temporary) is left behind');
    },
  },
  {
    name: 'uploadFromBytes',
    cls: 'once',
    kind: 'upload-media',
    async setup(c) {
      c.data = randomBytes(SMALL);
    },
    run: (client, c, options) => client.uploadFromBytes(c.name, c.data, options),
  },
  {
    name: 'uploadFromBytes (ifGenerationMatch: 0)',
    cls: 'once-igm',
    kind: 'upload-media',
    async setup(c) {
      c.data = randomBytes(SMALL);
    },
    run: (client, c, options) => client.uploadFromBytes(c.name, c.data, { ifGenerationMatch: 0, ...options }),
  },
  {
    name: 'uploadFromText',
    cls: 'once',
    kind: 'upload-media',
    async setup(c) {
      c.text = textOf(SMALL);
      c.data = Buffer.from(c.text);
    },
    run: (client, c, options) => client.uploadFromText(c.name, c.text, options),
  },
  {
    name: 'uploadFromBytes (large: resumable)',
    cls: 'resumable',
    kind: 'resumable-chunk',
    async setup(c) {
      c.data = randomBytes(LARGE);
    },
    run: (client, c, options) => client.uploadFromBytes(c.name, c.data, options),
  },
  {
    name: 'uploadFromFilename',
    cls: 'resumable',
    kind: 'resumable-chunk',
    async setup(c) {
      c.data = randomBytes(LARGE);
      c.file = path.join(localDir, `up-${counter}-${Math.random().toString(36).slice(2)}.bin`);
      await writeFile(c.file, c.data);
    },
    run: (client, c, options) => client.uploadFromFilename(c.name, c.file, options),
  },
  {
    name: 'uploadFromStream',
    cls: 'resumable',
    kind: 'resumable-chunk',
    async setup(c) {
      c.data = randomBytes(LARGE);
    },
    run: async (client, c, options) => {
      const resolved = await settle(client.uploadFromStream(c.name, nodeStreamOf(c.data), options));
      if (resolved === undefined) return { ok: true, value: undefined };
      return resolved;
    },
  },
];

/** `copy` of a fresh source to a destination that does not exist yet, with `preconditions`. */
function copyMethod(name, cls, preconditions) {
  return {
    name,
    cls,
    kind: 'copy',
    async setup(c) {
      c.data = randomBytes(SMALL);
      c.source = `${c.name}/source.bin`;
      c.target = `${c.name}/copy.bin`;
      await emulatorUpload(TEST_BUCKET, c.source, c.data);
    },
    run: (client, c, options) => client.copy(c.source, c.target, { ...preconditions, ...options }),
    async verifyOk(c, result) {
      assert.equal(result.value, null);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, c.target)), sha256(c.data), 'the copy holds the source bytes');
    },
    async verifyErr(c) {
      const copied = await storedOrNull(c.target);
      if (copied) assert.equal(sha256(copied), sha256(c.data), 'a copy made despite the error is intact');
    },
  };
}

/** `delete` of an existing object, with the preconditions `preconditions(c)` gives. */
function deleteMethod(name, cls, preconditions) {
  return {
    name,
    cls,
    kind: 'delete',
    async setup(c) {
      c.data = randomBytes(1000);
      await emulatorUpload(TEST_BUCKET, c.name, c.data);
      c.generation = (await emulatorMetadata(TEST_BUCKET, c.name)).generation;
    },
    run: (client, c, options) => client.delete(c.name, { ...preconditions(c), ...options }),
    async verifyOk(c) {
      assert.equal(await emulatorMetadata(TEST_BUCKET, c.name), null, 'the object is gone');
    },
    async verifyErr(c) {
      // Every failure here is injected before the emulator sees the delete.
      assert.ok(await emulatorMetadata(TEST_BUCKET, c.name), 'the object is still there');
    },
  };
}

const isUpload = (m) => ['once', 'once-igm', 'resumable'].includes(m.cls);
const retried = (m) => !['once', 'conditional'].includes(m.cls);

/**
 * A fault that breaks the answer's body after the server did the work. Uploads and deletes
 * are done: a delete's answer has no body to read, and a one-request upload whose answer broke
 * is verified by reading its metadata back. A copy reads its answer (a rewrite may take more
 * steps), so the body is lost with `kind`: without a precondition the copy is not repeated;
 * with `ifGenerationMatch: 0` the repeat finds the copy the first try made and is refused.
 */
function answerLost(m, kind) {
  if (m.kind !== 'copy') return { outcome: 'ok' };
  return m.cls === 'guarded' ? { outcome: 'PreconditionFailed', status: 412, attempts: 2, tries: 2 } : { outcome: kind, attempts: null, tries: 1 };
}

// ---------------------------------------------------------------------------------------------
// Faults, and the outcome each class of method must reach. An expectation:
//   outcome  the one right outcome: 'ok' or an error kind
//   status   the statusCode an error must carry (when it is an error)
//   attempts number: exactly; null: absent (one try); undefined: not checked
//   tries    how many requests of the method's main kind the proxy must have seen
//   minMs    the call must take at least this long (Retry-After)
//   absent   an upload's object must not exist afterwards

const FAULTS = [
  {
    id: '503 once',
    rule: (m) => ({ kind: m.kind, fault: 'status', status: 503, ...nthChunk(m, 2) }),
    expect: (m) => (retried(m) ? { outcome: 'ok', tries: triesOf(m, 2) } : { outcome: 'ServerError', status: 503, attempts: null, tries: 1, absent: true }),
  },
  {
    id: '429 + Retry-After: 1',
    rule: (m) => ({ kind: m.kind, fault: 'status', status: 429, retryAfter: 1, ...nthChunk(m, 2) }),
    expect: (m) =>
      retried(m) ? { outcome: 'ok', tries: triesOf(m, 2), minMs: 950 } : { outcome: 'TooManyRequests', status: 429, attempts: null, tries: 1, absent: true },
  },
  {
    id: '500 always',
    rule: (m) => ({ kind: m.kind, fault: 'status', status: 500, times: Infinity }),
    expect: (m) =>
      retried(m)
        ? { outcome: 'ServerError', status: 500, attempts: 4, tries: 4, absent: isUpload(m) }
        : { outcome: 'ServerError', status: 500, attempts: null, tries: 1, absent: true },
  },
  {
    id: 'reset before response',
    rule: (m) => ({ kind: m.kind, fault: 'resetBeforeResponse', ...nthChunk(m, 2) }),
    expect: (m) => (retried(m) ? { outcome: 'ok', tries: triesOf(m, 2) } : { outcome: 'Network', attempts: null, tries: 1, absent: true }),
  },
  {
    id: 'reset mid-body',
    // Resumable uploads: the answer to the last chunk (the object's resource) is cut.
    rule: (m) => ({ kind: m.kind, fault: 'resetMidBody', ...(m.cls === 'resumable' ? { final: true } : {}) }),
    // One-request uploads: the server stored the object and only its answer was cut; the
    // client reads the object back (no second upload) and checks it: ok.
    expect: (m) => answerLost(m, 'Network'),
  },
  {
    id: 'truncated body',
    rule: (m) => ({ kind: m.kind, fault: 'truncate', ...(m.cls === 'resumable' ? { final: true } : {}) }),
    expect: (m) => answerLost(m, 'Network'),
  },
  {
    id: 'stall (no answer)',
    client: { requestTimeoutMs: STALL_TIMEOUT_MS },
    rule: (m) => ({ kind: m.kind, fault: 'stall', ...nthChunk(m, 2) }),
    expect: (m) => (retried(m) ? { outcome: 'ok', tries: triesOf(m, 2) } : { outcome: 'Timeout', attempts: null, tries: 1, absent: true }),
  },
  {
    id: 'stall mid-body',
    client: { requestTimeoutMs: STALL_TIMEOUT_MS },
    rule: (m) => ({ kind: m.kind, fault: 'stall', phase: 'body', ...(m.cls === 'resumable' ? { final: true } : {}) }),
    expect: (m) => answerLost(m, 'Timeout'),
  },
  {
    id: 'stall always',
    client: { requestTimeoutMs: STALL_TIMEOUT_MS },
    rule: (m) => ({ kind: m.kind, fault: 'stall', times: Infinity }),
    expect: (m) =>
      retried(m)
        ? { outcome: 'Timeout', attempts: 4, tries: 4, absent: isUpload(m) }
        : { outcome: 'Timeout', attempts: null, tries: 1, absent: true },
  },
  {
    id: 'corrupted bytes',
    // Downloads: answer bytes flipped (X-Goog-Hash catches it). Uploads: request bytes
    // flipped on the way (the proxy checks X-Goog-Hash as GCS does and refuses with 400).
    applies: (m) => m.cls === 'download' || isUpload(m),
    rule: (m) =>
      m.cls === 'download'
        ? { kind: 'download', fault: 'corrupt' }
        : { kind: m.kind, fault: 'corruptRequest', ...nthChunk(m, 2) },
    expect: (m) =>
      m.cls === 'download'
        ? { outcome: 'IntegrityMismatch', tries: 1 }
        : // GCS's 400 "Provided CRC32C … doesn't match", to a one-request upload's only request
          // or to a resumable upload's final chunk (the one carrying the hash); not retried.
          { outcome: 'IntegrityMismatch', status: 400, attempts: null, tries: m.cls === 'resumable' ? RESUMABLE_CHUNKS : 1, absent: true },
  },
  {
    id: 'corrupted, no X-Goog-Hash',
    // The hash header removed: the check falls back to the object's metadata.
    applies: (m) => m.cls === 'download',
    rule: () => ({ kind: 'download', fault: 'corrupt', dropHeaders: ['x-goog-hash'] }),
    expect: () => ({ outcome: 'IntegrityMismatch', tries: 1 }),
  },
  {
    id: 'reset mid-upload',
    applies: isUpload,
    rule: (m) => ({ kind: m.kind, fault: 'resetMidUpload', ...nthChunk(m, 2) }),
    expect: (m) => (retried(m) ? { outcome: 'ok', tries: triesOf(m, 2) } : { outcome: 'Network', attempts: null, tries: 1, absent: true }),
  },
];

/** Resumable uploads are faulted on their second chunk (a session, a chunk already held). */
function nthChunk(m, n) {
  return m.cls === 'resumable' ? { nth: n } : {};
}

/** Chunks of a LARGE resumable upload. */
const RESUMABLE_CHUNKS = Math.ceil(LARGE / CHUNK);

/** Requests of the main kind after `n` tries of the faulted one (all chunks, for resumables). */
function triesOf(m, n) {
  return m.cls === 'resumable' ? RESUMABLE_CHUNKS + n - 1 : n;
}

function describeOutcome(result, tries) {
  const t = tries === undefined ? '' : tries === 1 ? ', 1 try' : `, ${tries} tries`;
  if (!result || typeof result !== 'object') return `?? ${String(result)}`;
  if (result.ok) return `ok${t}`;
  const e = result.error ?? {};
  return `${e.kind}${e.statusCode ? ` ${e.statusCode}` : ''}${e.attempts ? ` ×${e.attempts}` : ''}${t}`;
}

const table = new Map(); // method name -> Map(fault id -> cell)

function record(method, fault, cell) {
  if (!table.has(method)) table.set(method, new Map());
  table.get(method).set(fault, cell);
}

function renderTable() {
  const faults = FAULTS.map((f) => f.id);
  const header = `| method | ${faults.join(' | ')} |`;
  const rule = `|---|${faults.map(() => '---').join('|')}|`;
  const rows = METHODS.map((m) => {
    const cells = faults.map((f) => table.get(m.name)?.get(f) ?? 'n/a');
    return `| ${m.name} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

async function runCase(method, fault) {
  const proxy = await startFaultProxy(proxyOptions());
  const c = { name: fresh(method.name.replace(/\W+/g, '-')) };
  let cell = 'did not finish';
  try {
    await method.setup(c);
    const client = matrixClient(proxy, fault.client);
    const ruleDef = fault.rule(method);
    const [rule] = proxy.setFaults([ruleDef]);
    const expected = fault.expect(method);

    const started = Date.now();
    const result = await withTimeout(settle(method.run(client, c, {})), CASE_TIMEOUT_MS, `${method.name} / ${fault.id}`).catch((error) => {
      error.message += `\nrequests the proxy saw: ${JSON.stringify(proxy.log.map((e) => [e.kind, e.status, e.fault, e.note]))}`;
      throw error;
    });
    const elapsed = Date.now() - started;
    const tries = proxy.requests(method.kind).length;
    cell = describeOutcome(result, tries);

    const what = `${method.name} / ${fault.id}: got ${JSON.stringify(result?.ok ? { ok: true } : result)}`;
    assert.ok(rule.fired >= 1, `${method.name} / ${fault.id}: the fault was never injected (requests: ${proxy.log.map((e) => e.kind).join(', ')})`);
    const outcome = result?.ok ? 'ok' : result?.error?.kind;
    assert.equal(outcome, expected.outcome, what);
    if (!result.ok) {
      assertErr(result, result.error.kind, expected.status, what);
      // A failure to get an answer says which call it ended, however far the transfer got.
      if (['Network', 'Timeout'].includes(result.error.kind)) {
        const call = method.name.split(' ')[0];
        assert.ok(result.error.message.startsWith(`${call}: `), `${what}: the message names ${call}`);
      }
      if (expected.attempts === null) assert.equal(result.error.attempts, undefined, `${what}: one try, so no attempts`);
      else if (expected.attempts !== undefined) assert.equal(result.error.attempts, expected.attempts, `${what}: attempts`);
    }
    if (expected.tries !== undefined) {
      assert.equal(tries, expected.tries, `${what}: ${method.kind} requests seen by the proxy`);
    }
    if (expected.minMs !== undefined) {
      assert.ok(elapsed >= expected.minMs, `${what}: took ${elapsed} ms, Retry-After asked for ${expected.minMs}+`);
    }
    assert.deepEqual(proxy.violations, [], `${what}: resumable-protocol violations`);

    // The data.
    if (result.ok) {
      if (method.verifyOk) await method.verifyOk(c, result);
      if (isUpload(method)) {
        const stored = await storedOrNull(c.name);
        assert.ok(stored, `${what}: the object exists`);
        assert.equal(sha256(stored), sha256(c.data), `${what}: the stored object is intact`);
      }
    } else {
      if (method.verifyErr) await method.verifyErr(c, result);
      if (isUpload(method)) {
        const stored = await storedOrNull(c.name);
        if (expected.absent) assert.equal(stored, null, `${what}: no object may exist after this failure`);
        else if (stored) assert.equal(sha256(stored), sha256(c.data), `${what}: an object stored despite the error is intact`);
      }
      if (method.cls === 'resumable' && expected.absent) {
        const sessions = [...proxy.sessions.values()];
        assert.ok(sessions.length >= 1 && sessions.every((s) => s.cancelled || s.done === false), `${what}: sessions end cancelled`);
        assert.ok(sessions.some((s) => s.cancelled), `${what}: the failed session was cancelled`);
      }
    }
  } catch (error) {
    cell = `✗ ${cell}`;
    throw error;
  } finally {
    record(method.name, fault.id, cell);
    await proxy.stop();
  }
}

before(async () => {
  localDir = await makeTempDir();
});

after(async () => {
  await removeDir(localDir);
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
  const markdown = renderTable();
  console.log(`\nFault matrix (client: maxRetries 3, backoff 20-200 ms; stalls with requestTimeoutMs ${STALL_TIMEOUT_MS}):\n${markdown}\n`);
  const out = process.env.FAULT_MATRIX_OUT;
  if (out) {
    const file = out === '1' || out === 'true' ? path.join(process.cwd(), 'test-output', 'fault-matrix.md') : out;
    await mkdir(path.dirname(file), { recursive: true });
    const legend = [
      '<!-- written by tests/node/faults.test.mjs -->',
      `Each cell: the outcome, then how many requests of the method's main kind the fault proxy saw`,
      '(`×N` on an error: the `attempts` it reports). Resumable uploads are faulted on a chunk',
      '(their second, or the last one\'s answer for body faults). ✗ marks a failed assertion.',
      `Client: maxRetries 3, retryInitialDelayMs 20, retryMaxDelayMs 200, uploadChunkSize 256 KiB,`,
      `resumableThreshold 512 KiB; stall columns use requestTimeoutMs ${STALL_TIMEOUT_MS}.`,
      '',
    ].join('\n');
    await writeFile(file, `${legend}\n${markdown}\n`);
  }
});

describe('fault matrix', { concurrency: Number(process.env.FAULT_MATRIX_CONCURRENCY) || 6 }, () => {
  for (const method of METHODS) {
    for (const fault of FAULTS) {
      if (fault.applies && !fault.applies(method)) continue;
      it(`${method.name} / ${fault.id}`, { timeout: CASE_TIMEOUT_MS + 10000 }, () => runCase(method, fault));
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The retry policy

describe('retry policy', { concurrency: 4 }, () => {
  let name;
  let data;
  before(async () => {
    name = fresh('policy.bin');
    data = randomBytes(64 * KiB);
    await emulatorUpload(TEST_BUCKET, name, data);
  });

  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`${status} is retried`, async () => {
      const proxy = await startFaultProxy(proxyOptions());
      try {
        proxy.setFaults([{ kind: 'download', fault: 'status', status }]);
        const result = await withTimeout(matrixClient(proxy).downloadAsBytes(name), 10000, `${status}`);
        assert.equal(sha256(assertOk(result, `${status}`)[0]), sha256(data));
        assert.equal(proxy.requests('download').length, 2);
      } finally {
        await proxy.stop();
      }
    });
  }

  for (const [status, kind] of [
    [400, 'InvalidArgument'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [404, 'ObjectNotFound'],
    [412, 'PreconditionFailed'],
    [501, 'ServerError'],
  ]) {
    it(`${status} is not retried`, async () => {
      const proxy = await startFaultProxy(proxyOptions());
      try {
        proxy.setFaults([{ kind: 'download', fault: 'status', status, times: Infinity }]);
        const result = await withTimeout(matrixClient(proxy).downloadAsBytes(name), 10000, `${status}`);
        assertErr(result, kind, status);
        assert.equal(result.error.attempts, undefined);
        assert.equal(proxy.requests('download').length, 1);
      } finally {
        await proxy.stop();
      }
    });
  }

  it('maxRetries: 0 turns retrying off', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'download', fault: 'status', status: 503 }]);
      const result = await matrixClient(proxy, { maxRetries: 0 }).downloadAsBytes(name);
      const error = assertErr(result, 'ServerError', 503);
      assert.equal(error.attempts, undefined);
      assert.equal(proxy.requests('download').length, 1);
    } finally {
      await proxy.stop();
    }
  });

  it('maxRetries: 1 makes two tries, and the error says so', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 502, times: Infinity }]);
      const result = await matrixClient(proxy, { maxRetries: 1 }).exists(name);
      const error = assertErr(result, 'ServerError', 502);
      assert.equal(error.attempts, 2);
      assert.equal(proxy.requests('metadata').length, 2);
    } finally {
      await proxy.stop();
    }
  });

  it('after the last try the error has the kind of the last failure', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([
        { kind: 'metadata', fault: 'status', status: 503 },
        { kind: 'metadata', fault: 'resetBeforeResponse' },
        { kind: 'metadata', fault: 'status', status: 429, retryAfter: 0 },
        { kind: 'metadata', fault: 'stall' },
      ]);
      const result = await withTimeout(matrixClient(proxy, { requestTimeoutMs: STALL_TIMEOUT_MS }).exists(name), 10000, 'mixed');
      const error = assertErr(result, 'Timeout', null);
      assert.equal(error.attempts, 4);
    } finally {
      await proxy.stop();
    }
  });

  it('Retry-After is honoured (seconds and HTTP-date)', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 503, retryAfter: 1 }]);
      let started = Date.now();
      assertOk(await matrixClient(proxy).exists(name));
      const seconds = Date.now() - started;
      assert.ok(seconds >= 950, `Retry-After: 1 waited ${seconds} ms`);

      const at = new Date(Date.now() + 2000).toUTCString(); // whole seconds: 1-2 s from now
      proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 429, retryAfter: at }]);
      started = Date.now();
      assertOk(await matrixClient(proxy).exists(name));
      const dated = Date.now() - started;
      assert.ok(dated >= 900, `Retry-After: <date> waited ${dated} ms`);
    } finally {
      await proxy.stop();
    }
  });

  it('retryDeadlineMs stops retries that would start after it', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 503, retryAfter: 2, times: Infinity }]);
      const started = Date.now();
      const result = await withTimeout(matrixClient(proxy, { retryDeadlineMs: 500 }).exists(name), 10000, 'deadline');
      const elapsed = Date.now() - started;
      assertErr(result, 'ServerError', 503);
      assert.ok(elapsed < 1500, `gave up after ${elapsed} ms instead of waiting past the deadline`);
      assert.equal(proxy.requests('metadata').length, 1);
    } finally {
      await proxy.stop();
    }
  });

  it('retryDeadlineMs bounds a long series of quick failures', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'metadata', fault: 'status', status: 503, times: Infinity }]);
      const started = Date.now();
      const client = matrixClient(proxy, { maxRetries: 1000, retryInitialDelayMs: 50, retryMaxDelayMs: 50, retryDeadlineMs: 600 });
      const result = await withTimeout(client.exists(name), 10000, 'deadline');
      const elapsed = Date.now() - started;
      const error = assertErr(result, 'ServerError', 503);
      assert.ok(elapsed < 1500, `stopped after ${elapsed} ms`);
      assert.ok(error.attempts > 2 && error.attempts < 1000, `attempts: ${error.attempts}`);
    } finally {
      await proxy.stop();
    }
  });

  it('a download that makes progress between breaks gets a fresh budget after each', async () => {
    const data = randomBytes(LARGE);
    const object = fresh('progress-resets.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
    const proxy = await startFaultProxy(proxyOptions());
    try {
      // Three breaks, each after some bytes: more than maxRetries: 1 allows in a row.
      proxy.setFaults([{ kind: 'download', fault: 'resetMidBody', times: 3 }]);
      const result = await withTimeout(matrixClient(proxy, { maxRetries: 1 }).downloadAsBytes(object), 10000, 'breaks');
      assert.equal(sha256(assertOk(result)[0]), sha256(data));
      assert.equal(proxy.requests('download').length, 4);
    } finally {
      await proxy.stop();
    }
  });

  it("a resumed download's failures spend one budget (no retries within retries)", async () => {
    const data = randomBytes(LARGE);
    const object = fresh('one-budget.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([
        { kind: 'download', fault: 'resetMidBody' },
        { kind: 'download', fault: 'status', status: 503, times: Infinity },
      ]);
      const result = await withTimeout(matrixClient(proxy, { maxRetries: 2 }).downloadAsBytes(object), 10000, 'resume');
      const error = assertErr(result, 'ServerError', 503);
      assert.equal(error.attempts, 3, 'the break, then two refused resumptions');
      assert.equal(proxy.requests('download').length, 3);
    } finally {
      await proxy.stop();
    }
  });

  it('requestTimeoutMs holds for a stalled body while the garbage collector runs', async () => {
    // Node's fetch (undici) follows a Request's AbortSignal through a WeakRef: once the
    // Request object is collected, aborting the signal it was built from no longer stops the
    // body. A client that keeps no reference to its Request then waits forever for a body
    // that stalled (and its callers' signals stop working too). GC is forced here so the
    // case is deterministic; in the matrix it strikes about one run in thirty.
    const gc = exposeGc();
    const data = randomBytes(LARGE);
    const object = fresh('gc-stall.bin');
    await emulatorUpload(TEST_BUCKET, object, data);
    const proxy = await startFaultProxy(proxyOptions());
    const collector = setInterval(gc, 20);
    try {
      proxy.setFaults([{ kind: 'download', fault: 'stall', phase: 'body', times: Infinity }]);
      const client = matrixClient(proxy, { requestTimeoutMs: 300, maxRetries: 0 });
      const started = Date.now();
      const result = await withTimeout(client.downloadAsBytes(object), 5000, 'a stalled body with GC running');
      assertErr(result, 'Timeout', null);
      assert.ok(Date.now() - started < 2000, `timed out after ${Date.now() - started} ms`);
    } finally {
      clearInterval(collector);
      await proxy.stop();
    }
  });

  it('requestTimeoutMs: a request that takes longer fails with kind Timeout', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      proxy.setFaults([{ kind: 'metadata', fault: 'stall', times: Infinity }]);
      const started = Date.now();
      const result = await withTimeout(matrixClient(proxy, { requestTimeoutMs: 300, maxRetries: 0 }).exists(name), 10000, 'timeout');
      const elapsed = Date.now() - started;
      assertErr(result, 'Timeout', null);
      assert.ok(elapsed >= 280 && elapsed < 2000, `timed out after ${elapsed} ms`);
    } finally {
      await proxy.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Preconditions and retryStrategy: which writes are repeated (Google's retry conformance rules,
// retry_tests.json scenarios 2 and 3), and what each strategy changes.

describe('preconditions and retryStrategy', { concurrency: 4 }, () => {
  /** Runs `body(proxy, client)` with a proxy that enforces preconditions as GCS does. */
  async function through(clientOptions, body) {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      await body(proxy, matrixClient(proxy, clientOptions));
    } finally {
      await proxy.stop();
    }
  }

  /** A fresh object, and its generation. */
  async function stored(label, bytes = randomBytes(1000)) {
    const name = fresh(label);
    await emulatorUpload(TEST_BUCKET, name, bytes);
    return { name, bytes, generation: (await emulatorMetadata(TEST_BUCKET, name)).generation };
  }

  const queryOf = (entry) => new URL(entry.url, 'http://proxy').searchParams;

  it('a delete without a precondition hit by a 503 is not retried: the error comes back', async () => {
    await through({}, async (proxy, client) => {
      const { name } = await stored('unguarded-delete.bin');
      proxy.setFaults([{ kind: 'delete', fault: 'status', status: 503 }]);
      const error = assertErr(await client.delete(name), 'ServerError', 503);
      assert.equal(error.attempts, undefined);
      assert.equal(proxy.requests('delete').length, 1);
      assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'the object is still there');
    });
  });

  it('with ifGenerationMatch the delete is retried, sends the precondition, and succeeds', async () => {
    await through({}, async (proxy, client) => {
      const { name, generation } = await stored('guarded-delete.bin');
      proxy.setFaults([{ kind: 'delete', fault: 'status', status: 503 }]);
      assertOk(await client.delete(name, { ifGenerationMatch: generation }));
      const deletes = proxy.requests('delete');
      assert.deepEqual(deletes.map((entry) => queryOf(entry).get('ifGenerationMatch')), [generation, generation]);
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);
    });
  });

  it('a delete whose ifGenerationMatch names another generation is PreconditionFailed and deletes nothing', async () => {
    await through({}, async (proxy, client) => {
      const { name, generation } = await stored('stale-delete.bin');
      const stale = String(BigInt(generation) - 1n);
      assertErr(await client.delete(name, { ifGenerationMatch: stale }), 'PreconditionFailed', 412);
      assertErr(await client.delete(name, { ifGenerationMatch: 0, ignoreNotFound: true }), 'PreconditionFailed', 412);
      assert.ok(await emulatorMetadata(TEST_BUCKET, name), 'the object is still there');
      assertErr(await client.delete(fresh('never-there.bin'), { ifGenerationMatch: generation }), 'ObjectNotFound', 404);
    });
  });

  it('a guarded delete whose answer was lost, and whose retry finds the object gone, is ok', async () => {
    await through({}, async (proxy, client) => {
      // The first try deletes the object, then its connection is reset before the answer.
      const { name, generation } = await stored('lost-answer-delete.bin');
      proxy.setFaults([{ kind: 'delete', fault: 'resetBeforeResponse', forward: true }]);
      assertOk(await client.delete(name, { ifGenerationMatch: generation }));
      const deletes = proxy.requests('delete');
      assert.equal(deletes.length, 2);
      assert.equal(deletes[1].status, 404, 'the retry found the object gone');
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);

      // Without a precondition it is not retried: the lost answer is the error.
      const unguarded = await stored('lost-answer-unguarded.bin');
      proxy.clear();
      proxy.setFaults([{ kind: 'delete', fault: 'resetBeforeResponse', forward: true }]);
      assertErr(await client.delete(unguarded.name), 'Network', null);
      assert.equal(proxy.requests('delete').length, 1);
    });
  });

  it("retryStrategy 'always' retries a delete and a copy without a precondition", async () => {
    await through({ retryStrategy: 'always' }, async (proxy, client) => {
      const { name } = await stored('always-delete.bin');
      proxy.setFaults([{ kind: 'delete', fault: 'status', status: 503 }]);
      assertOk(await client.delete(name));
      assert.equal(proxy.requests('delete').length, 2);
      assert.equal(await emulatorMetadata(TEST_BUCKET, name), null);

      // Unguarded, a 404 after a lost answer stays ObjectNotFound: the name alone does not
      // say the object was ever there.
      const lost = await stored('always-lost.bin');
      proxy.clear();
      proxy.setFaults([{ kind: 'delete', fault: 'resetBeforeResponse', forward: true }]);
      const error = assertErr(await client.delete(lost.name), 'ObjectNotFound', 404);
      assert.equal(error.attempts, 2);

      const source = await stored('always-source.bin');
      const destination = fresh('always-copy.bin');
      proxy.clear();
      proxy.setFaults([{ kind: 'copy', fault: 'status', status: 503 }]);
      assertOk(await client.copy(source.name, destination));
      assert.equal(proxy.requests('copy').length, 2);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, destination)), sha256(source.bytes));
    });
  });

  it("retryStrategy 'never' does not retry even an idempotent download, nor resume a broken one", async () => {
    await through({ retryStrategy: 'never' }, async (proxy, client) => {
      const { name, bytes } = await stored('never-download.bin', randomBytes(LARGE));
      proxy.setFaults([{ kind: 'download', fault: 'status', status: 503 }]);
      const error = assertErr(await client.downloadAsBytes(name), 'ServerError', 503);
      assert.equal(error.attempts, undefined);
      assert.equal(proxy.requests('download').length, 1);

      proxy.clear();
      proxy.setFaults([{ kind: 'download', fault: 'resetMidBody' }]);
      assertErr(await client.downloadAsBytes(name), 'Network', null);
      assert.equal(proxy.requests('download').length, 1);

      proxy.clear();
      proxy.setFaults([{ kind: 'delete', fault: 'status', status: 503 }]);
      const guarded = await stored('never-delete.bin');
      assertErr(await client.delete(guarded.name, { ifGenerationMatch: guarded.generation }), 'ServerError', 503);
      assert.equal(proxy.requests('delete').length, 1, 'not even a guarded write');

      proxy.clear();
      assert.equal(sha256(assertOk(await client.downloadAsBytes(name))[0]), sha256(bytes), 'without faults it works');
    });
  });

  it('a copy is retried only under the destination\'s ifGenerationMatch, and sends both preconditions', async () => {
    await through({}, async (proxy, client) => {
      const source = await stored('copy-source.bin');
      const unguarded = fresh('copy-unguarded.bin');
      proxy.setFaults([{ kind: 'copy', fault: 'status', status: 503 }]);
      assertErr(await client.copy(source.name, unguarded), 'ServerError', 503);
      assert.equal(proxy.requests('copy').length, 1);
      assert.equal(await emulatorMetadata(TEST_BUCKET, unguarded), null);

      // The source's precondition alone guards nothing at the destination: still sent once.
      proxy.clear();
      proxy.setFaults([{ kind: 'copy', fault: 'status', status: 503 }]);
      assertErr(await client.copy(source.name, unguarded, { ifSourceGenerationMatch: source.generation }), 'ServerError', 503);
      assert.equal(proxy.requests('copy').length, 1);

      const guarded = fresh('copy-guarded.bin');
      proxy.clear();
      proxy.setFaults([{ kind: 'copy', fault: 'status', status: 503 }]);
      assertOk(await client.copy(source.name, guarded, { ifGenerationMatch: 0, ifSourceGenerationMatch: source.generation }));
      const copies = proxy.requests('copy');
      assert.equal(copies.length, 2);
      for (const entry of copies) {
        assert.equal(queryOf(entry).get('ifGenerationMatch'), '0');
        assert.equal(queryOf(entry).get('ifSourceGenerationMatch'), source.generation);
      }
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, guarded)), sha256(source.bytes));
    });
  });

  it('a copy whose preconditions do not hold is PreconditionFailed and writes nothing', async () => {
    await through({}, async (proxy, client) => {
      const source = await stored('copy-source-2.bin');
      const existing = await stored('copy-existing.bin');
      assertErr(await client.copy(source.name, existing.name, { ifGenerationMatch: 0 }), 'PreconditionFailed', 412);
      const stale = String(BigInt(source.generation) - 1n);
      const destination = fresh('copy-stale-source.bin');
      assertErr(await client.copy(source.name, destination, { ifSourceGenerationMatch: stale }), 'PreconditionFailed', 412);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, existing.name)), sha256(existing.bytes));
      assert.equal(await emulatorMetadata(TEST_BUCKET, destination), null);
      assertOk(await client.copy(source.name, existing.name, { ifGenerationMatch: existing.generation }));
    });
  });

  it('setAclPolicy is retried only under ifMetagenerationMatch, as setMetadata is', async () => {
    await through({}, async (proxy, client) => {
      const { name } = await stored('acl-retry.bin');
      const policy = { owner: 'u1', visibility: 'private' };
      proxy.setFaults([{ kind: 'patch', fault: 'status', status: 503 }]);
      assertErr(await client.setAclPolicy(name, policy), 'ServerError', 503);
      assert.equal(proxy.requests('patch').length, 1);

      proxy.clear();
      proxy.setFaults([{ kind: 'patch', fault: 'status', status: 503 }]);
      assertOk(await client.setAclPolicy(name, policy, { ifMetagenerationMatch: 1 }));
      const patches = proxy.requests('patch');
      assert.equal(patches.length, 2);
      assert.equal(queryOf(patches[1]).get('ifMetagenerationMatch'), '1');
      assert.deepEqual(assertOk(await client.getAclPolicy(name)), policy);
    });
  });

  it('starting a resumable session is retried without a precondition (a session never sent data writes nothing)', async () => {
    await through({}, async (proxy, client) => {
      const data = randomBytes(LARGE);
      const name = fresh('session-start.bin');
      proxy.setFaults([{ kind: 'resumable-start', fault: 'status', status: 503 }]);
      assertOk(await client.uploadFromBytes(name, data));
      assert.equal(proxy.requests('resumable-start').length, 2);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// CRC32C on uploads

describe('CRC32C on uploads', () => {
  it('one-request uploads send X-Goog-Hash with the CRC32C of the body', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      const data = randomBytes(SMALL);
      const name = fresh('hash-once.bin');
      assertOk(await matrixClient(proxy).uploadFromBytes(name, data));
      const [upload] = proxy.requests('upload-media');
      assert.match(upload.xGoogHash ?? '', /crc32c=/);
      assert.equal(sha256(await emulatorStoredBytes(TEST_BUCKET, name)), sha256(data));
    } finally {
      await proxy.stop();
    }
  });

  it("resumable uploads send the whole object's CRC32C with the last chunk", async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      const data = randomBytes(LARGE);
      const name = fresh('hash-resumable.bin');
      assertOk(await matrixClient(proxy).uploadFromBytes(name, data));
      const chunks = proxy.requests('resumable-chunk');
      assert.ok(chunks.length >= 5);
      assert.match(chunks.at(-1).xGoogHash ?? '', /crc32c=/, 'the last chunk carries X-Goog-Hash');
      // checkUploadHashes in the proxy compared it with the bytes: a wrong value would have been a 400.
      assert.equal(chunks.at(-1).status, 200);
    } finally {
      await proxy.stop();
    }
  });

  it('without a server-side check, the client notices a corrupted upload, says IntegrityMismatch and removes the object', async () => {
    // A proxy that corrupts request bytes but does not check X-Goog-Hash (as fake-gcs-server):
    // the client compares the stored object's CRC32C with its own.
    for (const [label, size, kind] of [
      ['one request', SMALL, 'upload-media'],
      ['resumable', LARGE, 'resumable-chunk'],
    ]) {
      const proxy = await startFaultProxy({ target: EMULATOR_URL });
      try {
        const data = randomBytes(size);
        const name = fresh(`corrupt-unchecked-${size}.bin`);
        proxy.setFaults([{ kind, fault: 'corruptRequest', ...(kind === 'resumable-chunk' ? { nth: 2 } : {}) }]);
        const result = await withTimeout(matrixClient(proxy).uploadFromBytes(name, data), 10000, label);
        assertErr(result, 'IntegrityMismatch', undefined, label);
        assert.equal(await emulatorMetadata(TEST_BUCKET, name), null, `${label}: the corrupted object was deleted`);
      } finally {
        await proxy.stop();
      }
    }
  });

  // Each answer is cut at half of what it carries: every resume makes progress until a
  // single byte is left, which no answer then brings; the retries run out mid-body.
  it('a download truncated every time is a Network error mid-body, never delivered as complete, and names its call', async () => {
    const proxy = await startFaultProxy(proxyOptions());
    try {
      const data = randomBytes(LARGE);
      const name = fresh('trunc-always.bin');
      await emulatorUpload(TEST_BUCKET, name, data);
      proxy.setFaults([{ kind: 'download', fault: 'truncate', times: Infinity }]);
      const outcome = await withTimeout(streamOutcome(matrixClient(proxy).downloadAsStream(name)), 15000, 'truncate always');
      assertErr(outcome, 'Network', undefined, 'downloadAsStream');
      assert.match(outcome.error.message, /^downloadAsStream: GET /);
      assert.equal(outcome.error.attempts, 4);
      const file = path.join(localDir, 'trunc-always.bin');
      const toFile = await withTimeout(matrixClient(proxy).downloadToFilename(name, file), 15000, 'truncate always (file)');
      assertErr(toFile, 'Network', undefined, 'downloadToFilename');
      assert.match(toFile.error.message, /^downloadToFilename: GET /);
      assert.equal(existsSync(file), false, 'no partial file is left');
    } finally {
      await proxy.stop();
    }
  });
});

