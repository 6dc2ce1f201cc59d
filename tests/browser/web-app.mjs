// End to end: examples/web-app, the shape of Replit's generated web apps, built by Vite from
// the npm-packed package and driven in headless Chromium and headless Firefox (sessions as
// chromium.mjs's and firefox.mjs's) as a person would use it: pick a file, watch the progress
// bar, see the file shown through the app's server. Behind it: a
// signed upload URL from the sidecar stand-in (the browser PUTs to the gate, which checks the
// signature as GCS does, holding no token), an access policy in the object's metadata, and
// serveTo with Range support. One result per step a person (or the app's owner) would check.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inEachBrowser, prepareExample, waitFor } from './example-app.mjs';

const PRIVATE_PREFIX = '.private';
/** A 1x1 PNG, then 3 MiB after its IEND chunk (browsers ignore it): enough for real progress. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const PICTURE = Buffer.concat([PNG_1X1, Buffer.alloc(3 << 20, 7)]);

async function emulator(env, bucket, object, query = '') {
  const url = `${env.GCS_EMULATOR_URL}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}${query}`;
  return fetch(url, { signal: AbortSignal.timeout(10_000) });
}

/** Runs `fn` with these environment variables set (the example reads them as a Repl has them). */
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * Builds and serves the app once, then runs its steps in each of `browsers` (`{name,
 * session}`), each browser uploading a picture of its own. One list of results per browser.
 */
export async function webAppPage({ tarball, browsers, env, outDir }) {
  const appDir = path.join(outDir, 'app');
  await prepareExample('web-app', appDir, tarball, ['express']);
  const bucket = (await (await fetch(`${env.SIDECAR_URL}/object-storage/default-bucket`)).json()).bucketId;
  const { startServer } = await import(pathToFileURL(path.join(appDir, 'server.mjs')).href);
  // As inside a Repl: storage through the sidecar's tokens (the gate refuses anything else).
  const server = await withEnv({ PRIVATE_OBJECT_DIR: `/${bucket}/${PRIVATE_PREFIX}`, STORAGE_EMULATOR_HOST: undefined }, () =>
    startServer({ port: 0, root: path.join(appDir, 'dist'), sidecarEndpoint: env.SIDECAR_URL, apiEndpoint: env.GATE_URL }),
  );
  // The picture a person picks, as a file on disk (what a file input is given).
  const picture = path.join(outDir, 'cat.png');
  fs.writeFileSync(picture, PICTURE);
  try {
    return await inEachBrowser(browsers, 'web-app', outDir, (page) => steps(page, { server, bucket, picture, env }));
  } finally {
    await server.close();
  }
}

