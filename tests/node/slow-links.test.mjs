// requestTimeoutMs measures progress, not duration: through the fault proxy passing 256 KiB/s
// (it reads no faster, so the client's socket buffers fill as on a slow link), uploads and
// downloads that take several times requestTimeoutMs succeed with their bytes intact, and a
// body that stops moving ends in Timeout soon after (src/protocol/stall.rs says how soon).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from 'replit-object-storage-wasm';

import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  emulatorDeletePrefix,
  emulatorStoredBytes,
  emulatorUpload,
  makeTempDir,
  removeDir,
  sha256,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const RATE = 256 * KiB;
const TIMEOUT_MS = 1500;

const prefix = uniquePrefix('slow-links');
let proxy;
let dir;
let counter = 0;
const fresh = (label) => `${prefix}/${++counter}-${label}`;

/** No retries: a try that timed out must show as Timeout, not be hidden by a second one. */
const slowClient = () =>
  new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 'slow-link-token', requestTimeoutMs: TIMEOUT_MS, maxRetries: 0 });

const throttled = () => proxy.setFaults([{ fault: 'throttle', bytesPerSecond: RATE, times: Infinity }]);

/** Runs `call`, returning its result and how long it took. */
async function timed(call, what, limitMs) {
  const started = Date.now();
  const result = await withTimeout(call(), limitMs, what);
  return { result, ms: Date.now() - started };
}

/** The link really was slow: the transfer took what `bytes` need at RATE, well over the timeout. */
function assertSlow(ms, bytes, what) {
  const least = ((bytes / RATE) * 1000) * 0.8;
  assert.ok(ms >= least && ms > 2 * TIMEOUT_MS, `${what} took ${ms} ms; through ${RATE} B/s it needs at least ${least}`);
}

describe('requestTimeoutMs on slow links (256 KiB/s, requestTimeoutMs 1500)', () => {
  before(async () => {
    proxy = await startFaultProxy({ target: EMULATOR_URL });
    dir = await makeTempDir();
  });

  after(async () => {
    await proxy?.stop();
    await removeDir(dir);
    await emulatorDeletePrefix(TEST_BUCKET, prefix);
  });

  // What each case moves through the throttled proxy, and how the bytes are read back.
  const transfers = [
    ['a 1 MiB uploadFromBytes', MiB, (client, name, data) => client.uploadFromBytes(name, data)],
    ['a 1 MiB uploadFromBytes with metadata (one multipart body)', MiB, (client, name, data) => client.uploadFromBytes(name, data, { metadata: { link: 'slow' } })],
    [
      'a 3 MiB uploadFromFilename',
      3 * MiB,
      async (client, name, data) => {
        const file = path.join(dir, 'three-mib.bin');
        await writeFile(file, data);
        return client.uploadFromFilename(name, file);
      },
    ],
    [
      'a 1 MiB downloadAsBytes',
      MiB,
      async (client, name, data) => {
        proxy.clear();
        await emulatorUpload(TEST_BUCKET, name, data);
        throttled();
        return client.downloadAsBytes(name);
      },
    ],
  ];
  for (const [label, size, run] of transfers) {
    it(`${label} succeeds, its bytes intact`, async () => {
      const name = fresh('slow.bin');
      const data = randomBytes(size);
      throttled();
      const { result, ms } = await timed(() => run(slowClient(), name, data), label, 60000);
      assertOk(result, `${label} through 256 KiB/s`);
      assertSlow(ms, size, label);
      proxy.clear();
      const moved = result.value ? result.value[0] : await emulatorStoredBytes(TEST_BUCKET, name);
      assert.equal(sha256(moved), sha256(data));
    });
  }

  it('an upload body that stops moving ends in Timeout', async () => {
    const name = fresh('stalled.bin');
    const size = 256 * KiB;
    proxy.setFaults([{ kind: 'upload-media', fault: 'stallUpload', afterBytes: 128 * KiB }]);
    const { result, ms } = await timed(() => slowClient().uploadFromBytes(name, randomBytes(size)), 'stalled upload', 30000);
    const error = assertErr(result, 'Timeout', null);
    assert.match(error.message, /requestTimeoutMs/);
    // The runtime took the whole body at once (its socket buffers hold it), so the stall is
    // known once those bytes have had their time at 256 KiB per requestTimeoutMs: one
    // requestTimeoutMs here, then one more for the answer. Generous slack for a loaded machine.
    const expected = TIMEOUT_MS * (1 + size / (256 * KiB));
    assert.ok(ms >= TIMEOUT_MS && ms < expected + 2500, `timed out after ${ms} ms, expected about ${expected}`);
    assert.match(proxy.log.at(-1).note ?? '', /^request body stalled after \d+ bytes$/);
    proxy.clear();
  });
});
