// Wrong argument types from plain JavaScript (no TypeScript to stop them) are
// InvalidArgument results: never a synchronous throw, never a rejected promise, never a
// request with a garbled name. Also the constructor's options.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { Client, StreamRequestError } from 'replit-object-storage-wasm';

import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  assertStreamError,
  closedPortUrl,
  emulatorDeletePrefix,
  makeTempDir,
  nextStreamError,
  rejectionOf,
  removeDir,
  revoked,
  throwingGetter,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';
import { hostileSubclasses } from '../runtimes/suite.mjs';

const prefix = uniquePrefix('arguments');
let client;
let localDir;
let sourceFile;

before(async () => {
  client = new Client({ bucketId: TEST_BUCKET });
  localDir = await makeTempDir();
  sourceFile = path.join(localDir, 'source.txt');
  await writeFile(sourceFile, 'source');
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
  await removeDir(localDir);
});

/**
 * Calls `call()` and checks it neither throws nor rejects, and resolves to an
 * InvalidArgument result without a status.
 */
async function expectInvalidArgument(call, what) {
  let returned;
  assert.doesNotThrow(() => {
    returned = call();
  }, `${what}: must not throw synchronously`);
  assert.ok(returned && typeof returned.then === 'function', `${what}: must return a promise`);
  let result;
  try {
    result = await withTimeout(returned, 15000, what);
  } catch (error) {
    assert.fail(`${what}: must resolve to an error result, but rejected with ${error?.stack ?? error}`);
  }
  return assertErr(result, 'InvalidArgument', null, what);
}

async function expectStreamUploadInvalid(call, what) {
  let returned;
  assert.doesNotThrow(() => {
    returned = call();
  }, `${what}: must not throw synchronously`);
  const reason = await rejectionOf(Promise.resolve(returned), what, 15000);
  assertStreamError(reason, StreamRequestError, 'InvalidArgument', null, what);
}

const badNames = [
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['a boolean', true],
  ['an array', ['a.txt']],
  ['an object without name', {}],
  ['an object whose name is a number', { name: 42 }],
  ['an object whose name is null', { name: null }],
];

describe('object names of the wrong type', () => {
  for (const [label, bad] of badNames) {
    it(`${label}: every method`, async () => {
      const target = path.join(localDir, `never-${label.replace(/\W+/g, '-')}.txt`);
      await expectInvalidArgument(() => client.exists(bad), 'exists');
      await expectInvalidArgument(() => client.downloadAsBytes(bad), 'downloadAsBytes');
      await expectInvalidArgument(() => client.downloadAsText(bad), 'downloadAsText');
      await expectInvalidArgument(() => client.downloadToFilename(bad, target), 'downloadToFilename');
      await expectInvalidArgument(() => client.uploadFromBytes(bad, Buffer.from('x')), 'uploadFromBytes');
      await expectInvalidArgument(() => client.uploadFromText(bad, 'x'), 'uploadFromText');
      await expectInvalidArgument(() => client.uploadFromFilename(bad, sourceFile), 'uploadFromFilename');
      await expectInvalidArgument(() => client.copy(bad, `${prefix}/copy-destination.txt`), 'copy (source)');
      await expectInvalidArgument(() => client.copy(`${prefix}/copy-source.txt`, bad), 'copy (destination)');
      await expectInvalidArgument(() => client.delete(bad), 'delete');
      await expectInvalidArgument(() => client.delete(bad, { ignoreNotFound: true }), 'delete (ignoreNotFound)');
      assert.equal(existsSync(target), false);

      let stream;
      assert.doesNotThrow(() => {
        stream = client.downloadAsStream(bad);
      }, 'downloadAsStream must not throw');
      assertStreamError(await nextStreamError(stream), StreamRequestError, 'InvalidArgument', null, 'downloadAsStream');

      await expectStreamUploadInvalid(
        () => client.uploadFromStream(bad, Readable.from([Buffer.from('x')])),
        'uploadFromStream',
      );
    });
  }

  it('a number was not sent as the name "42"', async () => {
    await expectInvalidArgument(() => client.uploadFromText(42, 'x'), 'uploadFromText(42)');
    assert.deepEqual(assertOk(await client.exists('42')), false);
  });
});

