#!/usr/bin/env node
// A fault-injecting reverse proxy for the tests: it sits between the client and
// fake-gcs-server (or the gate) and, on chosen requests, answers with an error status,
// resets the connection, truncates, stalls or corrupts a body. Bodies are streamed, never
// buffered whole (1 GiB uploads pass through it), except small JSON answers it needs to read.
//
// It also makes fake-gcs-server behave like GCS where the tests need it to:
//   - resumable-upload status queries (`PUT` with `Content-Range: bytes */N` and no body)
//     are answered by the proxy itself (fake-gcs-server answers them with 200 and finalises
//     a truncated object): 308 with `Range: bytes=0-(n-1)` for the n bytes the emulator has
//     confirmed (from the `Range` of its 308 answers to chunks), no Range when n is 0, and
//     200 with the object when the upload already completed. A `bytes */N` whose N equals
//     what the emulator holds is the final (empty) request of a stream upload: forwarded.
//   - a chunk that repeats bytes the emulator already holds is trimmed (fake-gcs-server
//     would append them again); a chunk that leaves a gap is refused with 400 and recorded
//     in `violations` (a client bug).
//   - `checkUploadHashes`: one-request uploads and final chunks carrying `X-Goog-Hash:
//     crc32c=...` are checked as GCS does (the emulator ignores the header); a mismatch is
//     a 400 and nothing is stored.
//   - `enforcePreconditions`: `ifGenerationMatch` on media uploads, resumable session starts,
//     copies (the destination's) and deletes, and a copy's `ifSourceGenerationMatch`, are
//     checked against the object's current generation (the emulator checks them only on
//     multipart uploads); unmet means 412, except that a delete of a missing object is left
//     to the emulator's 404 (GCS looks the object up first).
//   - session cancellation (`DELETE` of a session URI) is recorded; later requests to that
//     session get 410, as GCS gives.
//   - `Location` headers that point at the target are rewritten to point at the proxy.
//
// Library:
//   const proxy = await startFaultProxy({ target: 'http://127.0.0.1:4443' });
//   proxy.setFaults([{ kind: 'download', fault: 'resetMidBody' }]);  // replaces the rules
//   proxy.addFaults(rule...); proxy.clear(); proxy.log; proxy.sessions; await proxy.stop();
// HTTP control (same state): GET /__proxy/log, GET /__proxy/sessions, GET /__proxy/faults,
//   POST /__proxy/faults (JSON rule or array: replaces), POST /__proxy/faults/add,
//   POST /__proxy/clear (rules, log, violations).
// CLI: node tests/support/faults.mjs --target=URL [--port=N]  prints {"url": ...}.
//
// A rule: what it matches, then what it does.
//   kind       request kind (string or array), see `classify`: 'metadata', 'download',
//              'delete', 'patch', 'list', 'copy', 'bucket', 'upload-media', 'upload-multipart',
//              'resumable-start', 'resumable-chunk', 'resumable-status', 'resumable-cancel',
//              'control', 'other'
//   method     'GET', ...        path   substring of the path      query  substring of the query
//   final      true: only the last chunk of an upload (`bytes a-b/N` with b = N-1, or the
//              empty `bytes */N` that ends a stream upload); false: only other requests
//   when       (info) => boolean, on { method, url, pathname, query, headers, kind, uploadId }
//   nth        fire from the nth matching request on (1-based; earlier ones pass through)
//   times      how many times it fires (default 1; Infinity for always)
//   fault:
//     'status'              drain the request, answer `status` (default 503) with `body`
//                           (default a GCS JSON error), `headers`, `retryAfter` (seconds or
//                           a string); `echoAuthorization`: put the request's Authorization
//                           header into the message and an `x-echo-authorization` header
//     'resetBeforeResponse' drain the request (or with `forward: true`, forward it and wait
//                           for the target's answer), then reset the connection
//     'resetMidBody'        forward; send `afterBytes` of the answer body (default: half of
//                           Content-Length), then reset the connection
//     'truncate'            forward; send `afterBytes` (default: half), then close the
//                           connection cleanly (FIN), short of the Content-Length
//     'stall'               `phase: 'headers'` (default): hold the request `ms` (default:
//                           forever, until the client gives up), then forward it;
//                           `phase: 'body'`: forward, send `afterBytes` of the body, hold
//                           `ms` (default forever), then send the rest
//     'corrupt'             forward; flip the bits of `count` (default 1) bytes of the answer
//                           body from offset `at` (default: the middle); `dropHeaders`:
//                           names of answer headers to remove (e.g. ['x-goog-hash'])
//     'corruptRequest'      flip `count` request-body bytes at `at` (default: the middle)
//                           on the way to the target
//     'resetMidUpload'      read `afterBytes` of the request body (default: half of its
//                           Content-Length), forward none of it, reset the connection;
//                           `keep: true` (a resumable send): the session keeps what arrived,
//                           as GCS does, and a status query then counts it
//     'delay'               hold the request `ms`, then forward it untouched
//     'throttle'            forward, passing the request body and the answer body each at
//                           `bytesPerSecond` (default 256 KiB/s): the proxy reads no faster,
//                           so the client's socket buffers fill as on a slow link
//     'stallUpload'         forward `afterBytes` of the request body (default: half of its
//                           Content-Length, else 64 KiB), then read no more of it and never
//                           answer, as a link that stopped mid-upload
//   Any rule may also have `dropHeaders` (answer headers to remove).
//
// Each log entry: { id, method, url, kind, uploadId, fault, status, contentRange,
//   requestBytes, responseBytes, xGoogHash, note, done } (and `authorization` when the
//   proxy was started with `recordAuthorization: true`; tests that look for leaked tokens).
//
// node: built-ins only.

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const FAULTS = [
  'status',
  'resetBeforeResponse',
  'resetMidBody',
  'truncate',
  'stall',
  'corrupt',
  'corruptRequest',
  'resetMidUpload',
  'delay',
  'throttle',
  'stallUpload',
];
const RULE_KEYS = new Set([
  'kind', 'method', 'path', 'query', 'final', 'when', 'nth', 'times', 'fault', 'status', 'body', 'headers',
  'retryAfter', 'echoAuthorization', 'forward', 'afterBytes', 'phase', 'ms', 'at', 'count', 'dropHeaders', 'label',
  'bytesPerSecond', 'keep',
]);
/** How long to wait after writing the last bytes before a reset, so they reach the client. */
const FLUSH_BEFORE_RESET_MS = 25;