async function steps({ session, step, shot }, { server, bucket, picture, env }) {
  let objectPath;
  await step('the page loads and names the signed-in user', async () => {
    await session.open(`${server.url}/?user=alice`);
    await waitFor(
      session,
      `document.querySelector('h1')?.textContent === 'Photo drop' && document.body.dataset.ready === 'true' && document.body.innerText.includes('Signed in as alice')`,
      'the heading, the ready page and the signed-in user',
    );
  });

  await step('a picked picture uploads with a moving progress bar', async () => {
    await session.pickFile('#file', picture);
    await waitFor(session, `document.querySelector('#status').textContent.includes('Uploaded cat.png (private)')`, 'the status "Uploaded cat.png (private)"');
    const { value, events, href } = await session.evaluate(
      `({ value: document.querySelector('#progress').value, events: document.querySelector('#progress').dataset.events, href: document.querySelector('#link').getAttribute('href') })`,
    );
    if (Number(value) !== 1) throw new Error(`the bar ends at ${value}, not full`);
    if (Number(events) < 2) throw new Error(`only ${events} progress event(s) for 3 MiB: upload progress is not real`);
    objectPath = href;
    if (!/^\/objects\/uploads\/[0-9a-f-]{36}$/.test(objectPath ?? '')) throw new Error(`the page links ${objectPath}`);
  });

  const objectName = () => `${PRIVATE_PREFIX}/uploads/${objectPath.split('/').pop()}`;

  await step('storage holds the bytes with their type and the owner in the access policy', async () => {
    const stored = await emulator(env, bucket, objectName(), '?alt=media');
    if (!Buffer.from(await stored.arrayBuffer()).equals(PICTURE)) throw new Error('the bucket does not hold what was picked');
    const meta = await (await emulator(env, bucket, objectName())).json();
    if (meta.contentType !== 'image/png') throw new Error(`stored as ${meta.contentType}`);
    const policy = JSON.parse(meta.metadata?.['custom:aclPolicy'] ?? 'null');
    if (policy?.owner !== 'alice' || policy?.visibility !== 'private') throw new Error(`policy ${JSON.stringify(policy)}`);
  });

  await step('the picture is shown through the app server', async () => {
    const width = await waitFor(
      session,
      `(() => { const image = document.querySelector('#image'); return !document.querySelector('#shown').hidden && image.complete && image.naturalWidth; })()`,
      'the picture shown',
    );
    if (width !== 1) throw new Error(`the image decoded to width ${width}`);
    await session.screenshot(shot('uploaded'));
  });

  await step('the owner gets ranges and 304s; others are refused', async () => {
    const asUser = (user, headers = {}) => fetch(`${server.url}${objectPath}`, { headers: { ...(user ? { cookie: `user=${user}` } : {}), ...headers } });
    const whole = await asUser('alice');
    if (whole.status !== 200 || whole.headers.get('content-type') !== 'image/png') throw new Error(`owner: ${whole.status} ${whole.headers.get('content-type')}`);
    if (Number(whole.headers.get('content-length')) !== PICTURE.length) throw new Error(`content-length ${whole.headers.get('content-length')}`);
    await whole.arrayBuffer();
    const etag = whole.headers.get('etag');
    const part = await asUser('alice', { range: 'bytes=0-7' });
    const head = Buffer.from(await part.arrayBuffer());
    if (part.status !== 206 || !head.equals(PICTURE.subarray(0, 8))) throw new Error(`range: ${part.status}, ${head.toString('hex')}`);
    if (part.headers.get('content-range') !== `bytes 0-7/${PICTURE.length}`) throw new Error(`content-range ${part.headers.get('content-range')}`);
    // A page's own conditional fetch: fetch adds `Cache-Control: no-cache` to it, which send
    // answers in full but RFC 9110 (and so serve) with a 304.
    const again = await asUser('alice', { 'if-none-match': etag });
    if (again.status !== 304) throw new Error(`a revalidation answered ${again.status}`);
    const other = await asUser('bob');
    if (other.status !== 403) throw new Error(`another user got ${other.status}`);
    const anonymous = await asUser(undefined);
    if (anonymous.status !== 401) throw new Error(`an anonymous visitor got ${anonymous.status}`);
  });

  // A signed URL binds only the method, the object and the expiry: its holder can PUT anything.
  await step('what is not a picture is refused, even when sent with a picture upload URL', async () => {
    const api = (method, route, body) =>
      fetch(`${server.url}${route}`, { method, headers: { cookie: 'user=mallory', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const asked = await api('POST', '/api/uploads', { contentType: 'text/html' });
    if (asked.status !== 400) throw new Error(`a URL for text/html: ${asked.status}`);
    const target = await (await api('POST', '/api/uploads', { contentType: 'image/png' })).json();
    const html = '<script>alert(document.cookie)</script>';
    const sent = await fetch(target.uploadUrl, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: html });
    if (sent.status !== 200) throw new Error(`the PUT with another type answered ${sent.status}`);
    const id = target.objectPath.split('/').pop();
    const incoming = `${PRIVATE_PREFIX}/incoming/${id}`;
    if ((await (await emulator(env, bucket, incoming)).json()).contentType !== 'text/html') throw new Error('the gate did not store the HTML');
    const done = await api('PUT', '/api/photos', { objectPath: target.objectPath, visibility: 'public' });
    if (done.status !== 400) throw new Error(`the app accepted it: ${done.status}`);
    if ((await emulator(env, bucket, incoming)).status !== 404) throw new Error('the refused upload was kept');
    if ((await emulator(env, bucket, `${PRIVATE_PREFIX}/uploads/${id}`)).status !== 404) throw new Error('it reached uploads/');
    const served = await fetch(`${server.url}${target.objectPath}`, { headers: { cookie: 'user=mallory' } });
    if (served.status !== 404) throw new Error(`it is served: ${served.status}`);
  });
}
