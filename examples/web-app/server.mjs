#!/usr/bin/env node
// The server of a photo-sharing web app, in the shape Replit's generated apps have
// (server/routes.ts + objectStorage.ts + objectAcl.ts), written on this package alone:
//   POST /api/uploads          a signed PUT URL for a new object under incoming/
//                              (createUploadUrl): the browser uploads straight to storage,
//                              holding no token
//   PUT  /api/photos           after the upload: the object is checked (a picture, not too
//                              large), copied to uploads/, where no URL can write, and the
//                              uploader becomes its owner (setAclPolicy)
//   GET  /objects/uploads/:id  the object, if the policy lets this user read it (canAccess),
//                              streamed with Range, ETag and 304 support (serveTo)
// Objects live under PRIVATE_OBJECT_DIR (objectPaths()), as in the generated apps.
// "Signed in" here is a `user` cookie the page sets: a stand-in for the app's real sessions.
//
//   npm run build && npm start   (PORT; PRIVATE_OBJECT_DIR; SIDECAR_URL and GCS_API_ENDPOINT
//                                 only to point at local stand-ins instead of Replit's)

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Client, objectPaths } from 'replit-object-storage-wasm';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The signed-in user, from the page's `user` cookie (a real app reads its session). */
function userOf(req) {
  const match = /(?:^|;\s*)user=([^;]+)/.exec(req.headers.cookie ?? '');
  return match ? decodeURIComponent(match[1]) : undefined;
}

function requireUser(req, res, next) {
  req.userId = userOf(req);
  if (!req.userId) return res.status(401).json({ error: 'sign in first' });
  next();
}

/**
 * What may be uploaded: pictures a browser shows and cannot run (not SVG, which can hold
 * script). A signed URL binds only the method, the object and the expiry, so these are checked
 * on the stored object once the page says it is done.
 */
const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif'];
const MAX_PICTURE_BYTES = 20 * 1024 * 1024;

/** The status a failed storage call becomes for the browser. */
const statusOf = (error) => ({ ObjectNotFound: 404, InvalidArgument: 400, Forbidden: 403, PreconditionFailed: 409 })[error.kind] ?? 502;

/** Starts the app; resolves `{url, close()}`. */
export async function startServer({
  port = Number(process.env.PORT ?? 3000),
  host = '127.0.0.1',
  root = path.join(HERE, 'dist'),
  sidecarEndpoint = process.env.SIDECAR_URL,
  apiEndpoint = process.env.GCS_API_ENDPOINT,
} = {}) {
  const paths = objectPaths();
  if (!paths.ok) throw new Error(`object storage is not set up: ${paths.error.message}`);
  const { bucketId, prefix } = paths.value.privateDir;
  const storage = new Client({ bucketId, sidecarEndpoint, apiEndpoint });
  const under = (folder, id) => `${prefix ? `${prefix}/` : ''}${folder}/${id}`;
  const objectName = (id) => under('uploads', id);
  const incomingName = (id) => under('incoming', id);
  // What is left under incoming/ is never served (no route reads it), so a delete that fails
  // is logged, not answered; one that finds the object gone or replaced has nothing to do.
  const discard = async (name, generation) => {
    const deleted = await storage.delete(name, { ifGenerationMatch: generation });
    if (!deleted.ok && !['ObjectNotFound', 'PreconditionFailed'].includes(deleted.error.kind)) {
      console.error(`deleting ${name}: ${deleted.error.message}`);
    }
  };

  const app = express();
  app.use(express.json());

  app.post('/api/uploads', requireUser, async (req, res) => {
    const contentType = req.body?.contentType;
    if (!PICTURE_TYPES.includes(contentType)) return res.status(400).json({ error: `pictures only: ${PICTURE_TYPES.join(', ')}` });
    const id = randomUUID();
    const signed = await storage.createUploadUrl(incomingName(id), { contentType, expiresIn: 300 });
    if (!signed.ok) return res.status(statusOf(signed.error)).json({ error: signed.error.message });
    const { url, method, headers } = signed.value;
    res.json({ uploadUrl: url, method, headers, objectPath: `/objects/uploads/${id}` });
  });

  app.put('/api/photos', requireUser, async (req, res) => {
    const id = /^\/objects\/uploads\/([0-9a-f-]{36})$/.exec(req.body?.objectPath ?? '')?.[1];
    if (!id) return res.status(400).json({ error: 'objectPath must be one /api/uploads gave' });
    const visibility = req.body?.visibility === 'public' ? 'public' : 'private';
    // Whoever held the URL may have sent anything: check what was stored, then copy that very
    // generation where the URL cannot reach, so nothing sent later replaces it.
    const incoming = incomingName(id);
    const stored = await storage.getMetadata(incoming);
    if (!stored.ok) return res.status(statusOf(stored.error)).json({ error: stored.error.message });
    const { contentType, size, generation } = stored.value;
    if (!PICTURE_TYPES.includes(contentType) || size > MAX_PICTURE_BYTES) {
      await discard(incoming, generation);
      return res.status(400).json({ error: `not a picture of at most ${MAX_PICTURE_BYTES} bytes (${contentType}, ${size} bytes)` });
    }
    const copied = await storage.copy(incoming, objectName(id), { ifSourceGenerationMatch: generation, ifGenerationMatch: 0 });
    if (!copied.ok) return res.status(statusOf(copied.error)).json({ error: copied.error.message });
    await discard(incoming, generation);
    const set = await storage.setAclPolicy(objectName(id), { owner: req.userId, visibility });
    if (!set.ok) return res.status(statusOf(set.error)).json({ error: set.error.message });
    res.json({ objectPath: `/objects/uploads/${id}`, visibility });
  });

  app.get('/objects/uploads/:id', async (req, res) => {
    const name = objectName(req.params.id);
    const access = await storage.canAccess(name, { userId: userOf(req), permission: 'read' });
    if (!access.ok) return res.status(statusOf(access.error)).type('text').send(access.error.kind);
    if (!access.value) return res.status(userOf(req) ? 403 : 401).type('text').send('not allowed');
    const served = await storage.serveTo(res, name, req, { cacheControl: 'private, max-age=3600' });
    if (!served.ok && served.error.kind !== 'ObjectNotFound') console.error(`serving ${name}: ${served.error.message}`);
  });

  app.use(express.static(root));

  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error) => {
      if (error) return reject(error);
      resolve({
        url: `http://${host}:${server.address().port}`,
        close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections?.(); }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await startServer();
  console.log(`example: ${url}`);
}