// ---------------------------------------------------------------------------------------------
// CRC32C (slicing by 8), for checking X-Goog-Hash the way GCS does

const CRC_TABLE = (() => {
  const table = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const previous = table[(k - 1) * 256 + n];
      table[k * 256 + n] = (previous >>> 8) ^ table[previous & 0xff];
    }
  }
  return table;
})();

/** Continues a CRC32C (`crc` = the value so far, 0 to start) over `bytes`. */
export function crc32c(bytes, crc = 0) {
  const t = CRC_TABLE;
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ c;
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32cToBase64(crc) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

function crcFromGoogHash(header) {
  if (typeof header !== 'string') return null;
  const part = header.split(',').map((p) => p.trim()).find((p) => p.startsWith('crc32c='));
  if (!part) return null;
  const bytes = Buffer.from(part.slice('crc32c='.length), 'base64');
  return bytes.length === 4 ? bytes.readUInt32BE(0) : null;
}

// ---------------------------------------------------------------------------------------------
// Requests

function gcsError(code, message, reason = 'injectedFault') {
  return JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } });
}

const STATUS_MESSAGES = {
  400: 'Bad Request',
  401: 'Invalid Credentials',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Precondition Failed',
  429: 'The rate of requests is too high (injected by the fault proxy).',
  500: 'Internal Server Error (injected by the fault proxy).',
  502: 'Bad Gateway (injected by the fault proxy).',
  503: 'Service Unavailable (injected by the fault proxy).',
  504: 'Gateway Timeout (injected by the fault proxy).',
};

