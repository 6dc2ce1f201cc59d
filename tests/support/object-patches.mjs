// Metadata patches as GCS makes them, in front of fake-gcs-server. The emulator (1.54) stores a
// PATCH's fields without GCS's rules (probed with curl): it never raises `metageneration`,
// ignores `ifMetagenerationMatch`, stores "" for a custom key patched to `null`, and cannot
// clear contentType, contentDisposition or cacheControl (`null` and "" both leave them be).
//
// This proxy answers `PATCH /storage/v1/b/{b}/o/{o}` itself, as GCS does:
//   - `ifMetagenerationMatch`, `ifMetagenerationNotMatch`, `ifGenerationMatch` and
//     `ifGenerationNotMatch` are checked: unmet is 412 with GCS's error body;
//   - custom metadata is merged (keys set, keys patched to `null` removed) and stored through
//     the emulator's objects.update (`PUT`), which replaces the map whole; other fields given
//     as strings are stored the same way; a field patched to `null` is remembered as cleared;
//   - the metageneration is raised by one and `updated` set to now;
//   - the answer is the object's resource, as a GET gives it.
// Every resource the emulator sends for a patched object (metadata GETs, listing items) gets
// the patched metageneration and `updated`, and loses its cleared fields, while its generation
// is the one patched: a new generation (an upload, a copy) starts again at metageneration 1, as
// in GCS. Everything else passes through untouched and streamed; `Location` headers that point
// at the emulator are rewritten to point here, so resumable sessions come back through.
//
// Library:  const front = await startObjectPatches({ target: emulatorUrl, port });
//           front.url, front.port; await front.stop();
//
// node: built-ins only.

import http from 'node:http';
import { pipeline } from 'node:stream';

const HOST = '127.0.0.1';
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const OBJECT_PATH = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/;
const LIST_PATH = /^\/storage\/v1\/b\/([^/]+)\/o\/?$/;
/** Fields a patch sets as strings (or clears with null); output-only fields are ignored, as GCS ignores them. */
const SETTABLE = ['contentType', 'contentDisposition', 'cacheControl', 'contentEncoding', 'contentLanguage'];
const PRECONDITIONS = [
  ['ifMetagenerationMatch', 'metageneration', true],
  ['ifMetagenerationNotMatch', 'metageneration', false],
  ['ifGenerationMatch', 'generation', true],
  ['ifGenerationNotMatch', 'generation', false],
];

function gcsError(code, message, reason) {
  return JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } });
}

