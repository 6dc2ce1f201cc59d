// The CommonJS entry point: `require` works, a round trip works through it, and it shares
// StreamRequestError with the ES module entry, so `instanceof` holds whichever way a
// program (or a dependency) loaded the package. The ./node and ./web subpaths resolve.
'use strict';

const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { after, describe, it } = require('node:test');

const storage = require('replit-object-storage-wasm');
const { Client, StreamRequestError } = storage;

const bucketId = 'test-bucket';
const prefix = `node-tests/cjs/${randomUUID()}`;

describe('require("replit-object-storage-wasm")', () => {
  const client = new Client({ bucketId });

  after(async () => {
    const listed = await client.list({ prefix: `${prefix}/` });
    if (listed.ok) await Promise.all(listed.value.map((object) => client.delete(object)));
  });

  it('exports Client and StreamRequestError as classes', () => {
    assert.equal(typeof Client, 'function');
    assert.equal(typeof StreamRequestError, 'function');
    assert.ok(new StreamRequestError({ kind: 'Unknown', message: 'm' }) instanceof Error);
  });

  it('round-trips text and bytes', async () => {
    const name = `${prefix}/hello.txt`;
    const upload = await client.uploadFromText(name, 'Hello from CommonJS');
    assert.equal(upload.ok, true, JSON.stringify(upload.error));
    assert.equal(upload.value, null);
    const text = await client.downloadAsText(name);
    assert.equal(text.ok, true, JSON.stringify(text.error));
    assert.equal(text.value, 'Hello from CommonJS');
    const bytes = await client.downloadAsBytes(name);
    assert.equal(bytes.ok, true);
    assert.ok(Buffer.isBuffer(bytes.value[0]));
    assert.equal(bytes.value[0].toString(), 'Hello from CommonJS');
    const listed = await client.list({ prefix: `${prefix}/` });
    assert.deepEqual(listed.value, [{ name }]);
  });

  it('reports a missing object with a kind', async () => {
    const result = await client.downloadAsText(`${prefix}/missing.txt`);
    assert.equal(result.ok, false);
    assert.equal(result.error.kind, 'ObjectNotFound');
    assert.equal(result.error.statusCode, 404);
  });

  it('shares StreamRequestError with the ES module entry', async () => {
    const esm = await import('replit-object-storage-wasm');
    assert.equal(esm.StreamRequestError, StreamRequestError, 'one StreamRequestError class for both entries');

    // An error made by the CommonJS client is an instance of the ESM class, and vice versa.
    const fromCjs = await new Promise((resolve, reject) => {
      const stream = client.downloadAsStream(`${prefix}/missing-stream.txt`);
      stream.on('error', resolve);
      stream.on('end', () => reject(new Error('expected an error')));
      stream.resume();
    });
    assert.ok(fromCjs instanceof esm.StreamRequestError);
    assert.equal(fromCjs.getRequestError().statusCode, 404);

    const esmClient = new esm.Client({ bucketId });
    const fromEsm = await new Promise((resolve, reject) => {
      const stream = esmClient.downloadAsStream(`${prefix}/missing-stream-2.txt`);
      stream.on('error', resolve);
      stream.on('end', () => reject(new Error('expected an error')));
      stream.resume();
    });
    assert.ok(fromEsm instanceof StreamRequestError);
  });

  it('has the same entry at ./node, and the browser build at ./web', async () => {
    assert.equal(require('replit-object-storage-wasm/node'), storage, 'require of ./node is the root entry');
    const esmNode = await import('replit-object-storage-wasm/node');
    assert.equal(esmNode.Client, Client);
    assert.equal(esmNode.objectPaths, storage.objectPaths);
    const web = await import('replit-object-storage-wasm/web');
    assert.equal(typeof web.Client, 'function');
    assert.notEqual(web.Client, Client, './web is the browser build, not the Node one');
    assert.equal('objectPaths' in web, false, 'the browser build has no objectPaths');
  });
});
