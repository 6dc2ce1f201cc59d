#!/usr/bin/env node
// The example page's server (node: built-ins only): serves the built page from dist/ and
// two routes the page needs, because a browser cannot reach the Replit sidecar:
//   GET /api/config          {bucketId, apiEndpoint?}: the Repl's default bucket (or BUCKET_ID)
//   GET /api/storage-token   {access_token, expires_in}: a short-lived Google token, got from
//                            the sidecar the way the Node client gets its own (RFC 8693)
// The token lets whoever holds it do anything to the bucket for up to an hour: in a real
// app, answer /api/storage-token only to signed-in users you trust with the bucket.
//
//   npm run build && npm start          (PORT, SIDECAR_URL, BUCKET_ID, GCS_API_ENDPOINT)

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.wasm': 'application/wasm' };
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/devstorage.full_control';

async function sidecarJson(sidecarUrl, route, init) {
  const response = await fetch(`${sidecarUrl}${route}`, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`sidecar ${route} answered ${response.status}`);
  return response.json();
}

/** A fresh access token from the sidecar: its subject token exchanged at /token. */
async function storageToken(sidecarUrl) {
  const { access_token: subject } = await sidecarJson(sidecarUrl, '/credential');
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: 'replit',
    scope: SCOPE,
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token: subject,
    subject_token_type: 'access_token',
  });
  const { access_token, expires_in } = await sidecarJson(sidecarUrl, '/token', { method: 'POST', body: form });
  return { access_token, expires_in };
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/** Starts the server; resolves `{url, close()}`. */
export function startServer({
  port = Number(process.env.PORT ?? 3000),
  host = '127.0.0.1',
  root = path.join(HERE, 'dist'),
  sidecarUrl = process.env.SIDECAR_URL ?? 'http://127.0.0.1:1106',
  bucketId = process.env.BUCKET_ID,
  apiEndpoint = process.env.GCS_API_ENDPOINT,
} = {}) {
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    try {
      if (pathname === '/api/config') {
        const bucket = bucketId ?? (await sidecarJson(sidecarUrl, '/object-storage/default-bucket')).bucketId;
        return send(res, 200, { bucketId: bucket, apiEndpoint });
      }
      if (pathname === '/api/storage-token') return send(res, 200, await storageToken(sidecarUrl));
      const file = path.join(root, pathname === '/' ? 'index.html' : decodeURIComponent(pathname));
      if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'not found', 'text/plain');
      return send(res, 200, fs.readFileSync(file), TYPES[path.extname(file)] ?? 'application/octet-stream');
    } catch (error) {
      return send(res, 502, { error: error.message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const url = `http://${host}:${server.address().port}`;
      resolve({ url, close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections?.(); }) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await startServer();
  console.log(`example: ${url}`);
}