// `bytes a-b/t` -> {start, end, total}; `bytes a-*/t` (the rest of an upload, streamed: its end
// is the body's) -> {start, end: null, total}; `bytes */t` (a status query) -> {start: null, end: null, total}.
export function parseContentRange(value) {
  if (typeof value !== 'string') return null;
  let m = /^\s*bytes\s+(\d+)-(\d+|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (m) return { start: Number(m[1]), end: m[2] === '*' ? null : Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
  m = /^\s*bytes\s+\*\/(\d+|\*)\s*$/i.exec(value);
  if (m) return { start: null, end: null, total: m[1] === '*' ? null : Number(m[1]) };
  return null;
}

function hasBody(headers) {
  if (headers['transfer-encoding']) return true;
  const length = Number(headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

/** What a request is, for matching rules and for the resumable-upload bookkeeping. */
export function classify(method, rawUrl, headers) {
  const url = new URL(rawUrl, 'http://proxy');
  const p = url.pathname;
  const q = url.searchParams;
  const info = {
    method,
    url: rawUrl,
    pathname: p,
    query: url.search,
    headers,
    uploadId: q.get('upload_id'),
    kind: 'other',
    bucket: null,
    object: null,
    contentRange: parseContentRange(headers['content-range']),
  };
  if (p.startsWith('/__proxy')) {
    info.kind = 'control';
    return info;
  }
  let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(p);
  if (m) {
    info.bucket = decodeURIComponent(m[1]);
    info.object = q.get('name');
    if (info.uploadId) {
      if (method === 'DELETE') info.kind = 'resumable-cancel';
      else if (method === 'PUT' && !hasBody(headers) && info.contentRange && info.contentRange.start === null) info.kind = 'resumable-status';
      else if (method === 'PUT') info.kind = 'resumable-chunk';
    } else if (method === 'POST') {
      const type = q.get('uploadType');
      info.kind = type === 'resumable' ? 'resumable-start' : type === 'multipart' ? 'upload-multipart' : 'upload-media';
    }
    return info;
  }
  m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/([^/]+)$/.exec(p);
  if (m) {
    info.kind = 'copy';
    info.bucket = decodeURIComponent(m[4]);
    info.object = decodeURIComponent(m[5]);
    info.sourceBucket = decodeURIComponent(m[1]);
    info.source = decodeURIComponent(m[2]);
    return info;
  }
  m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(p);
  if (m) {
    info.bucket = decodeURIComponent(m[1]);
    info.object = decodeURIComponent(m[2]);
    if (method === 'GET' && q.get('alt') === 'media') info.kind = 'download';
    else if (method === 'GET' || method === 'HEAD') info.kind = 'metadata';
    else if (method === 'DELETE') info.kind = 'delete';
    else if (method === 'PATCH') info.kind = 'patch';
    return info;
  }
  m = /^\/(download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p);
  if (m && method === 'GET') {
    info.kind = 'download';
    return info;
  }
  m = /^\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(p);
  if (m) {
    info.bucket = decodeURIComponent(m[1]);
    if (method === 'GET') info.kind = 'list';
    return info;
  }
  if (/^\/storage\/v1\/b\/([^/]+)\/?$/.test(p)) info.kind = 'bucket';
  return info;
}

function validateRule(rule, index) {
  const where = `fault rule ${index}`;
  if (!rule || typeof rule !== 'object' || Array.isArray(rule)) throw new TypeError(`${where}: must be an object`);
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) throw new TypeError(`${where}: unknown field ${key}`);
  }
  if (!FAULTS.includes(rule.fault)) throw new TypeError(`${where}: fault must be one of ${FAULTS.join(', ')}, got ${rule.fault}`);
  if (rule.times !== undefined && !(rule.times === Infinity || (Number.isInteger(rule.times) && rule.times >= 1))) {
    throw new TypeError(`${where}: times must be an integer >= 1 or Infinity`);
  }
  if (rule.nth !== undefined && !(Number.isInteger(rule.nth) && rule.nth >= 1)) throw new TypeError(`${where}: nth must be an integer >= 1`);
  if (rule.when !== undefined && typeof rule.when !== 'function') throw new TypeError(`${where}: when must be a function`);
  if (rule.phase !== undefined && rule.phase !== 'headers' && rule.phase !== 'body') throw new TypeError(`${where}: phase must be 'headers' or 'body'`);
  return {
    ...rule,
    method: rule.method?.toUpperCase(),
    times: rule.times ?? 1,
    remaining: rule.times ?? 1,
    seen: 0,
    fired: 0,
  };
}

function ruleMatches(rule, info) {
  if (rule.kind !== undefined) {
    const kinds = Array.isArray(rule.kind) ? rule.kind : [rule.kind];
    if (!kinds.includes(info.kind)) return false;
  }
  if (rule.method && rule.method !== info.method) return false;
  if (rule.path !== undefined && !info.pathname.includes(rule.path)) return false;
  if (rule.query !== undefined && !info.query.includes(rule.query)) return false;
  if (rule.final !== undefined) {
    const r = info.contentRange;
    const isFinal = !!r && r.total !== null && (r.start === null || r.end + 1 === r.total);
    if (rule.final !== isFinal) return false;
  }
  if (rule.when && !rule.when(info)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The proxy

/**
 * Starts the proxy in front of `target` (a base URL). Options:
 *   port (0: any free one), fixResumableStatus (default true), checkUploadHashes (false),
 *   enforcePreconditions (false), recordAuthorization (false), sinkUploads (false: see
 *   below), log (a function for diagnostics; default: silent).
 *
 * sinkUploads: uploads (one-request and resumable) end at the proxy: their bytes are counted,
 * hashed (CRC32C) and dropped, and the answers are what GCS would give (308 + Range, then the
 * object's resource with its size and crc32c), so a client can upload GiBs quickly and check
 * them without the emulator storing anything. For measuring the client, not the server;
 * `proxy.sunk` maps object names to {size, crc32c}. Everything else is forwarded.
 */
export async function startFaultProxy({
  target,
  port = 0,
  fixResumableStatus = true,
  checkUploadHashes = false,
  enforcePreconditions = false,
  recordAuthorization = false,
  sinkUploads = false,
  log: diagnostic = () => {},
} = {}) {
  if (!target) throw new TypeError('startFaultProxy: target (a base URL) is required');
  const targetUrl = new URL(target);
  const targetOrigin = targetUrl.origin;
  const targetPort = Number(targetUrl.port || 80);
  const targetHostname = targetUrl.hostname;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  let rules = [];
  const requestLog = [];
  const violations = [];
  /** upload_id -> { confirmed, total, done, resource, cancelled, crc, bucket, object, chunks } */
  const sessions = new Map();
  const sockets = new Set();
  const timers = new Set();
  let proxyUrl = null;
  let nextId = 1;
  let stopped = false;

  const later = (ms, fn) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    return timer;
  };
  const sleep = (ms) => new Promise((resolve) => later(ms, resolve));

  function takeRule(info) {
    for (const rule of rules) {
      if (rule.remaining <= 0 || !ruleMatches(rule, info)) continue;
      rule.seen++;
      if (rule.nth !== undefined && rule.seen < rule.nth) continue;
      rule.remaining--;
      rule.fired++;
      return rule;
    }
    return null;
  }

  const rewriteLocation = (location) =>
    typeof location === 'string' && location.startsWith(targetOrigin) ? proxyUrl + location.slice(targetOrigin.length) : location;

  function session(uploadId) {
    return uploadId ? sessions.get(uploadId) : undefined;
  }

  function reset(socket) {
    if (!socket || socket.destroyed) return;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  }

  /** Reads and discards a request body; resolves with its length when it ended (or died). */
  function drain(req) {
    return new Promise((resolve) => {
      let bytes = 0;
      if (req.readableEnded) return resolve(0);
      req.on('data', (chunk) => {
        bytes += chunk.length;
      });
      req.once('end', () => resolve(bytes));
      req.once('error', () => resolve(bytes));
      req.once('close', () => resolve(bytes));
      req.resume();
    });
  }

  function send(res, status, body, headers = {}) {
    if (res.destroyed || res.headersSent) return;
    const buf = Buffer.from(body ?? '', 'utf8');
    res.writeHead(status, { 'content-length': buf.length, ...headers });
    res.end(buf);
  }

  function sendJsonError(res, entry, status, message, reason, headers = {}) {
    entry.status = status;
    send(res, status, gcsError(status, message, reason), { 'content-type': 'application/json; charset=UTF-8', ...headers });
  }

  /** The generation of an object on the target, or null when it does not exist. */
  function currentGeneration(bucket, object, authorization) {
    return new Promise((resolve, reject) => {
      const headers = { host: targetUrl.host };
      if (authorization) headers.authorization = authorization;
      const upReq = http.request({
        host: targetHostname,
        port: targetPort,
        method: 'GET',
        path: `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`,
        headers,
        agent,
      });
      upReq.on('response', (upRes) => {
        const chunks = [];
        upRes.on('data', (c) => chunks.push(c));
        upRes.on('end', () => {
          if (upRes.statusCode === 404) return resolve(null);
          try {
            resolve(String(JSON.parse(Buffer.concat(chunks).toString('utf8')).generation));
          } catch (err) {
            reject(err);
          }
        });
        upRes.on('error', reject);
      });
      upReq.on('error', reject);
      upReq.end();
    });
  }

  // ---- a resumable send cut short: the session keeps the bytes that arrived, as GCS does
  function keepArrived(info, bytes) {
    const s = session(info.uploadId);
    const start = info.contentRange?.start;
    if (!s || start === null || start === undefined || start > s.confirmed) return Promise.resolve(0);
    const fresh = bytes.subarray(Math.min(bytes.length, s.confirmed - start));
    if (fresh.length === 0) return Promise.resolve(0);
    const from = s.confirmed;
    return new Promise((resolve) => {
      const upReq = http.request({
        host: targetHostname,
        port: targetPort,
        method: 'PUT',
        path: info.url,
        headers: { host: targetUrl.host, 'content-length': fresh.length, 'content-range': `bytes ${from}-${from + fresh.length - 1}/*` },
        agent,
      });
      upReq.on('response', (upRes) => {
        upRes.resume();
        const m = /^bytes=0-(\d+)$/.exec(upRes.headers.range ?? '');
        if (upRes.statusCode === 308 && m) {
          if (checkUploadHashes) s.crc = crc32c(fresh, s.crc);
          s.confirmed = Number(m[1]) + 1;
        }
        resolve(s.confirmed - from);
      });
      upReq.on('error', () => resolve(0));
      upReq.end(fresh);
    });
  }

  // ---- the answer to a status query, as GCS gives it
  async function answerStatusQuery(req, res, entry, info) {
    const s = session(info.uploadId);
    if (!s) return false; // a session we did not see start: leave it to the target
    await drain(req);
    if (s.cancelled) {
      sendJsonError(res, entry, 410, 'The upload session was cancelled.', 'gone');
      return true;
    }
    if (s.done) {
      entry.status = 200;
      entry.note = 'status query answered by the proxy: complete';
      send(res, 200, s.resource ?? '{}', { 'content-type': 'application/json; charset=UTF-8' });
      return true;
    }
    const declared = info.contentRange?.total;
    if (declared !== null && declared !== undefined && declared === s.confirmed) {
      // The final request of an upload whose size became known at its end: let the target finish it.
      entry.note = 'final empty request forwarded';
      return false;
    }
    if (declared !== null && declared !== undefined && declared < s.confirmed) {
      violations.push({ id: entry.id, uploadId: info.uploadId, problem: `declared total ${declared} < ${s.confirmed} bytes held` });
    }
    entry.status = 308;
    entry.note = `status query answered by the proxy: ${s.confirmed} bytes held`;
    const headers = { 'content-length': 0 };
    if (s.confirmed > 0) headers.range = `bytes=0-${s.confirmed - 1}`;
    if (!res.destroyed) {
      res.writeHead(308, headers);
      res.end();
    }
    return true;
  }

  async function handleControl(req, res, info) {
    const readJson = async () => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const raw = Buffer.concat(chunks).toString('utf8').trim();
      return raw ? JSON.parse(raw) : [];
    };
    const json = (status, value) => send(res, status, JSON.stringify(value), { 'content-type': 'application/json' });
    try {
      const route = `${req.method} ${info.pathname}`;
      if (route === 'GET /__proxy/log') return json(200, requestLog);
      if (route === 'GET /__proxy/sessions') return json(200, Object.fromEntries([...sessions].map(([id, s]) => [id, { ...s, resource: undefined }])));
      if (route === 'GET /__proxy/faults') return json(200, rules);
      if (route === 'GET /__proxy/violations') return json(200, violations);
      if (route === 'POST /__proxy/faults') return json(200, api.setFaults(await readJson()));
      if (route === 'POST /__proxy/faults/add') return json(200, api.addFaults(await readJson()));
      if (route === 'POST /__proxy/clear') {
        await drain(req);
        api.clear();
        return json(200, { cleared: true });
      }
      return json(404, { error: `no control endpoint ${route}` });
    } catch (err) {
      return json(400, { error: err.message });
    }
  }

  // ---- forwarding, with the faults that act on a forwarded exchange
  function forward(req, res, entry, info, rule, adjust = {}) {
    const headers = { ...req.headers, host: targetUrl.host };
    for (const h of HOP_BY_HOP) delete headers[h];
    let skip = adjust.skip ?? 0; // request-body bytes to drop (an overlap with bytes held)
    if (adjust.contentRange !== undefined) headers['content-range'] = adjust.contentRange;
    if (adjust.contentLength !== undefined) headers['content-length'] = String(adjust.contentLength);
    if (adjust.noBody) headers['content-length'] = '0';
    const bodyLength = Number(req.headers['content-length'] ?? NaN);
    if (!hasBody(req.headers) && !adjust.noBody) headers['content-length'] = headers['content-length'] ?? '0';
    if (req.headers['transfer-encoding'] && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';

    const upReq = http.request({ host: targetHostname, port: targetPort, method: req.method, path: req.url, headers, agent });
    let finished = false;
    const s = session(info.uploadId);
    const chunkRange = info.kind === 'resumable-chunk' ? info.contentRange : null;

    // Request body: trimmed, corrupted, hashed on the way; or held back when the proxy
    // checks an X-Goog-Hash before letting the target store anything.
    const corruptReq = rule?.fault === 'corruptRequest' ? rule : null;
    const expectedCrc = checkUploadHashes ? crcFromGoogHash(req.headers['x-goog-hash']) : null;
    const hashCheck = expectedCrc !== null && (info.kind === 'upload-media' || (info.kind === 'resumable-chunk' && chunkRange?.total !== null && s));
    let crc = hashCheck && info.kind === 'resumable-chunk' ? s.crc : 0;
    let offset = 0; // bytes of the (possibly trimmed) body forwarded
    const corruptAt = corruptReq ? corruptReq.at ?? Math.floor((Number.isFinite(bodyLength) ? bodyLength - skip : 2) / 2) : -1;
    const corruptCount = corruptReq?.count ?? 1;
    const held = [];
    let chunkCrc = s && !hashCheck ? s.crc : crc;
    const trackCrc = !!s && info.kind === 'resumable-chunk';
    // throttle / stallUpload: the request body read at a pace, or up to a point.
    const pace = rule?.fault === 'throttle' ? rule.bytesPerSecond ?? 256 * 1024 : null;
    const stopAt = rule?.fault === 'stallUpload' ? rule.afterBytes ?? (Number.isFinite(bodyLength) ? Math.floor(bodyLength / 2) : 65536) : null;
    let requestHolds = 0; // reasons the request body is paused (pace, target backpressure)
    const holdRequest = () => {
      if (requestHolds++ === 0) req.pause();
    };
    const releaseRequest = () => {
      if (--requestHolds === 0) req.resume();
    };

    const onRequestData = (chunk) => {
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.length);
        skip -= dropped;
        chunk = chunk.subarray(dropped);
        if (chunk.length === 0) return;
      }
      if (corruptReq && corruptAt < offset + chunk.length && corruptAt + corruptCount > offset) {
        chunk = Buffer.from(chunk);
        for (let i = Math.max(0, corruptAt - offset); i < Math.min(chunk.length, corruptAt + corruptCount - offset); i++) chunk[i] ^= 0xff;
        entry.note = `corrupted ${corruptCount} request byte(s) at ${corruptAt}`;
      }
      offset += chunk.length;
      entry.requestBytes += chunk.length;
      if (hashCheck) crc = crc32c(chunk, crc);
      else if (trackCrc && checkUploadHashes) chunkCrc = crc32c(chunk, chunkCrc);
      if (stopAt !== null && offset >= stopAt) {
        // Read no more: the client's buffers fill and its body stops moving.
        holdRequest();
        entry.note = `request body stalled after ${offset} bytes`;
      } else if (pace) {
        holdRequest();
        later((chunk.length * 1000) / pace, releaseRequest);
      }
      if (hashCheck) {
        held.push(chunk);
        return;
      }
      if (!upReq.write(chunk)) {
        holdRequest();
        upReq.once('drain', releaseRequest);
      }
    };
    const onRequestEnd = () => {
      if (hashCheck) {
        if (crc !== expectedCrc) {
          upReq.destroy();
          finished = true;
          entry.note = `X-Goog-Hash mismatch: sent ${crc32cToBase64(expectedCrc)}, received bytes hash to ${crc32cToBase64(crc)}`;
          sendJsonError(
            res,
            entry,
            400,
            `Provided CRC32C "${crc32cToBase64(expectedCrc)}" doesn't match calculated CRC32C "${crc32cToBase64(crc)}".`,
            'invalid',
          );
          return;
        }
        for (const chunk of held) upReq.write(chunk);
        held.length = 0;
      }
      upReq.end();
    };
    if (adjust.noBody || req.readableEnded) {
      upReq.end();
    } else {
      req.on('data', onRequestData);
      req.on('end', onRequestEnd);
      req.on('error', () => upReq.destroy());
    }

    res.on('close', () => {
      if (!finished) {
        upReq.destroy();
        entry.note = entry.note ?? 'client went away';
      }
    });

    upReq.on('error', (err) => {
      if (finished) return;
      finished = true;
      diagnostic(`[faults] ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent && !res.destroyed) sendJsonError(res, entry, 502, `fault proxy: target unreachable: ${err.message}`, 'badGateway');
      else reset(res.socket);
    });

    upReq.on('response', (upRes) => {
      entry.status = upRes.statusCode;
      const h = { ...upRes.headers };
      for (const k of HOP_BY_HOP) delete h[k];
      if (h.location) h.location = rewriteLocation(h.location);
      for (const name of rule?.dropHeaders ?? []) delete h[name.toLowerCase()];

      // Bookkeeping of resumable sessions, from the target's answers.
      if (info.kind === 'resumable-start' && upRes.statusCode >= 200 && upRes.statusCode < 300 && upRes.headers.location) {
        const id = new URL(upRes.headers.location, targetOrigin).searchParams.get('upload_id');
        if (id) sessions.set(id, { confirmed: 0, total: null, done: false, resource: null, cancelled: false, crc: 0, bucket: info.bucket, object: info.object, chunks: 0 });
      }
      const tracked = s && (info.kind === 'resumable-chunk' || info.kind === 'resumable-status');
      let keepBody = null;
      if (tracked) {
        if (upRes.statusCode === 308) {
          const m = /^bytes=0-(\d+)$/.exec(upRes.headers.range ?? '');
          const confirmed = m ? Number(m[1]) + 1 : 0;
          if (confirmed === (adjust.expectEnd ?? confirmed)) s.crc = chunkCrc;
          s.confirmed = confirmed;
          s.chunks++;
        } else if (upRes.statusCode >= 200 && upRes.statusCode < 300) {
          s.done = true;
          s.chunks++;
          keepBody = [];
          if (chunkRange?.total !== null && chunkRange?.total !== undefined) s.confirmed = chunkRange.total;
          else if (adjust.streamStart !== undefined) s.confirmed = adjust.streamStart + offset;
        }
      }

      const lengthHeader = Number(upRes.headers['content-length']);
      const length = Number.isFinite(lengthHeader) ? lengthHeader : null;
      // Where body faults act by default: the middle of the body; when its length is not
      // announced, the middle of its first piece.
      const half = length === null ? null : Math.floor(length / 2);
      const fault = rule?.fault;
      let cut = fault === 'resetMidBody' || fault === 'truncate' ? rule.afterBytes ?? half : null;
      let stallAt = fault === 'stall' && rule.phase === 'body' ? rule.afterBytes ?? half : null;
      let corruptAt = fault === 'corrupt' ? rule.at ?? half : null;
      const bodyFault = fault === 'resetMidBody' || fault === 'truncate' || (fault === 'stall' && rule.phase === 'body') || fault === 'corrupt';
      let placed = !bodyFault || length !== null || rule.afterBytes !== undefined || rule.at !== undefined;
      const place = (firstPiece) => {
        placed = true;
        const middle = Math.max(1, Math.floor(firstPiece / 2));
        if (fault === 'resetMidBody' || fault === 'truncate') cut = middle;
        else if (fault === 'stall') stallAt = middle;
        else corruptAt = middle;
      };
      const corruptCount = rule?.count ?? 1;

      if (fault === 'resetBeforeResponse') {
        // forward: true: the target did the work; its answer is lost.
        upRes.on('data', (chunk) => keepBody?.push(chunk));
        upRes.on('end', () => {
          if (keepBody && s) s.resource = Buffer.concat(keepBody).toString('utf8');
          finished = true;
          entry.note = 'answer dropped, connection reset';
          reset(res.socket);
        });
        return;
      }

      // Truncation keeps the framing (Content-Length, or chunked when none was given), so the
      // client can tell; a close-delimited body cut short would look complete.
      if (fault === 'truncate' && length !== null) h.connection = 'close';
      res.writeHead(upRes.statusCode, upRes.statusMessage, h);
      let sent = 0;
      let stalled = false;
      let holding = false;
      let pacing = 0; // throttle: pauses of the answer body still running
      let draining = false;

      const finishCut = () => {
        finished = true;
        upRes.destroy();
        if (!res.headersSent) res.flushHeaders();
        const socket = res.socket;
        if (fault === 'resetMidBody') {
          entry.note = `answer cut after ${sent} bytes, connection reset`;
          later(FLUSH_BEFORE_RESET_MS, () => reset(socket));
        } else {
          entry.note = `answer truncated after ${sent} of ${length ?? '?'} bytes`;
          socket?.end();
          later(1000, () => socket?.destroy());
        }
      };

      const onData = (chunk) => {
        if (finished) return;
        if (!placed) place(chunk.length);
        if (keepBody) keepBody.push(chunk);
        if (cut !== null && sent + chunk.length >= cut) {
          const part = chunk.subarray(0, cut - sent);
          sent += part.length;
          entry.responseBytes += part.length;
          upRes.pause();
          if (part.length) res.write(part, () => finishCut());
          else finishCut();
          return;
        }
        if (stallAt !== null && !stalled && sent + chunk.length >= stallAt) {
          stalled = true;
          const first = chunk.subarray(0, stallAt - sent);
          const rest = chunk.subarray(stallAt - sent);
          sent += first.length;
          entry.responseBytes += first.length;
          if (first.length) res.write(first);
          upRes.pause();
          holding = true;
          entry.note = `answer stalled after ${sent} bytes`;
          if (rule.ms !== undefined && rule.ms !== Infinity) {
            later(rule.ms, () => {
              holding = false;
              if (res.destroyed) return;
              sent += rest.length;
              entry.responseBytes += rest.length;
              if (rest.length) res.write(rest);
              if (endedWhileHolding) endResponse();
              else upRes.resume();
            });
          }
          return;
        }
        if (corruptAt !== null && corruptAt < sent + chunk.length && corruptAt + corruptCount > sent) {
          chunk = Buffer.from(chunk);
          for (let i = Math.max(0, corruptAt - sent); i < Math.min(chunk.length, corruptAt + corruptCount - sent); i++) chunk[i] ^= 0xff;
          entry.note = `corrupted ${corruptCount} answer byte(s) at ${corruptAt}`;
        }
        sent += chunk.length;
        entry.responseBytes += chunk.length;
        if (pace) {
          pacing++;
          upRes.pause();
          later((chunk.length * 1000) / pace, () => {
            if (--pacing === 0 && !holding && !draining) upRes.resume();
          });
        }
        if (!res.write(chunk)) {
          upRes.pause();
          draining = true;
          res.once('drain', () => {
            draining = false;
            if (!holding && !pacing) upRes.resume();
          });
        }
      };
      let endedWhileHolding = false;
      const endResponse = () => {
        finished = true;
        entry.done = true;
        res.end();
      };
      upRes.on('data', onData);
      upRes.on('end', () => {
        if (finished) return;
        if (keepBody && s) s.resource = Buffer.concat(keepBody).toString('utf8');
        if (cut !== null || (!placed && (fault === 'resetMidBody' || fault === 'truncate'))) {
          // The body was shorter than the cut (or empty): cut at its end.
          res.write(Buffer.alloc(0), () => finishCut());
          return;
        }
        if (holding) {
          // A stalled answer ends only when the stall does (never, when it is forever).
          endedWhileHolding = true;
          return;
        }
        endResponse();
      });
      upRes.on('error', () => {
        if (!finished) {
          finished = true;
          reset(res.socket);
        }
      });
    });
  }

  // ---- uploads that end here (sinkUploads)
  const sinkSessions = new Map();
  const sunk = new Map();
  let sinkCounter = 0;

  function sinkResource(session) {
    const generation = String(Date.now() * 1000 + (sinkCounter % 1000));
    const resource = {
      kind: 'storage#object',
      name: session.object,
      bucket: session.bucket,
      size: String(session.received),
      crc32c: crc32cToBase64(session.crc),
      generation,
      contentType: session.contentType ?? 'application/octet-stream',
    };
    sunk.set(session.object, { size: session.received, crc32c: resource.crc32c });
    return JSON.stringify(resource);
  }

  function sinkAnswer(res, entry, session) {
    if (session.done) {
      entry.status = 200;
      return send(res, 200, session.resource, { 'content-type': 'application/json; charset=UTF-8' });
    }
    entry.status = 308;
    const headers = { 'content-length': 0 };
    if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
    res.writeHead(308, headers);
    res.end();
  }

  async function sink(req, res, info) {
    const entry = {
      id: nextId++, method: req.method, url: req.url, kind: info.kind, uploadId: info.uploadId, fault: null, status: null,
      contentRange: req.headers['content-range'] ?? null, requestBytes: 0, responseBytes: 0, xGoogHash: req.headers['x-goog-hash'] ?? null,
      note: 'sink', done: false,
    };
    requestLog.push(entry);
    const rule = takeRule(info);
    if (rule) entry.fault = rule.label ?? rule.fault;
    if (rule?.fault === 'status') {
      await drain(req);
      entry.status = rule.status ?? 503;
      const headers = rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
      return send(res, entry.status, gcsError(entry.status, STATUS_MESSAGES[entry.status] ?? 'Injected fault'), { 'content-type': 'application/json', ...headers });
    }
    if (rule?.fault === 'resetBeforeResponse' || rule?.fault === 'resetMidUpload') {
      const limit = rule.fault === 'resetMidUpload' ? rule.afterBytes ?? Math.floor(Number(req.headers['content-length'] ?? 0) / 2) : Infinity;
      await new Promise((resolve) => {
        let seen = 0;
        const onData = (chunk) => {
          seen += chunk.length;
          if (seen >= limit) {
            req.removeListener('data', onData);
            req.pause();
            resolve();
          }
        };
        req.on('data', onData);
        req.once('end', resolve);
        req.once('close', resolve);
      });
      return reset(req.socket);
    }
    if (info.kind === 'resumable-start') {
      await drain(req);
      const id = `sink-${++sinkCounter}`;
      const contentType = req.headers['x-upload-content-type'];
      sinkSessions.set(id, { bucket: info.bucket, object: info.object, received: 0, crc: 0, done: false, resource: null, cancelled: false, contentType });
      entry.status = 200;
      res.writeHead(200, { 'content-length': 0, location: `${proxyUrl}${info.pathname}?uploadType=resumable&name=${encodeURIComponent(info.object)}&upload_id=${id}` });
      return res.end();
    }
    if (info.kind === 'upload-media') {
      const session = { bucket: info.bucket, object: info.object, received: 0, crc: 0, done: false, resource: null, contentType: req.headers['content-type'] };
      for await (const chunk of req) {
        session.crc = crc32c(chunk, session.crc);
        session.received += chunk.length;
        entry.requestBytes += chunk.length;
      }
      session.done = true;
      session.resource = sinkResource(session);
      return sinkAnswer(res, entry, session);
    }
    const session = sinkSessions.get(info.uploadId);
    if (!session || session.cancelled) {
      await drain(req);
      return sendJsonError(res, entry, 410, 'No such upload session.', 'gone');
    }
    if (info.kind === 'resumable-cancel') {
      await drain(req);
      session.cancelled = true;
      entry.status = 499;
      return send(res, 499, '', {});
    }
    const range = info.contentRange;
    if (info.kind === 'resumable-status' || !range || range.start === null) {
      await drain(req);
      if (range?.total !== null && range?.total !== undefined && range.total === session.received && !session.done) {
        session.done = true;
        session.resource = sinkResource(session);
      }
      return sinkAnswer(res, entry, session);
    }
    if (session.done) {
      await drain(req);
      return sinkAnswer(res, entry, session);
    }
    if (range.start !== session.received) {
      if (range.start > session.received) violations.push({ id: entry.id, uploadId: info.uploadId, problem: `chunk starts at ${range.start} but the sink holds ${session.received} bytes` });
      // Overlaps: drop what is held; gaps: refuse.
      if (range.start > session.received) {
        await drain(req);
        return sendJsonError(res, entry, 400, `chunk starts at ${range.start}, the session holds ${session.received} bytes`, 'invalid');
      }
    }
    let skip = session.received - range.start;
    let crc = session.crc;
    let received = session.received;
    let ok = true;
    try {
      for await (let chunk of req) {
        entry.requestBytes += chunk.length;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
        }
        if (chunk.length === 0) continue;
        crc = crc32c(chunk, crc);
        received += chunk.length;
      }
    } catch {
      ok = false;
    }
    // A streamed rest (`bytes N-*/total`) ends where its body does: the object is complete then.
    const streamedRest = range.end === null;
    if (!ok || (!streamedRest && received !== range.end + 1)) {
      // An incomplete chunk is not kept (GCS keeps whole 256 KiB multiples; nothing here).
      entry.note = 'sink: incomplete chunk dropped';
      if (!res.destroyed) sinkAnswer(res, entry, session);
      return;
    }
    if (streamedRest && range.total !== null && range.total !== received) {
      return sendJsonError(res, entry, 400, `the body ended at ${received} bytes of the ${range.total} declared`, 'invalid');
    }
    session.crc = crc;
    session.received = received;
    if ((range.total !== null && range.total === received) || streamedRest) {
      const expected = crcFromGoogHash(req.headers['x-goog-hash']);
      if (expected !== null && expected !== crc) {
        return sendJsonError(res, entry, 400, `Provided CRC32C "${crc32cToBase64(expected)}" doesn't match calculated CRC32C "${crc32cToBase64(crc)}".`, 'invalid');
      }
      session.done = true;
      session.resource = sinkResource(session);
    }
    return sinkAnswer(res, entry, session);
  }

  async function handle(req, res) {
    let info;
    try {
      info = classify(req.method, req.url, req.headers);
    } catch {
      return send(res, 400, 'bad request');
    }
    if (info.kind === 'control') return handleControl(req, res, info);
    if (sinkUploads && (info.kind.startsWith('resumable-') || info.kind === 'upload-media')) return sink(req, res, info);

    const entry = {
      id: nextId++,
      method: req.method,
      url: req.url,
      kind: info.kind,
      uploadId: info.uploadId,
      fault: null,
      status: null,
      contentRange: req.headers['content-range'] ?? null,
      range: req.headers.range ?? null,
      requestBytes: 0,
      responseBytes: 0,
      xGoogHash: req.headers['x-goog-hash'] ?? null,
      note: null,
      done: false,
    };
    if (recordAuthorization) entry.authorization = req.headers.authorization ?? null;
    requestLog.push(entry);

    const rule = takeRule(info);
    if (rule) entry.fault = rule.label ?? rule.fault;

    try {
      if (rule) {
        switch (rule.fault) {
          case 'status': {
            await drain(req);
            const status = rule.status ?? 503;
            const headers = { ...(rule.headers ?? {}) };
            if (rule.retryAfter !== undefined) headers['retry-after'] = String(rule.retryAfter);
            let body = rule.body;
            if (rule.echoAuthorization) {
              const auth = req.headers.authorization ?? '(none)';
              headers['x-echo-authorization'] = auth;
              headers['www-authenticate'] = `Bearer realm="fault-proxy", error="invalid_token", token="${auth}"`;
              if (body === undefined) {
                body = gcsError(status, `${STATUS_MESSAGES[status] ?? 'Error'}: the request carried "Authorization: ${auth}"`, 'authError');
              }
            }
            if (body === undefined) body = gcsError(status, STATUS_MESSAGES[status] ?? `Injected fault ${status}`);
            entry.status = status;
            send(res, status, body, { 'content-type': 'application/json; charset=UTF-8', ...headers });
            return;
          }
          case 'resetBeforeResponse':
            if (!rule.forward) {
              entry.requestBytes = await drain(req);
              entry.note = 'request read and dropped, connection reset';
              reset(req.socket);
              return;
            }
            break; // forward, then reset instead of answering
          case 'resetMidUpload': {
            const declared = Number(req.headers['content-length']);
            const limit = rule.afterBytes ?? (Number.isFinite(declared) && declared > 0 ? Math.floor(declared / 2) : 65536);
            const arrived = [];
            await new Promise((resolve) => {
              let bytes = 0;
              const done = () => {
                req.removeListener('data', onData);
                resolve();
              };
              const onData = (chunk) => {
                bytes += chunk.length;
                entry.requestBytes = bytes;
                if (rule.keep) arrived.push(chunk);
                if (bytes >= limit) {
                  req.pause();
                  done();
                }
              };
              if (limit === 0) return resolve();
              req.on('data', onData);
              req.once('end', done);
              req.once('close', done);
            });
            const kept = rule.keep ? await keepArrived(info, Buffer.concat(arrived)) : 0;
            entry.note = `request reset after ${entry.requestBytes} body bytes (${rule.keep ? `${kept} kept by the session` : 'none forwarded'})`;
            reset(req.socket);
            return;
          }
          case 'stall':
          case 'delay':
            if (rule.fault === 'delay' || rule.phase !== 'body') {
              const ms = rule.ms ?? (rule.fault === 'delay' ? 0 : Infinity);
              entry.note = ms === Infinity ? 'held until the client gave up' : `held ${ms} ms`;
              const gone = new Promise((resolve) => res.once('close', resolve));
              if (ms === Infinity) {
                await gone;
                return;
              }
              await Promise.race([sleep(ms), gone]);
              if (res.destroyed || res.writableEnded || stopped) return;
            }
            break;
          default:
            break; // forwarded, acted on below
        }
      }

      // GCS behaviour fake-gcs-server lacks.
      if (info.uploadId) {
        const s = session(info.uploadId);
        if (s?.cancelled && info.kind !== 'resumable-cancel') {
          await drain(req);
          return sendJsonError(res, entry, 410, 'The upload session was cancelled.', 'gone');
        }
        if (info.kind === 'resumable-cancel' && s) {
          s.cancelled = true;
        }
        if (fixResumableStatus && info.kind === 'resumable-status') {
          if (await answerStatusQuery(req, res, entry, info)) return;
        }
        if (fixResumableStatus && info.kind === 'resumable-chunk' && s && info.contentRange?.start !== null && info.contentRange) {
          const { start, end, total } = info.contentRange;
          if (s.done) {
            await drain(req);
            entry.status = 200;
            entry.note = 'chunk for a completed upload: answered with the object';
            return send(res, 200, s.resource ?? '{}', { 'content-type': 'application/json; charset=UTF-8' });
          }
          if (start > s.confirmed) {
            violations.push({ id: entry.id, uploadId: info.uploadId, problem: `chunk starts at ${start} but the session holds ${s.confirmed} bytes` });
            await drain(req);
            return sendJsonError(res, entry, 400, `fault proxy: chunk starts at ${start}, the session holds ${s.confirmed} bytes`, 'invalid');
          }
          if (end === null) {
            // The rest of the upload in one streamed body: what the session holds already is dropped.
            const skip = Math.max(0, s.confirmed - start);
            if (skip > 0) entry.note = `streamed rest overlaps ${skip} bytes held: trimmed`;
            return forward(req, res, entry, info, rule, {
              skip,
              contentRange: `bytes ${start + skip}-*/${total ?? '*'}`,
              streamStart: start + skip,
            });
          }
          if (start < s.confirmed) {
            if (end < s.confirmed) {
              await drain(req);
              entry.note = `chunk ${start}-${end} already held`;
              if (total !== null && total === s.confirmed) {
                // Everything is here: finish the upload.
                return forward(req, res, entry, info, rule, { noBody: true, contentRange: `bytes */${total}` });
              }
              entry.status = 308;
              if (!res.destroyed) {
                res.writeHead(308, { 'content-length': 0, range: `bytes=0-${s.confirmed - 1}` });
                res.end();
              }
              return;
            }
            const skip = s.confirmed - start;
            entry.note = `chunk overlaps ${skip} bytes held: trimmed`;
            return forward(req, res, entry, info, rule, {
              skip,
              contentRange: `bytes ${s.confirmed}-${end}/${total ?? '*'}`,
              contentLength: end - s.confirmed + 1,
              expectEnd: end + 1,
            });
          }
          return forward(req, res, entry, info, rule, { expectEnd: end + 1 });
        }
      }

      if (enforcePreconditions) {
        const query = new URL(req.url, 'http://proxy').searchParams;
        const checks = [];
        if (['upload-media', 'resumable-start', 'copy', 'delete'].includes(info.kind) && info.bucket && info.object) {
          checks.push(['ifGenerationMatch', info.bucket, info.object]);
        }
        if (info.kind === 'copy') checks.push(['ifSourceGenerationMatch', info.sourceBucket, info.source]);
        for (const [parameter, bucket, object] of checks) {
          const wanted = query.get(parameter);
          if (wanted === null) continue;
          const generation = await currentGeneration(bucket, object, req.headers.authorization);
          if (info.kind === 'delete' && generation === null) continue;
          const met = wanted === '0' ? generation === null : generation === wanted;
          if (!met) {
            await drain(req);
            entry.note = `${parameter}=${wanted}, current generation ${generation ?? 'none'}`;
            return sendJsonError(res, entry, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
          }
        }
      }

      forward(req, res, entry, info, rule);
    } catch (err) {
      diagnostic(`[faults] ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent && !res.destroyed) sendJsonError(res, entry, 500, `fault proxy error: ${err.message}`, 'proxyError');
      else reset(res.socket);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res);
  });
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err, socket) => {
    if (!socket.destroyed) socket.destroy();
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  proxyUrl = `http://${HOST}:${server.address().port}`;

  const api = {
    url: proxyUrl,
    port: server.address().port,
    target: targetOrigin,
    /** Every request seen, in order of arrival. */
    log: requestLog,
    /** Resumable sessions seen: upload_id -> { confirmed, total, done, cancelled, ... }. */
    sessions,
    /** Protocol errors of the client the proxy noticed (chunks leaving gaps, ...). */
    violations,
    /** sinkUploads: object name -> {size, crc32c} of uploads that ended at the proxy. */
    sunk,
    /** Replaces the rules; returns the live rule objects (their `fired` counts update). */
    setFaults(list) {
      rules = (Array.isArray(list) ? list : [list]).map(validateRule);
      return rules;
    },
    /** Adds rules after the current ones. */
    addFaults(...list) {
      const added = list.flat().map((rule, i) => validateRule(rule, rules.length + i));
      rules.push(...added);
      return added;
    },
    /** Removes the rules, empties the log and the violations (sessions are kept). */
    clear() {
      rules = [];
      requestLog.length = 0;
      violations.length = 0;
    },
    get rules() {
      return rules;
    },
    /** Log entries of one kind (or several). */
    requests(kind) {
      const kinds = Array.isArray(kind) ? kind : [kind];
      return requestLog.filter((entry) => kinds.includes(entry.kind));
    },
    /** The session of an upload_id found in a URL or given as is. */
    session(idOrUrl) {
      if (!idOrUrl) return undefined;
      if (sessions.has(idOrUrl)) return sessions.get(idOrUrl);
      try {
        return sessions.get(new URL(idOrUrl, 'http://proxy').searchParams.get('upload_id'));
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections?.();
      });
      agent.destroy();
    },
  };
  return api;
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  let target;
  let port = 0;
  for (const arg of argv) {
    let m;
    if ((m = /^--target=(.+)$/.exec(arg))) target = m[1];
    else if ((m = /^--port=(\d+)$/.exec(arg))) port = Number(m[1]);
    else {
      process.stderr.write('usage: node tests/support/faults.mjs --target=URL [--port=N]\n');
      process.exit(2);
    }
  }
  if (!target) {
    process.stderr.write('faults.mjs: --target=URL is required\n');
    process.exit(2);
  }
  const proxy = await startFaultProxy({ target, port, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify({ url: proxy.url, target: proxy.target })}\n`);
  const stop = async () => {
    await proxy.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}

