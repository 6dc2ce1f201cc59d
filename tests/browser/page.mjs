// End to end: examples/browser, built by Vite with no configuration from the npm-packed
// package, served by its own server.mjs (which gets tokens from the sidecar stand-in), and
// driven in headless Chromium and headless Firefox (sessions as chromium.mjs's and
// firefox.mjs's) as a person would use it: pick a file, drop a file, see them
// listed, download one, delete one, and read the error shown when a file vanished behind
// the page's back. Storage is the auth gate (which only lets the sidecar's tokens through)
// behind a proxy that answers CORS as a configured bucket does. Screenshots are saved in
// `outDir`. One result per step a person would check.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCorsBucket } from './cors-bucket.mjs';
import { inEachBrowser, prepareExample, waitFor } from './example-app.mjs';

async function emulator(env, method, bucket, object, query = '') {
  const url = `${env.GCS_EMULATOR_URL}/storage/v1/b/${encodeURIComponent(bucket)}/o${object === undefined ? '' : `/${encodeURIComponent(object)}`}${query}`;
  return fetch(url, { method, signal: AbortSignal.timeout(10_000) });
}

/** The listed row of `file`, as an expression in the page. */
const row = (file) => `[...document.querySelectorAll('#objects tr')].find((tr) => tr.querySelector('td.name')?.textContent === ${JSON.stringify(file)})`;
/** Clicks `file`'s row's button named `label`, as an expression in the page. */
const clickIn = (file, label) => `([...${row(file)}.querySelectorAll('button')].find((button) => button.textContent === ${JSON.stringify(label)}).click(), true)`;
/** Whether `file` is listed (a boolean: a DOM node does not come back from every driver). */
const listed = (file) => `Boolean(${row(file)})`;
const statusSays = (text) => `document.querySelector('[role=status]')?.textContent.includes(${JSON.stringify(text)})`;

/**
 * Builds and serves the app once, then runs its steps in each of `browsers` (`{name,
 * session}`). One list of results per browser.
 */
export async function examplePage({ tarball, browsers, env, outDir }) {
  const appDir = path.join(outDir, 'app');
  await prepareExample('browser', appDir, tarball);
  const bucketProxy = await startCorsBucket(env.GATE_URL);
  const { startServer } = await import(pathToFileURL(path.join(appDir, 'server.mjs')).href);
  const server = await startServer({ port: 0, root: path.join(appDir, 'dist'), sidecarUrl: env.SIDECAR_URL, apiEndpoint: bucketProxy.url });
  // The file a person picks, on disk (what a file input is given).
  const picked = path.join(outDir, 'hello.txt');
  fs.writeFileSync(picked, 'hello from a person\n');
  try {
    const bucket = (await (await fetch(`${server.url}/api/config`)).json()).bucketId;
    return await inEachBrowser(browsers, 'page', outDir, (page) => steps(page, { server, bucket, picked, env }));
  } finally {
    await server.close();
    await bucketProxy.stop();
  }
}

async function steps({ session, step, shot }, { server, bucket, picked, env }) {
  // Start from an empty uploads/ folder.
  const left = await (await emulator(env, 'GET', bucket, undefined, '?prefix=uploads/')).json();
  for (const item of left.items ?? []) await emulator(env, 'DELETE', bucket, item.name);

  await step('the page loads and names the bucket', async () => {
    await session.open(server.url);
    await waitFor(
      session,
      `document.querySelector('h1')?.textContent === 'App Storage in the browser' && document.body.dataset.ready === 'true' && ` +
        `document.body.innerText.includes(${JSON.stringify(`Bucket: ${bucket}`)}) && document.body.innerText.includes('The bucket is empty')`,
      'the heading, the bucket, the ready page and "The bucket is empty"',
    );
  });

  await step('a picked file is uploaded, reported and listed', async () => {
    await session.pickFile('#file', picked);
    await waitFor(session, `${statusSays('Uploaded hello.txt')} && ${listed('hello.txt')}`, 'hello.txt reported and listed');
    const stored = await emulator(env, 'GET', bucket, 'uploads/hello.txt', '?alt=media');
    if ((await stored.text()) !== 'hello from a person\n') throw new Error('the bucket does not hold what was picked');
  });

  await step('a dropped file is uploaded and listed', async () => {
    await session.evaluate(
      `(() => { const transfer = new DataTransfer(); transfer.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' })); ` +
        `return document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true })) || true; })()`,
    );
    await waitFor(session, `${statusSays('Uploaded dropped.txt')} && ${listed('dropped.txt')}`, 'dropped.txt reported and listed');
    await session.screenshot(shot('uploaded'));
  });

  await step('Download saves the object as a file', async () => {
    const saved = await session.download(clickIn('hello.txt', 'Download'));
    if (saved.name !== 'hello.txt') throw new Error(`saved as ${saved.name}`);
    if (saved.bytes.toString('utf8') !== 'hello from a person\n') throw new Error(`the saved file holds ${JSON.stringify(saved.bytes.toString('utf8'))}`);
    await waitFor(session, statusSays('Downloaded hello.txt'), 'the status "Downloaded hello.txt"');
  });

  await step('Delete removes the object from the list and the bucket', async () => {
    await session.evaluate(clickIn('dropped.txt', 'Delete'));
    await waitFor(session, `${statusSays('Deleted dropped.txt')} && !${listed('dropped.txt')}`, 'dropped.txt reported deleted and gone from the list');
    if ((await emulator(env, 'GET', bucket, 'uploads/dropped.txt')).status !== 404) throw new Error('still in the bucket');
  });

  await step('a failure is shown as a readable error', async () => {
    await emulator(env, 'DELETE', bucket, 'uploads/hello.txt'); // gone behind the page's back
    await session.evaluate(clickIn('hello.txt', 'Download'));
    const text = await waitFor(session, `(() => { const alert = document.querySelector('[role=alert]'); return alert && !alert.hidden && alert.innerText; })()`, 'the alert');
    if (!text.includes('no longer in the bucket') || !text.includes('ObjectNotFound')) throw new Error(`the error reads: ${text}`);
    await waitFor(session, `!${listed('hello.txt')}`, 'hello.txt gone from the refreshed list');
    await session.screenshot(shot('error'));
  });
}
