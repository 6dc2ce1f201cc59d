// Serving objects over HTTP: `serveTo` into node:http and Express responses, and `serve`'s web
// Response (over node:http, and called with a `Request`), each answer's status, headers and
// bytes checked exactly against the object's metadata, as the npm `send` package answers. Then
// what only a real connection shows: downloads pinned to one generation, failures as short 5xx
// answers without the token, a client that goes away (the download stops), and backpressure
// (a slow reader of a large object does not make the server hold it in memory).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { brotliCompressSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import express from 'express';
import { Client } from 'replit-object-storage-wasm';

import { wholePngHeaders } from '../runtimes/suite.mjs';
import { startFaultProxy } from '../support/faults.mjs';
import {
  EMULATOR_URL,
  TEST_BUCKET,
  assertErr,
  assertOk,
  closedPortUrl,
  emulatorDeletePrefix,
  emulatorUpload,
  makeTempDir,
  removeDir,
  revoked,
  sha256,
  throwingGetter,
  uniquePrefix,
  withTimeout,
} from './helpers.mjs';

const fromExpress = createRequire(import.meta.resolve('express'));
// Express's own dependencies: the header its res.attachment() writes, and the file server
// behind express.static and res.sendFile, which serve answers as.
const contentDispositionPackage = fromExpress('content-disposition');
const send = fromExpress('send');
const contentDisposition = contentDispositionPackage.create ?? contentDispositionPackage;

const prefix = uniquePrefix('serving');
const MiB = 1 << 20;
const PHOTO = `${prefix}/photos/cat.png`;
const photo = randomBytes(300_001);
let client;
let meta;
/** The headers of a whole answer for PHOTO. */
let whole;

/** Headers the HTTP stack adds, which are not serve's. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-powered-by']);

function ours(headers) {
  return Object.fromEntries([...headers].filter(([name]) => !TRANSPORT.has(name)));
}

/** Starts a node:http server; resolves `{url, close}`. */
async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