describe('contents of the wrong type', () => {
  const name = () => `${prefix}/contents-${Math.random().toString(36).slice(2)}.bin`;

  for (const [label, bad] of [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a plain object', { length: 3 }],
  ]) {
    it(`uploadFromBytes with ${label}`, async () => {
      const objectName = name();
      await expectInvalidArgument(() => client.uploadFromBytes(objectName, bad), `uploadFromBytes(${label})`);
      assert.equal(assertOk(await client.exists(objectName)), false, 'nothing must be uploaded');
    });

    it(`uploadFromText with ${label}`, async () => {
      const objectName = name();
      await expectInvalidArgument(() => client.uploadFromText(objectName, bad), `uploadFromText(${label})`);
      assert.equal(assertOk(await client.exists(objectName)), false, 'nothing must be uploaded');
    });
  }

  for (const [label, bad] of [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
  ]) {
    it(`uploadFromFilename / downloadToFilename with a file name that is ${label}`, async () => {
      await expectInvalidArgument(() => client.uploadFromFilename(name(), bad), `uploadFromFilename(${label})`);
      await expectInvalidArgument(() => client.downloadToFilename(`${prefix}/whatever.txt`, bad), `downloadToFilename(${label})`);
    });
  }

  // Node's fs throws for such a path rather than failing the call: before, downloadToFilename
  // rejected with that TypeError once the download had begun, its stream left open.
  it('uploadFromFilename / downloadToFilename with a file name holding a NUL character', async () => {
    const objectName = name();
    assertOk(await client.uploadFromText(objectName, 'there'));
    const bad = path.join(localDir, 'nul\0.txt');
    for (const [method, call] of [
      ['downloadToFilename', () => client.downloadToFilename(objectName, bad)],
      ['uploadFromFilename', () => client.uploadFromFilename(name(), bad)],
    ]) {
      const error = await expectInvalidArgument(call, method);
      assert.match(error.message, /Filename must be a non-empty string with no NUL character/, method);
    }
  });

  for (const [label, bad] of [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'not a stream'],
    ['a plain object', { pipe: 42 }],
  ]) {
    it(`uploadFromStream with ${label}`, async () => {
      await expectStreamUploadInvalid(() => client.uploadFromStream(name(), bad), `uploadFromStream(${label})`);
    });
  }
});