function withoutHopByHop(headers) {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

function readBody(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Starts the proxy in front of `target` (the emulator's base URL). */
export async function startObjectPatches({ target, port = 0, log = () => {} }) {
  const targetUrl = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** `bucket\0object` -> { generation, metageneration, updated, cleared: Set of field names } */
  const patched = new Map();
  /** `bucket\0object` -> the promise of the patch in progress, so patches of one object take turns. */
  const turns = new Map();
  let selfOrigin = null;

  const keyOf = (bucket, object) => `${bucket}\0${object}`;
  const rewriteLocation = (location) =>
    typeof location === 'string' && location.startsWith(targetUrl.origin) ? selfOrigin + location.slice(targetUrl.origin.length) : location;

  /** One request to the emulator, its answer read whole. */
  function ask(method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const upstream = http.request({ host: targetUrl.hostname, port: targetUrl.port, method, path, agent, headers: { ...headers, host: targetUrl.host } });
      upstream.on('response', async (answer) => {
        try {
          resolve({ status: answer.statusCode, headers: withoutHopByHop(answer.headers), body: await readBody(answer) });
        } catch (error) {
          reject(error);
        }
      });
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  function reply(res, status, headers, body) {
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const out = withoutHopByHop(headers);
    delete out['content-length'];
    res.writeHead(status, { ...out, 'content-length': buffer.length });
    res.end(buffer);
  }

  /** A resource as GCS would show it after the patches made here. */
  function overlay(bucket, resource) {
    if (!isPlainObject(resource) || typeof resource.name !== 'string') return resource;
    const state = patched.get(keyOf(bucket, resource.name));
    if (!state) return resource;
    if (state.generation !== String(resource.generation)) {
      patched.delete(keyOf(bucket, resource.name)); // a new generation: metageneration 1 again
      return resource;
    }
    for (const field of state.cleared) delete resource[field];
    return { ...resource, metageneration: String(state.metageneration), updated: state.updated };
  }

  /** Passes a GET through, rewriting its JSON answer with `rewrite`. */
  async function rewritten(req, res, rewrite) {
    const answer = await ask(req.method, req.url, withoutHopByHop(req.headers));
    if (answer.status !== 200) return reply(res, answer.status, answer.headers, answer.body);
    let json;
    try {
      json = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return reply(res, answer.status, answer.headers, answer.body);
    }
    reply(res, answer.status, answer.headers, JSON.stringify(rewrite(json)));
  }

  async function patch(req, res, url, bucket, object) {
    const headers = withoutHopByHop(req.headers);
    delete headers['content-length'];
    delete headers['content-type'];
    const fail = (status, message, reason) => reply(res, status, { 'content-type': 'application/json; charset=UTF-8' }, gcsError(status, message, reason));
    let changes;
    try {
      const raw = (await readBody(req)).toString('utf8');
      changes = raw.trim() ? JSON.parse(raw) : {};
    } catch {
      return fail(400, 'Invalid JSON payload received.', 'parseError');
    }
    if (!isPlainObject(changes)) return fail(400, 'Invalid JSON payload received.', 'parseError');
    const path = `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`;
    const current = await ask('GET', path, headers);
    if (current.status !== 200) return reply(res, current.status, current.headers, current.body);
    const resource = overlay(bucket, JSON.parse(current.body.toString('utf8')));
    const unmet = PRECONDITIONS.find(
      ([parameter, field, equal]) => url.searchParams.has(parameter) && (url.searchParams.get(parameter) === String(resource[field] ?? '1')) !== equal,
    );
    if (unmet) return fail(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');

    const state = patched.get(keyOf(bucket, object));
    const cleared = new Set(state?.cleared);
    const update = {};
    for (const [field, value] of Object.entries(changes)) {
      if (field === 'metadata') {
        if (value !== null && !isPlainObject(value)) return fail(400, 'Invalid value for metadata.', 'invalid');
        const merged = { ...(value === null ? {} : resource.metadata) };
        for (const [key, entry] of Object.entries(value ?? {})) {
          if (entry === null) delete merged[key];
          else if (typeof entry === 'string') merged[key] = entry;
          else return fail(400, `Invalid value for metadata.${key}.`, 'invalid');
        }
        update.metadata = merged;
      } else if (SETTABLE.includes(field)) {
        if (value === null) {
          cleared.add(field);
        } else if (typeof value === 'string') {
          cleared.delete(field);
          update[field] = value;
        } else {
          return fail(400, `Invalid value for ${field}.`, 'invalid');
        }
      }
    }
    const stored = await ask('PUT', path, { ...headers, 'content-type': 'application/json' }, JSON.stringify(update));
    if (stored.status !== 200) return reply(res, stored.status, stored.headers, stored.body);
    patched.set(keyOf(bucket, object), {
      generation: String(resource.generation),
      metageneration: Number(resource.metageneration ?? 1) + 1,
      updated: new Date().toISOString(),
      cleared,
    });
    await rewritten({ method: 'GET', url: path, headers }, res, (json) => overlay(bucket, json));
  }

  /** Runs `task` after the patches of the same object before it. */
  function inTurn(key, task) {
    const run = (turns.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.catch(() => {});
    turns.set(key, settled);
    settled.then(() => turns.get(key) === settled && turns.delete(key));
    return run;
  }

  function forward(req, res) {
    const upstream = http.request({
      host: targetUrl.hostname,
      port: targetUrl.port,
      method: req.method,
      path: req.url,
      agent,
      headers: { ...withoutHopByHop(req.headers), host: targetUrl.host },
    });
    upstream.on('response', (answer) => {
      const headers = withoutHopByHop(answer.headers);
      if (headers.location) headers.location = rewriteLocation(headers.location);
      res.writeHead(answer.statusCode, answer.statusMessage, headers);
      pipeline(answer, res, () => {});
    });
    pipeline(req, upstream, (error) => {
      if (!error) return;
      if (!res.headersSent) reply(res, 502, { 'content-type': 'application/json' }, gcsError(502, `object-patches: emulator unreachable: ${error.message}`, 'badGateway'));
      else res.destroy();
    });
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      const object = OBJECT_PATH.exec(url.pathname);
      if (req.method === 'PATCH' && object) {
        const [bucket, name] = [decodeURIComponent(object[1]), decodeURIComponent(object[2])];
        return await inTurn(keyOf(bucket, name), () => patch(req, res, url, bucket, name));
      }
      const bucket = (object ?? LIST_PATH.exec(url.pathname))?.[1];
      if (req.method === 'GET' && bucket && url.searchParams.get('alt') !== 'media' && patched.size > 0) {
        const name = decodeURIComponent(bucket);
        if (object) return await rewritten(req, res, (json) => overlay(name, json));
        return await rewritten(req, res, (json) => ({ ...json, items: json.items?.map((item) => overlay(name, item)) }));
      }
      forward(req, res);
    } catch (error) {
      log(`[object-patches] ${req.method} ${req.url}: ${error.message}`);
      if (!res.headersSent) reply(res, 502, { 'content-type': 'application/json' }, gcsError(502, error.message, 'badGateway'));
      else res.destroy();
    }
  });
  server.requestTimeout = 0; // large uploads pass through
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, resolve);
  });
  const actualPort = server.address().port;
  selfOrigin = `http://${HOST}:${actualPort}`;
  return {
    url: selfOrigin,
    port: actualPort,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
        agent.destroy();
      }),
  };
}