const objectOf = (url) => decodeURIComponent(new URL(url, 'http://x').pathname.replace(/^\/o\//, ''));

/** The four ways an app serves: each turns a request into `{status, headers, body}`. */
const fronts = [
  {
    name: 'serveTo on node:http',
    async start(options) {
      const results = [];
      const server = await listen(async (req, res) => results.push(await client.serveTo(res, objectOf(req.url), req, options)));
      return { ...server, results };
    },
  },
  {
    name: 'serveTo on Express',
    async start(options) {
      const results = [];
      const app = express();
      app.use('/o', async (req, res) => results.push(await client.serveTo(res, decodeURIComponent(req.path.slice(1)), req, options)));
      const server = await listen(app);
      return { ...server, results };
    },
  },
  {
    name: 'serve over node:http',
    async start(options) {
      const server = await listen(async (req, res) => {
        const response = await client.serve(objectOf(req.url), req, options);
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (response.body) Readable.fromWeb(response.body).pipe(res);
        else res.end();
      });
      return { ...server, results: [] };
    },
  },
  {
    name: 'serve with a Request',
    async start(options) {
      return {
        url: 'http://app.invalid',
        results: [],
        close: async () => {},
        direct: (request) => client.serve(objectOf(request.url), request, options),
      };
    },
  },
];

/**
 * One request through a front: `{status, headers (ours only), body}`. Over HTTP with node:http,
 * not fetch, so that the request carries exactly the headers a rule sets (fetch adds
 * `Cache-Control: no-cache` and `Pragma` to any request with a validator).
 */
async function ask(front, path, { method = 'GET', headers = {} } = {}) {
  if (front.direct) {
    const response = await front.direct(new Request(`${front.url}${path}`, { method, headers }));
    return { status: response.status, headers: ours(response.headers), body: Buffer.from(await response.arrayBuffer()) };
  }
  return new Promise((resolve, reject) => {
    const request = http.request(`${front.url}${path}`, { method, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: ours(Object.entries(response.headers)), body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const at = (name) => `/o/${encodeURIComponent(name)}`;

before(async () => {
  client = new Client({ bucketId: TEST_BUCKET });
  assertOk(await client.uploadFromBytes(PHOTO, photo, { contentType: 'image/png' }));
  meta = assertOk(await client.getMetadata(PHOTO));
  whole = wholePngHeaders(meta);
});

after(async () => {
  await emulatorDeletePrefix(TEST_BUCKET, `${prefix}/`);
});

const text = (status, message, extra = {}) => ({
  status,
  headers: {
    'content-length': String(Buffer.byteLength(message)),
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...extra,
  },
  body: message,
});

/** Each rule: a request and the exact answer (`body`: bytes, text, or '' for none). */
const rules = () => {
  const size = photo.length;
  const lastModified = whole['last-modified'];
  const dayBefore = new Date(Date.parse(lastModified) - 86_400_000).toUTCString();
  const partial = (start, end) => ({
    status: 206,
    headers: { ...whole, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${size}` },
    body: photo.subarray(start, end + 1),
  });
  const full = { status: 200, headers: whole, body: photo };
  const notModified = {
    status: 304,
    headers: { 'accept-ranges': 'bytes', 'cache-control': whole['cache-control'], etag: whole.etag, 'last-modified': lastModified },
    body: '',
  };
  return [
    ['GET: the whole object with send\'s headers', {}, full],
    ['HEAD: the same headers, no body', { method: 'HEAD' }, { ...full, body: '' }],
    ['Range first-last: 206 with exactly those bytes', { headers: { range: 'bytes=1000-1999' } }, partial(1000, 1999)],
    ['Range open-ended: 206 to the end', { headers: { range: `bytes=${size - 7}-` } }, partial(size - 7, size - 1)],
    ['Range suffix: 206 with the last bytes', { headers: { range: 'bytes=-10' } }, partial(size - 10, size - 1)],
    ['Range past the end: clipped', { headers: { range: `bytes=${size - 2}-${size + 50}` } }, partial(size - 2, size - 1)],
    ['HEAD with Range: the Range ignored (RFC 9110 §14.2)', { method: 'HEAD', headers: { range: 'bytes=0-0' } }, { ...full, body: '' }],
    ['an unsatisfiable Range: 416 with bytes */size', { headers: { range: `bytes=${size}-` } }, text(416, 'Range Not Satisfiable', { 'content-range': `bytes */${size}` })],
    ['a malformed Range: the whole object', { headers: { range: 'bytes=1-x' } }, full],
    ['a Range whose last byte is before its first: 416', { headers: { range: 'bytes=9-2' } }, text(416, 'Range Not Satisfiable', { 'content-range': `bytes */${size}` })],
    ['several separate ranges: the whole object', { headers: { range: 'bytes=0-1,5-6' } }, full],
    ['touching ranges combine into one 206', { headers: { range: 'bytes=0-4,5-9' } }, partial(0, 9)],
    ['If-None-Match with the ETag: 304', { headers: { 'if-none-match': whole.etag } }, notModified],
    ['If-None-Match with another ETag: 200', { headers: { 'if-none-match': '"other"' } }, full],
    ['If-Modified-Since Last-Modified: 304', { headers: { 'if-modified-since': lastModified } }, notModified],
    ['If-Modified-Since the day before: 200', { headers: { 'if-modified-since': dayBefore } }, full],
    ['If-None-Match with the ETag and Cache-Control: no-cache: 304 (RFC 9110 §13.1.2)', { headers: { 'if-none-match': whole.etag, 'cache-control': 'no-cache' } }, notModified],
    ['If-Match another ETag: 412', { headers: { 'if-match': '"other"' } }, text(412, 'Precondition Failed')],
    ['If-Match the ETag: 200', { headers: { 'if-match': whole.etag } }, full],
    ['If-Unmodified-Since the day before: 412', { headers: { 'if-unmodified-since': dayBefore } }, text(412, 'Precondition Failed')],
    ['If-Range with the ETag: the range', { headers: { range: 'bytes=0-99', 'if-range': whole.etag } }, partial(0, 99)],
    ['If-Range with another ETag: the whole object', { headers: { range: 'bytes=0-99', 'if-range': '"other"' } }, full],
    ['If-Range with Last-Modified: the whole object (a date is no strong validator, RFC 9110 §8.8.2.2)', { headers: { range: 'bytes=0-99', 'if-range': lastModified } }, full],
    ['If-Range with an older date: the whole object', { headers: { range: 'bytes=0-99', 'if-range': dayBefore } }, full],
    ['POST: 405', { method: 'POST' }, text(405, 'Method Not Allowed', { allow: 'GET, HEAD' })],
  ];
};

for (const front of fronts) {
  describe(front.name, () => {
    let server;
    before(async () => {
      server = await front.start();
    });
    after(async () => {
      await server.close();
    });

    it('answers every HTTP rule exactly', async () => {
      for (const [title, request, expected] of rules()) {
        const answer = await ask(server, at(PHOTO), request);
        assert.equal(answer.status, expected.status, `${title}: status`);
        assert.deepEqual(answer.headers, expected.headers, `${title}: headers`);
        assert.deepEqual(answer.body, Buffer.from(expected.body), `${title}: body`);
      }
    });

    it('answers a missing object 404', async () => {
      const answer = await ask(server, at(`${prefix}/no-such.png`));
      const expected = text(404, 'Not Found');
      assert.deepEqual([answer.status, answer.headers, answer.body.toString()], [404, expected.headers, 'Not Found']);
      if (server.results.length) assertErr(server.results.at(-1), 'ObjectNotFound', 404);
    });

    it('resolves ok for the answers that are the object', async () => {
      if (!server.results.length) return;
      server.results.length = 0;
      await ask(server, at(PHOTO), { headers: { range: 'bytes=0-1' } });
      assert.deepEqual(server.results, [{ ok: true, value: null }]);
    });
  });
}

describe('beside send (express.static) serving the same bytes', () => {
  let dir;
  let sendServer;
  let ourServer;
  before(async () => {
    dir = await makeTempDir();
    const file = path.join(dir, 'cat.png');
    await writeFile(file, photo);
    const modified = new Date(whole['last-modified']);
    await utimes(file, modified, modified);
    sendServer = await listen((req, res) => send(req, file).pipe(res));
    ourServer = await listen((req, res) => client.serveTo(res, PHOTO, req));
  });
  after(async () => {
    await sendServer.close();
    await ourServer.close();
    await removeDir(dir);
  });

  /** A request whose validators are each server's own: `(validators) => request`. */
  const size = photo.length;
  const dayBefore = () => new Date(Date.parse(whole['last-modified']) - 86_400_000).toUTCString();
  const requests = [
    ['GET', () => ({})],
    ['HEAD', () => ({ method: 'HEAD' })],
    ['a range', () => ({ headers: { range: 'bytes=10-99' } })],
    ['an open range', () => ({ headers: { range: `bytes=${size - 3}-` } })],
    ['a suffix', () => ({ headers: { range: 'bytes=-77' } })],
    ['a range past the end, clipped', () => ({ headers: { range: `bytes=5-${size * 2}` } })],
    ['an unsatisfiable range', () => ({ headers: { range: `bytes=${size}-${size + 9}` } })],
    ['touching ranges', () => ({ headers: { range: 'bytes=0-9,10-19' } })],
    ['overlapping ranges', () => ({ headers: { range: 'bytes=0-9,5-19' } })],
    ['separate ranges', () => ({ headers: { range: 'bytes=0-9,20-29' } })],
    ['a range with its last byte first', () => ({ headers: { range: 'bytes=9-2' } })],
    ['one good range, one backwards', () => ({ headers: { range: 'bytes=0-5,9-2' } })],
    ['a malformed range', () => ({ headers: { range: 'bytes=abc' } })],
    ['a range with a trailing comma', () => ({ headers: { range: 'bytes=0-5,' } })],
    ['another unit', () => ({ headers: { range: 'items=0-5' } })],
    ['If-None-Match: the ETag', (own) => ({ headers: { 'if-none-match': own.etag } })],
    ['If-None-Match: *', () => ({ headers: { 'if-none-match': '*' } })],
    ['If-None-Match: another', () => ({ headers: { 'if-none-match': '"nope"' } })],
    ['If-Modified-Since: Last-Modified', (own) => ({ headers: { 'if-modified-since': own['last-modified'] } })],
    ['If-Modified-Since: the day before', () => ({ headers: { 'if-modified-since': dayBefore() } })],
    ['If-Modified-Since: not a date', () => ({ headers: { 'if-modified-since': 'yesterday' } })],
    ['If-Match: another', () => ({ headers: { 'if-match': '"nope"' } })],
    ['If-Match: *', () => ({ headers: { 'if-match': '*' } })],
    ['If-Unmodified-Since: the day before', () => ({ headers: { 'if-unmodified-since': dayBefore() } })],
    ['If-Unmodified-Since: Last-Modified', (own) => ({ headers: { 'if-unmodified-since': own['last-modified'] } })],
    ['If-Range: the ETag', (own) => ({ headers: { range: 'bytes=0-9', 'if-range': own.etag } })],
    ['If-Range: another ETag', () => ({ headers: { range: 'bytes=0-9', 'if-range': '"nope"' } })],
    ['If-Range: the day before', () => ({ headers: { range: 'bytes=0-9', 'if-range': dayBefore() } })],
  ];

  /** What can be compared: the status, the body, and the object's headers by name. */
  const comparable = (answer) => ({
    status: answer.status,
    body: answer.status < 400 ? sha256(answer.body) : '(an error page)',
    names: answer.status < 400 ? Object.keys(answer.headers).sort() : [],
    contentRange: answer.headers['content-range'],
    contentLength: answer.status < 400 ? answer.headers['content-length'] : undefined,
  });

  it('gives the same status, headers and bytes to every request', async () => {
    const theirs = (await ask(sendServer, '/')).headers;
    const mine = (await ask(ourServer, '/')).headers;
    assert.equal(theirs['last-modified'], mine['last-modified']);
    for (const [title, make] of requests) {
      const expected = comparable(await ask(sendServer, '/', make(theirs)));
      const actual = comparable(await ask(ourServer, '/', make(mine)));
      assert.deepEqual(actual, expected, title);
    }
  });

  it('differs where RFC 9110 says otherwise: the unit, If-Range dates, If-Match, no-cache, HEAD ranges', async () => {
    const theirs = (await ask(sendServer, '/')).headers;
    const mine = (await ask(ourServer, '/')).headers;
    const later = new Date(Date.parse(theirs['last-modified']) + 86_400_000).toUTCString();
    const weak = (etag) => (etag.startsWith('W/') ? etag.slice(2) : `W/${etag}`);
    for (const [title, make, sendStatus, ourStatus] of [
      ['a range unit in capitals (units are case-insensitive)', () => ({ headers: { range: 'Bytes=0-9' } }), 200, 206],
      ['If-Range with a later date', () => ({ headers: { range: 'bytes=0-9', 'if-range': later } }), 206, 200],
      ['If-Range with Last-Modified (a date may stand for two versions within its second)', (own) => ({ headers: { range: 'bytes=0-9', 'if-range': own['last-modified'] } }), 206, 200],
      ['If-Match with the other strength of the ETag (If-Match compares strongly)', (own) => ({ headers: { 'if-match': weak(own.etag) } }), 200, 412],
      ['If-None-Match with Cache-Control: no-cache (an origin MUST answer 304)', (own) => ({ headers: { 'if-none-match': own.etag, 'cache-control': 'no-cache' } }), 200, 304],
      ['HEAD with a range (only a GET has ranges)', () => ({ method: 'HEAD', headers: { range: 'bytes=0-0' } }), 206, 200],
    ]) {
      assert.equal((await ask(sendServer, '/', make(theirs))).status, sendStatus, `send: ${title}`);
      assert.equal((await ask(ourServer, '/', make(mine))).status, ourStatus, `serve: ${title}`);
    }
  });
});

describe('options and request shapes', () => {
  it('sends Content-Disposition as the content-disposition package writes it', async () => {
    for (const [options, expected] of [
      [{ disposition: 'attachment' }, contentDisposition('cat.png')],
      [{ disposition: 'inline' }, contentDisposition('cat.png', { type: 'inline' })],
      [{ filename: '写真 2024.png' }, contentDisposition('写真 2024.png')],
      [{ filename: 'reports/Q1 "final".pdf', disposition: 'inline' }, contentDisposition('Q1 "final".pdf', { type: 'inline' })],
      [{ filename: '100%25.txt' }, contentDisposition('100%25.txt')],
    ]) {
      const response = await client.serve(PHOTO, undefined, options);
      assert.equal(response.headers.get('content-disposition'), expected, JSON.stringify(options));
      await response.body.cancel();
    }
    assert.equal(contentDisposition('写真 2024.png'), "attachment; filename=\"?? 2024.png\"; filename*=UTF-8''%E5%86%99%E7%9C%9F%202024.png");
    assert.equal(contentDisposition('cat.png'), 'attachment; filename=cat.png');
  });

  it('writes an ASCII fallback beside filename*, as the package does', async () => {
    for (const filename of ['café.png', '😀 smile.png', 'tab\there.txt', "ü!#$&'()*+,;=~.txt"]) {
      const response = await client.serve(PHOTO, null, { filename });
      assert.equal(response.headers.get('content-disposition'), contentDisposition(filename), filename);
      await response.body.cancel();
    }
  });

  it('changes the ETag when the content or the metadata changes, so old validators no longer match', async () => {
    const name = `${prefix}/changing.txt`;
    assertOk(await client.uploadFromText(name, 'first'));
    const first = await client.serve(name);
    const firstEtag = first.headers.get('etag');
    await first.body.cancel();
    assertOk(await client.uploadFromText(name, 'second'));
    const replaced = await client.serve(name, { headers: { 'if-none-match': firstEtag } });
    const replacedEtag = replaced.headers.get('etag');
    assert.deepEqual([replaced.status, await replaced.text()], [200, 'second']);
    assert.notEqual(replacedEtag, firstEtag);
    assertOk(await client.setMetadata(name, { cacheControl: 'no-store' }));
    const patched = await client.serve(name, { headers: { 'if-none-match': replacedEtag } });
    assert.deepEqual([patched.status, patched.headers.get('cache-control'), await patched.text()], [200, 'no-store', 'second']);
    const current = assertOk(await client.getMetadata(name));
    assert.equal(patched.headers.get('etag'), `"${current.generation}-${current.metageneration}"`);
    assert.notEqual(patched.headers.get('etag'), replacedEtag);
  });

  it('takes Cache-Control from the option, then the object', async () => {
    const name = `${prefix}/cached.txt`;
    assertOk(await client.uploadFromText(name, 'hello', { cacheControl: 'private, max-age=60' }));
    const stored = await client.serve(name);
    assert.deepEqual([stored.status, stored.headers.get('cache-control'), stored.headers.get('content-type'), await stored.text()], [200, 'private, max-age=60', 'text/plain', 'hello']);
    const given = await client.serve(name, null, { cacheControl: 'no-store' });
    assert.equal(given.headers.get('cache-control'), 'no-store');
    await given.body.cancel();
  });

  it('reads headers from a Headers, a plain object in any case, or Node arrays', async () => {
    for (const headers of [new Headers({ Range: 'bytes=0-3' }), { RANGE: 'bytes=0-3' }, { range: ['bytes=0-3'] }]) {
      const response = await client.serve(PHOTO, { method: 'get', headers });
      assert.equal(response.status, 206);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), photo.subarray(0, 4));
    }
    const conditional = await client.serve(PHOTO, { headers: { 'If-None-Match': ['"x"', whole.etag] } });
    assert.equal(conditional.status, 304);
  });

  it('answers a name no object can have 404, and bad options 500, never rejecting', async () => {
    const bad = await client.serve('..');
    assert.deepEqual([bad.status, await bad.text()], [404, 'Not Found']);
    // A lone surrogate is not served as the object named with U+FFFD in its place.
    const lookalike = `${prefix}/lookalike-\ufffd.txt`;
    assertOk(await client.uploadFromText(lookalike, 'not this one'));
    const surrogate = await client.serve(`${prefix}/lookalike-\ud800.txt`);
    assert.deepEqual([surrogate.status, await surrogate.text()], [404, 'Not Found']);
    const options = await client.serve(PHOTO, null, { disposition: 'download' });
    assert.deepEqual([options.status, await options.text()], [500, 'Internal Server Error']);
    assertErr(await client.serveTo({}, PHOTO), 'InvalidArgument');
  });

  it('serveTo refuses options that throw when read with InvalidArgument and a 500, never rejecting', async () => {
    const cases = [
      ['revoked', revoked, /must be an object/],
      ['a throwing signal getter', () => throwingGetter('signal'), /`signal` must be an AbortSignal/],
      ['a throwing disposition getter', () => throwingGetter('disposition'), /`disposition` must be/],
    ];
    for (const [label, options, message] of cases) {
      let settled;
      const server = await listen((req, res) => {
        settled = client.serveTo(res, PHOTO, req, options());
      });
      try {
        const response = await fetch(server.url);
        assert.deepEqual([response.status, await response.text()], [500, 'Internal Server Error'], label);
        const error = assertErr(await withTimeout(settled, 10_000, label), 'InvalidArgument');
        assert.match(error.message, message, label);
      } finally {
        await server.close();
      }
    }
  });

  // Before, serveTo rejected with Node's ERR_INVALID_CHAR (unhandled, that ends a node:http
  // server) and left the download open; serve rejected inside `new Response`, answering 500.
  it('answers 502 for stored metadata no runtime can send as a header, never rejecting or dropping it', async () => {
    const name = `${prefix}/report-beyond-latin1.pdf`;
    assertOk(await client.uploadFromBytes(name, Buffer.alloc(300_000, 1), { contentDisposition: 'inline; filename="Отчёт.pdf"' }));
    let settled;
    const server = await listen((req, res) => {
      settled = client.serveTo(res, name, req);
    });
    try {
      const response = await fetch(server.url);
      assert.deepEqual([response.status, response.headers.get('content-disposition'), await response.text()], [502, null, 'Bad Gateway']);
      const error = assertErr(await withTimeout(settled, 10_000, 'serveTo'), 'Unknown');
      assert.match(error.message, /cannot be sent as its Content-Disposition header/);
    } finally {
      await server.close();
    }
    const served = await client.serve(name, new Request('http://app.invalid/'));
    assert.deepEqual([served.status, served.headers.get('content-disposition'), await served.text()], [502, null, 'Bad Gateway']);
    const head = await client.serve(name, { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('content-disposition')], [502, null]);
  });

  it('serves an empty object and gzip- and br-stored ones (whole, decoded, no length, no ranges)', async () => {
    const empty = `${prefix}/empty.bin`;
    assertOk(await client.uploadFromBytes(empty, new Uint8Array(0)));
    const none = await client.serve(empty, { headers: { range: 'bytes=-5' } });
    assert.deepEqual([none.status, none.headers.get('content-length'), (await none.arrayBuffer()).byteLength], [200, '0', 0]);
    const gzipped = `${prefix}/gzip.txt`;
    const words = 'compressible '.repeat(5000);
    assertOk(await client.uploadFromText(gzipped, words, { compress: true }));
    const served = await client.serve(gzipped, { headers: { range: 'bytes=0-9' } });
    assert.deepEqual(
      [served.status, served.headers.get('content-length'), served.headers.get('accept-ranges'), served.headers.get('content-encoding')],
      [200, null, 'none', null],
    );
    assert.equal(await served.text(), words);
    // Stored br-encoded by another writer: served as stored (GCS transcodes gzip only), so a
    // range would be of the encoded bytes.
    const brotli = `${prefix}/brotli.txt`;
    await emulatorUpload(TEST_BUCKET, brotli, brotliCompressSync(words), 'text/plain', 'br');
    for (const headers of [{ range: 'bytes=0-9' }, {}]) {
      const decoded = await client.serve(brotli, { headers });
      assert.deepEqual(
        [decoded.status, decoded.headers.get('content-length'), decoded.headers.get('accept-ranges'), decoded.headers.get('content-encoding')],
        [200, null, 'none', null],
        JSON.stringify(headers),
      );
      assert.equal(await decoded.text(), words, JSON.stringify(headers));
    }
  });
});

describe('builds without serve', () => {
  it('resolve a 501 Response saying so (the web layer over a core that has no serve)', async () => {
    // The browser build leaves server features out of the .wasm; js/web/client.mjs serves Workers too.
    const clientModule = new URL('../web/client.mjs', import.meta.resolve('replit-object-storage-wasm'));
    const { defineClient } = await import(clientModule);
    const { Client: WebClient } = defineClient(() => ({ Core: class {}, toRequestError: (error) => error }));
    const response = await new WebClient({ bucketId: TEST_BUCKET, accessToken: 't' }).serve(PHOTO, new Request('http://app.invalid/'));
    assert.equal(response.status, 501);
    assert.equal(response.headers.get('content-type'), 'text/plain;charset=UTF-8');
    assert.equal(await response.text(), 'serve is not in the browser build: call it on your server');
    // A build with serve, but a client that cannot run (no bucketId in a browser or Worker): 500.
    const { Client: ServerClient } = defineClient(() => ({ Core: class { serve() {} }, toRequestError: (error) => error }));
    const unconfigured = await new ServerClient({}).serve(PHOTO);
    assert.deepEqual([unconfigured.status, await unconfigured.text()], [500, 'Internal Server Error']);
  });
});

describe('downloads, failures and connections', () => {
  let proxy;
  let viaProxy;
  before(async () => {
    proxy = await startFaultProxy({ target: EMULATOR_URL });
    viaProxy = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 't', retryInitialDelayMs: 10, retryMaxDelayMs: 20 });
  });
  after(async () => {
    await proxy.stop();
  });

  it('downloads the generation whose metadata made the headers, and reads again when it changed', async () => {
    proxy.clear();
    const response = await viaProxy.serve(PHOTO, { headers: { range: 'bytes=5-9' } });
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), photo.subarray(5, 10));
    const download = proxy.log.find((entry) => entry.kind === 'download');
    assert.match(download.url, new RegExp(`[?&]ifGenerationMatch=${meta.generation}(&|$)`));
    // The object changed between its metadata and its download (GCS answers 412): read again.
    proxy.clear();
    proxy.setFaults({ kind: 'download', fault: 'status', status: 412 });
    const again = await viaProxy.serve(PHOTO);
    assert.equal(again.status, 200);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), photo);
    assert.deepEqual(proxy.log.map((entry) => [entry.kind, entry.status]), [['metadata', 200], ['download', 412], ['metadata', 200], ['download', 200]]);
  });

  it('answers failures with a short 5xx that never holds the token', async () => {
    const token = 'ya29.serving-secret-token';
    const once = (options) => new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: token, maxRetries: 0, ...options });
    const cases = [
      [{ kind: 'metadata', fault: 'status', status: 500, echoAuthorization: true }, {}, 502, 'Bad Gateway', 'ServerError'],
      [{ kind: 'metadata', fault: 'status', status: 429 }, {}, 503, 'Service Unavailable', 'TooManyRequests'],
      [{ kind: 'metadata', fault: 'stall' }, { requestTimeoutMs: 300 }, 504, 'Gateway Timeout', 'Timeout'],
      [{ kind: 'metadata', fault: 'status', status: 401 }, {}, 502, 'Bad Gateway', 'Unauthorized'],
    ];
    const results = [];
    try {
      for (const [fault, options, status, message, kind] of cases) {
        proxy.clear();
        proxy.setFaults(fault);
        const direct = await once(options).serve(PHOTO);
        assert.deepEqual([direct.status, await direct.text()], [status, message], JSON.stringify(fault));
        proxy.clear();
        proxy.setFaults(fault);
        const nodeServer = await listen(async (req, res) => results.push(await once(options).serveTo(res, PHOTO, req)));
        const answer = await fetch(nodeServer.url);
        const body = await answer.text();
        await nodeServer.close();
        assert.deepEqual([answer.status, body], [status, message]);
        assert.ok(!body.includes(token) && ![...answer.headers.values()].some((value) => value.includes(token)));
        const error = assertErr(results.at(-1), kind);
        assert.ok(!error.message.includes(token), error.message);
      }
      const unreachable = await new Client({ bucketId: TEST_BUCKET, apiEndpoint: await closedPortUrl(), accessToken: token, maxRetries: 0 }).serve(PHOTO);
      assert.deepEqual([unreachable.status, await unreachable.text()], [502, 'Bad Gateway']);
    } finally {
      proxy.clear();
    }
  });

  it('destroys the response and returns the error when the download fails after the headers', async () => {
    const once = new Client({ bucketId: TEST_BUCKET, apiEndpoint: proxy.url, accessToken: 't', maxRetries: 0 });
    for (const [fault, kind] of [[{ kind: 'download', fault: 'resetMidBody' }, 'Network'], [{ kind: 'download', fault: 'corrupt' }, 'IntegrityMismatch']]) {
      proxy.clear();
      proxy.setFaults(fault);
      let resolveResult;
      const result = new Promise((resolve) => {
        resolveResult = resolve;
      });
      const server = await listen(async (req, res) => resolveResult(await once.serveTo(res, PHOTO, req)));
      try {
        const response = await fetch(server.url);
        assert.equal(response.status, 200, fault.fault);
        await assert.rejects(response.arrayBuffer(), `${fault.fault}: the client sees a cut connection, not a short file`);
        assertErr(await withTimeout(result, 10_000, 'serveTo'), kind);
      } finally {
        await server.close();
      }
    }
    proxy.clear();
  });

  it('stops the download when the client goes away, and resolves Aborted', async () => {
    const name = `${prefix}/large-abort.bin`;
    await emulatorUpload(TEST_BUCKET, name, randomBytes(32 * MiB));
    proxy.clear();
    let resolveResult;
    const result = new Promise((resolve) => {
      resolveResult = resolve;
    });
    const server = await listen(async (req, res) => resolveResult(await viaProxy.serveTo(res, name, req)));
    try {
      await new Promise((resolve, reject) => {
        const request = http.get(server.url, (response) => {
          assert.equal(response.statusCode, 200);
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (error) => (error.code === 'ECONNRESET' ? resolve() : reject(error)));
      });
      assertErr(await withTimeout(result, 10_000, 'serveTo after the client left'), 'Aborted');
      // The download's own connection was closed before its end.
      const download = proxy.log.find((entry) => entry.kind === 'download');
      await withTimeout(
        (async () => {
          while (download.note !== 'client went away') await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        5000,
        'the download connection closing',
      );
      assert.equal(download.done, false);
      assert.ok(download.responseBytes < 32 * MiB, `${download.responseBytes} bytes went through`);
    } finally {
      await server.close();
    }
  });

  it('streams with backpressure: a paused reader holds the download back', async () => {
    const name = `${prefix}/large-slow.bin`;
    const data = randomBytes(48 * MiB);
    await emulatorUpload(TEST_BUCKET, name, data);
    proxy.clear();
    const server = await listen(async (req, res) => assertOk(await viaProxy.serveTo(res, name, req)));
    try {
      const rssBefore = process.memoryUsage().rss;
      const received = await new Promise((resolve, reject) => {
        http.get(server.url, (response) => {
          response.pause();
          setTimeout(async () => {
            const download = proxy.log.find((entry) => entry.kind === 'download');
            const held = download.responseBytes;
            const rssHeld = process.memoryUsage().rss - rssBefore;
            try {
              assert.ok(held < 16 * MiB, `the download ran ${held} bytes ahead of a reader that read nothing`);
              assert.ok(rssHeld < 24 * MiB, `RSS grew ${rssHeld} bytes while the reader was paused`);
              const chunks = [];
              response.on('data', (chunk) => chunks.push(chunk));
              response.on('end', () => resolve(Buffer.concat(chunks)));
              response.resume();
            } catch (error) {
              reject(error);
            }
          }, 1500);
        }).on('error', reject);
      });
      assert.equal(sha256(received), sha256(data));
    } finally {
      await server.close();
    }
  });
});
