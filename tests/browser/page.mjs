// End to end: examples/browser, built by Vite with no configuration from the npm-packed
// package, served by its own server.mjs (which gets tokens from the sidecar stand-in), and
// driven in headless Chromium as a person would use it: pick a file, drop a file, see them
// listed, download one, delete one, and read the error shown when a file vanished behind
// the page's back. Storage is the auth gate (which only lets the sidecar's tokens through)
// behind a proxy that answers CORS as a configured bucket does. Screenshots are saved in
// `outDir`. One result per step a person would check.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCorsBucket } from './cors-bucket.mjs';
import { prepareExample, stepRecorder } from './example-app.mjs';

const STEP_TIMEOUT_MS = 20_000;

async function emulator(env, method, bucket, object, query = '') {
  const url = `${env.GCS_EMULATOR_URL}/storage/v1/b/${encodeURIComponent(bucket)}/o${object === undefined ? '' : `/${encodeURIComponent(object)}`}${query}`;
  return fetch(url, { method, signal: AbortSignal.timeout(10_000) });
}


export async function examplePage({ tarball, browser, env, outDir }) {
  const { results, step } = stepRecorder('page');
  const appDir = path.join(outDir, 'app');
  await prepareExample('browser', appDir, tarball);
  const bucketProxy = await startCorsBucket(env.GATE_URL);
  const { startServer } = await import(pathToFileURL(path.join(appDir, 'server.mjs')).href);
  const server = await startServer({ port: 0, root: path.join(appDir, 'dist'), sidecarUrl: env.SIDECAR_URL, apiEndpoint: bucketProxy.url });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 900, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    const config = await (await fetch(`${server.url}/api/config`)).json();
    const bucket = config.bucketId;
    // Start from an empty uploads/ folder.
    const listed = await (await emulator(env, 'GET', bucket, undefined, '?prefix=uploads/')).json();
    for (const item of listed.items ?? []) await emulator(env, 'DELETE', bucket, item.name);
    const row = (file) => page.locator('#objects tr', { has: page.locator('td.name', { hasText: new RegExp(`^${file.replace('.', '\\.')}$`) }) });

    await step('the page loads and names the bucket', async () => {
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'App Storage in the browser' }).waitFor();
      await page.getByText(`Bucket: ${bucket}`).waitFor();
      await page.locator('body[data-ready="true"]').waitFor();
      await page.getByText('The bucket is empty').waitFor();
    });

    await step('a picked file is uploaded, reported and listed', async () => {
      await page.setInputFiles('#file', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from a person\n') });
      await page.getByRole('status').filter({ hasText: 'Uploaded hello.txt' }).waitFor();
      await row('hello.txt').waitFor();
      const stored = await emulator(env, 'GET', bucket, 'uploads/hello.txt', '?alt=media');
      if ((await stored.text()) !== 'hello from a person\n') throw new Error('the bucket does not hold what was picked');
    });

    await step('a dropped file is uploaded and listed', async () => {
      const dataTransfer = await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
        return transfer;
      });
      await page.dispatchEvent('#drop', 'drop', { dataTransfer });
      await row('dropped.txt').waitFor();
      await page.getByRole('status').filter({ hasText: 'Uploaded dropped.txt' }).waitFor();
      await page.screenshot({ path: path.join(outDir, 'page-uploaded.png') });
    });

    await step('Download saves the object as a file', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), row('hello.txt').getByRole('button', { name: 'Download' }).click()]);
      if (download.suggestedFilename() !== 'hello.txt') throw new Error(`saved as ${download.suggestedFilename()}`);
      const saved = fs.readFileSync(await download.path(), 'utf8');
      if (saved !== 'hello from a person\n') throw new Error(`the saved file holds ${JSON.stringify(saved)}`);
      await page.getByRole('status').filter({ hasText: 'Downloaded hello.txt' }).waitFor();
    });

    await step('Delete removes the object from the list and the bucket', async () => {
      await row('dropped.txt').getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('status').filter({ hasText: 'Deleted dropped.txt' }).waitFor();
      await row('dropped.txt').waitFor({ state: 'detached' });
      if ((await emulator(env, 'GET', bucket, 'uploads/dropped.txt')).status !== 404) throw new Error('still in the bucket');
    });

    await step('a failure is shown as a readable error', async () => {
      await emulator(env, 'DELETE', bucket, 'uploads/hello.txt'); // gone behind the page's back
      await row('hello.txt').getByRole('button', { name: 'Download' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = await alert.innerText();
      if (!text.includes('no longer in the bucket') || !text.includes('ObjectNotFound')) throw new Error(`the error reads: ${text}`);
      await row('hello.txt').waitFor({ state: 'detached' }); // and the list was refreshed
      await page.screenshot({ path: path.join(outDir, 'page-error.png') });
    });

    await step('the page raised no uncaught errors', async () => {
      if (pageErrors.length) throw new Error(pageErrors.join('; '));
    });
  } finally {
    await context.close();
    await server.close();
    await bucketProxy.stop();
  }
  return results;
}