// Values whose reading throws: a revoked Proxy throws from every look at it, a getter may
// throw, a stream a reader holds cannot be read again. Each is InvalidArgument; an exception out of the wasm's work would end the process.
describe('arguments that throw when read', () => {
  const name = () => `${prefix}/throwing-${Math.random().toString(36).slice(2)}.bin`;
  /** A Proxy that forwards everything: `instanceof` holds, the brand checks of getters do not. */
  const proxied = (value) => new Proxy(value, {});

  // (exists and getMetadata read only `signal`, as a property: a revoked Proxy there is no signal.)
  it('options that are a revoked Proxy are InvalidArgument in every method that reads options', async () => {
    const objectName = name();
    const calls = {
      list: () => client.list(revoked()),
      listPage: () => client.listPage(revoked()),
      uploadFromText: () => client.uploadFromText(objectName, 'x', revoked()),
      uploadFromBytes: () => client.uploadFromBytes(objectName, Buffer.from('x'), revoked()),
      downloadAsBytes: () => client.downloadAsBytes(objectName, revoked()),
      copy: () => client.copy(objectName, name(), revoked()),
      delete: () => client.delete(objectName, revoked()),
      setMetadata: () => client.setMetadata(objectName, revoked()),
      'new Client': () => new Client(revoked()).exists(objectName),
    };
    for (const [method, call] of Object.entries(calls)) {
      const error = await expectInvalidArgument(call, method);
      assert.match(error.message, /must be an object/, method);
    }
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');
  });

  it('metadata that is a revoked Proxy, or whose getter throws, is InvalidArgument and uploads nothing', async () => {
    const objectName = name();
    const metadata = {
      get tag() {
        throw new Error('getter');
      },
    };
    for (const [label, options, message] of [
      ['revoked', { metadata: revoked() }, /`metadata` must be an object/],
      ['throwing getter', { metadata }, /`metadata.tag` must be a string/],
    ]) {
      const error = await expectInvalidArgument(() => client.uploadFromText(objectName, 'x', options), label);
      assert.match(error.message, message, label);
    }
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');
  });

  // Read as absent, a throwing `ifGenerationMatch` would drop the caller's precondition and
  // overwrite or delete unconditionally; so the option is refused under its name.
  it('an option whose getter throws is InvalidArgument under its name, and changes nothing', async () => {
    const objectName = name();
    const destination = name();
    const refused = async (call, option) => {
      const error = await expectInvalidArgument(call, option);
      assert.match(error.message, new RegExp(`\`${option}\` must be`), option);
    };
    await refused(() => client.uploadFromText(objectName, 'x', throwingGetter('contentType')), 'contentType');
    await refused(() => client.uploadFromText(objectName, 'x', throwingGetter('ifGenerationMatch')), 'ifGenerationMatch');
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');

    assertOk(await client.uploadFromText(objectName, 'kept', { contentType: 'text/plain' }));
    await refused(() => client.delete(objectName, throwingGetter('ifGenerationMatch')), 'ifGenerationMatch');
    await refused(() => client.copy(objectName, destination, throwingGetter('ifGenerationMatch')), 'ifGenerationMatch');
    await refused(() => client.setMetadata(objectName, throwingGetter('contentType')), 'contentType');
    await refused(() => client.exists(objectName, throwingGetter('signal')), 'signal');
    await refused(() => client.downloadAsText(objectName, throwingGetter('range')), 'range');
    await refused(() => client.list(throwingGetter('prefix')), 'prefix');
    // A patch whose properties cannot be listed is refused, not applied as an empty patch.
    const unlisted = new Proxy({ contentType: 'image/png' }, { ownKeys: () => { throw new Error('ownKeys'); } });
    const error = await expectInvalidArgument(() => client.setMetadata(objectName, unlisted), 'unlisted patch');
    assert.equal(error.message, 'metadata: must be an object whose properties can be listed');
    assert.equal(assertOk(await client.downloadAsText(objectName)), 'kept', 'the object is as it was');
    assert.equal(assertOk(await client.getMetadata(objectName)).contentType, 'text/plain', 'its metadata too');
    assert.equal(assertOk(await client.exists(destination)), false, 'nothing was copied');
  });

  it('a stream a reader already holds is InvalidArgument, and is left as it is', async () => {
    const objectName = name();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.close();
      },
    });
    const reader = stream.getReader();
    const error = await expectInvalidArgument(() => client.uploadFromBytes(objectName, stream), 'locked stream');
    assert.equal(error.message, 'contents: the stream is locked (a reader has it)');
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2, 3]), 'the reader still has its bytes');
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');
  });

  it('a detached ArrayBuffer (transferred away) holds no bytes, as its views do', async () => {
    const objectName = name();
    const buffer = new ArrayBuffer(8);
    structuredClone(buffer, { transfer: [buffer] });
    assertOk(await client.uploadFromBytes(objectName, buffer));
    assert.equal(assertOk(await client.getMetadata(objectName)).size, 0);
  });

  it('uploadFromStream and serveTo given a revoked Proxy refuse it as they refuse any non-stream, non-response', async () => {
    await expectStreamUploadInvalid(() => client.uploadFromStream(name(), revoked()), 'uploadFromStream(revoked)');
    const error = await expectInvalidArgument(() => client.serveTo(revoked(), name()), 'serveTo(revoked)');
    assert.equal(error.message, 'res must be a Node ServerResponse');
  });

  it('serve takes headers that are a revoked Proxy as no headers', async () => {
    const objectName = name();
    assertOk(await client.uploadFromText(objectName, 'served'));
    const answer = await client.serve(objectName, { method: 'GET', headers: revoked() });
    assert.deepEqual([answer.status, await answer.text()], [200, 'served']);
    const ranged = await client.serve(objectName, { method: 'GET', headers: { range: revoked() } });
    assert.deepEqual([ranged.status, await ranged.text()], [200, 'served']);
  });

  // A Proxy of a typed array or buffer passes `instanceof`, and their getters then throw on it;
  // before, the first one read ended the process.
  it('a Proxy of bytes, as contents or as a stream\'s piece, is InvalidArgument and uploads nothing', async () => {
    const objectName = name();
    for (const [label, contents] of [
      ['Uint8Array', proxied(new Uint8Array([1, 2, 3]))],
      ['Buffer', proxied(Buffer.from('abc'))],
      ['DataView', proxied(new DataView(new ArrayBuffer(3)))],
      ['ArrayBuffer', proxied(new ArrayBuffer(3))],
    ]) {
      const error = await expectInvalidArgument(() => client.uploadFromBytes(objectName, contents), label);
      assert.match(error.message, /^contents must be a string, Uint8Array/, label);
    }
    const stream = () => new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([1]));
        controller.enqueue(proxied(new Uint8Array([2])));
        controller.close();
      },
    });
    for (const [label, options] of [['in chunks', { uploadChunkSize: 262_144 }], ['streamed', {}]]) {
      const error = await expectInvalidArgument(() => new Client({ bucketId: TEST_BUCKET, ...options }).uploadFromBytes(objectName, stream()), label);
      assert.equal(error.message, 'the source stream must give bytes or strings', label);
    }
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');
  });

  // Node's Blob, web stream and AbortSignal getters answer through a Proxy (browsers', Bun's
  // and workerd's throw, and the runtimes suite checks the refusal there): here it is used.
  it('a Proxy of a Blob, a web ReadableStream or an AbortSignal works as the value it wraps', async () => {
    const objectName = name();
    assertOk(await client.uploadFromBytes(objectName, proxied(new Blob(['from a Blob']))));
    assert.equal(assertOk(await client.downloadAsText(objectName)), 'from a Blob');
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('from a stream'));
        controller.close();
      },
    });
    assertOk(await client.uploadFromBytes(objectName, proxied(stream)));
    assert.equal(assertOk(await client.downloadAsText(objectName)), 'from a stream');
    assertErr(await client.exists(objectName, { signal: proxied(AbortSignal.abort()) }), 'Aborted');
  });

  // A subclass's overrides are called (the Node layer's own FileBlob has some), and one that
  // throws, or gives a non-reader, ends the upload as LocalFile. Before, either threw inside
  // wasm: an uncaught exception, and a call that never settled.
  it('a Blob or ReadableStream subclass whose overrides throw or give a non-reader is LocalFile and uploads nothing', async () => {
    const objectName = name();
    const { OddStream, OddBlob } = hostileSubclasses();
    const ways = [['one request', {}], ['gzipped', { compress: true }], ['resumable', { resumable: true }], ['in chunks', { resumable: true, chunked: true }]];
    for (const [way, { chunked, ...options }] of ways) {
      const uploader = new Client({ bucketId: TEST_BUCKET, ...(chunked ? { uploadChunkSize: 262_144 } : {}) });
      for (const [what, contents] of [['stream', new OddStream()], ['Blob', new OddBlob(['bytes'])]]) {
        const outcome = await withTimeout(uploader.uploadFromBytes(objectName, contents, options), 5000, `${what}, ${way}`);
        assert.match(assertErr(outcome, 'LocalFile').message, /^reading the source failed: /, `${what}, ${way}`);
      }
    }
    assert.equal(assertOk(await client.exists(objectName)), false, 'nothing was uploaded');
  });
});

