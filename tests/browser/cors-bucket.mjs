// A reverse proxy that answers CORS as a GCS bucket does once its CORS configuration lists
// the response headers the client reads (see the README, "Browsers: the bucket's CORS").
// fake-gcs-server exposes only `Location`, so without this a browser cannot read the `Range`
// of a resumable upload's 308 or the `X-Goog-Hash` of a download.
//
//   const proxy = await startCorsBucket(upstreamUrl); proxy.url; await proxy.stop();

import http from 'node:http';
import { pipeline } from 'node:stream';

/** The `responseHeader` list of the recommended bucket CORS configuration. */
export const EXPOSED = [
  'Content-Length', 'Content-Range', 'Content-Type', 'Content-Encoding', 'Location', 'Range', 'ETag',
  'X-Goog-Hash', 'X-Goog-Generation', 'X-Goog-Metageneration', 'X-Goog-Stored-Content-Encoding',
  'X-Goog-Stored-Content-Length',
].join(', ');

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding']);

export async function startCorsBucket(upstreamUrl, { host = '127.0.0.1', port = 0 } = {}) {
  const upstream = new URL(upstreamUrl);
  // A connection per request: a kept-alive socket the emulator has just closed fails the next
  // request with ECONNRESET (a 502 here), which no real bucket would answer.
  const agent = new http.Agent({ keepAlive: false, maxSockets: 32 });
  let self = '';
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': req.headers['access-control-request-headers'] || '*',
        'access-control-max-age': '600',
      });
      return res.end();
    }
    const headers = { ...req.headers, host: upstream.host };
    for (const name of HOP_BY_HOP) delete headers[name];
    const forwarded = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent });
    forwarded.on('response', (answer) => {
      const out = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && !name.startsWith('access-control-')) out[name] = value;
      }
      if (typeof out.location === 'string' && out.location.startsWith(upstream.origin)) {
        out.location = self + out.location.slice(upstream.origin.length);
      }
      out['access-control-allow-origin'] = '*';
      out['access-control-expose-headers'] = EXPOSED;
      res.writeHead(answer.statusCode, out);
      pipeline(answer, res, () => {});
    });
    forwarded.on('error', (error) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' });
      res.end(`cors-bucket: upstream unreachable: ${error.message}`);
    });
    pipeline(req, forwarded, () => {});
  });
  server.requestTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  self = `http://${host}:${server.address().port}`;
  return {
    url: self,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
        agent.destroy();
      }),
  };
}