describe('constructor options', () => {
  it('does not throw for bad options; the first call reports InvalidArgument', async () => {
    const cases = [
      ['accessToken is a number', { bucketId: TEST_BUCKET, accessToken: 42 }],
      ['accessToken is an object', { bucketId: TEST_BUCKET, accessToken: { token: 'x' } }],
      ['bucketId is empty', { bucketId: '' }],
      ['bucketId is a number', { bucketId: 42 }],
      ['apiEndpoint is not a URL', { bucketId: TEST_BUCKET, apiEndpoint: 'not a url' }],
      ['apiEndpoint is not http(s)', { bucketId: TEST_BUCKET, apiEndpoint: 'ftp://127.0.0.1' }],
      ['apiEndpoint has credentials in it', { bucketId: TEST_BUCKET, apiEndpoint: 'http://user:pass@127.0.0.1:1' }],
      // Let through by the client's own check, refused by fetch: still not a network failure.
      ['apiEndpoint has a host URLs cannot have', { bucketId: TEST_BUCKET, apiEndpoint: 'http://a^b' }],
      ['retryStrategy is not a strategy', { bucketId: TEST_BUCKET, retryStrategy: 'sometimes' }],
      ['retryStrategy is not a string', { bucketId: TEST_BUCKET, retryStrategy: 0 }],
    ];
    for (const [label, options] of cases) {
      let badClient;
      assert.doesNotThrow(() => {
        badClient = new Client(options);
      }, `${label}: the constructor must not throw`);
      await expectInvalidArgument(() => badClient.exists(`${prefix}/x.txt`), `${label}: exists`);
      await expectInvalidArgument(() => badClient.uploadFromText(`${prefix}/x.txt`, 'x'), `${label}: uploadFromText`);
      await expectInvalidArgument(() => badClient.list(), `${label}: list`);
      assertStreamError(
        await nextStreamError(badClient.downloadAsStream(`${prefix}/x.txt`)),
        StreamRequestError,
        'InvalidArgument',
        null,
        `${label}: downloadAsStream`,
      );
    }
  });

  it('retryStrategy takes conditional, always or never, and says so', async () => {
    const error = await expectInvalidArgument(() => new Client({ bucketId: TEST_BUCKET, retryStrategy: 'Always' }).exists(`${prefix}/x.txt`), 'retryStrategy');
    assert.equal(error.message, 'retryStrategy must be "conditional", "always" or "never"');
    for (const retryStrategy of ['conditional', 'always', 'never']) {
      assert.deepEqual(await new Client({ bucketId: TEST_BUCKET, retryStrategy }).exists(`${prefix}/none.txt`), { ok: true, value: false }, retryStrategy);
    }
  });

  it('an accessToken function that returns no string is InvalidArgument', async () => {
    const apiEndpoint = await closedPortUrl();
    for (const [label, accessToken] of [
      ['a number', () => 42],
      ['a promise of null', async () => null],
      ['an empty string', () => ''],
    ]) {
      const badClient = new Client({ bucketId: TEST_BUCKET, apiEndpoint, accessToken });
      await expectInvalidArgument(() => badClient.exists(`${prefix}/x.txt`), `accessToken returning ${label}`);
    }
  });

  it('a bad sidecarEndpoint is InvalidArgument when the default bucket is needed', async () => {
    const badClient = new Client({ sidecarEndpoint: 'not a url' });
    await expectInvalidArgument(() => badClient.exists(`${prefix}/x.txt`), 'exists');
  });

  it('an endpoint with a trailing slash works', async () => {
    // An explicit apiEndpoint turns sidecar auth on: give a token so the stand-in is not asked.
    const withSlash = new Client({ bucketId: TEST_BUCKET, apiEndpoint: `${EMULATOR_URL}/`, accessToken: 'ignored-by-the-emulator' });
    const objectName = `${prefix}/trailing-slash-endpoint.txt`;
    assertOk(await withSlash.uploadFromText(objectName, 'slash'));
    assert.deepEqual(assertOk(await withSlash.downloadAsText(objectName)), 'slash');
  });

  it('the options object is optional and may be empty: such a client works', async () => {
    // With no bucketId, the default bucket comes from the sidecar (the runner's stand-in, on
    // Replit's port when it was free) and the endpoint from STORAGE_EMULATOR_HOST, as on Replit.
    const onReplitPort = process.env.SIDECAR_URL === 'http://127.0.0.1:1106';
    const clients = onReplitPort ? [new Client(), new Client({}), new Client(undefined)] : [new Client({ sidecarEndpoint: process.env.SIDECAR_URL })];
    for (const [i, client] of clients.entries()) {
      assert.deepEqual(await client.exists(`${prefix}/no-such-object.txt`), { ok: true, value: false }, `client ${i}`);
    }
  });

  it('a closed endpoint fails with Network, not InvalidArgument (the offline clients above are valid)', async () => {
    const offline = new Client({ bucketId: TEST_BUCKET, apiEndpoint: await closedPortUrl(), accessToken: 'x' });
    assertErr(await offline.exists(`${prefix}/x.txt`), 'Network', null);
  });
});
