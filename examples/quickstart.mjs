// A short tour of replit-object-storage-wasm: every Client method of @replit/object-storage
// once, one failure with its typed `kind`, then what a web app adds: metadata, folders,
// access policies, signed URLs, a browser-style upload to a signed URL, and serving over HTTP. Run it with `npm run demo` (which starts a local GCS emulator and
// a Replit sidecar stand-in), or inside a Repl against your real App Storage bucket.
//
// Configuration comes only from the environment, exactly as in a Repl:
//   STORAGE_EMULATOR_HOST  talk to this GCS emulator instead of storage.googleapis.com
//   the default bucket is asked of the Replit sidecar (http://127.0.0.1:1106)
//
// Exits 1 if anything did not go as shown.

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { Client, uploadToUrl } from 'replit-object-storage-wasm';

const client = new Client(); // no I/O yet: the bucket and credentials are fetched on first use

// Everything the tour makes lives under one folder, deleted at the end.
const folder = `quickstart-${randomUUID().slice(0, 8)}`;
const at = (name) => `${folder}/${name}`;
const localDir = await mkdtemp(path.join(os.tmpdir(), 'quickstart-'));
let problems = 0;

/** Prints one line, `what -> outcome`; a line marked `!` is a problem. */
function show(what, outcome, ok = true) {
  console.log(`${ok ? ' ' : '!'} ${what.padEnd(58)} -> ${outcome}`);
  if (!ok) problems++;
}

/**
 * Awaits a Result ({ok, value} or {ok, error}). On success, `check(value)` returns
 * [isAsExpected, text] for the line; on failure the error's kind, status and message show.
 */
async function step(what, resultPromise, check = () => [true, 'ok']) {
  const result = await resultPromise;
  if (!result.ok) {
    const { kind, statusCode, message } = result.error;
    show(what, `${kind}${statusCode ? ` ${statusCode}` : ''}: ${message}`, false);
    return undefined;
  }
  const [ok, text] = check(result.value);
  show(what, ok ? text : `${text} (unexpected!)`, ok);
  return result.value;
}

console.log(`Object storage tour in ${folder}/, against ${process.env.STORAGE_EMULATOR_HOST || 'Google Cloud Storage'}\n`);

const greeting = 'Hello, App Storage! 👋';
const pixel = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const csv = 'month,visitors\njan,120\nfeb,180\n';
const log = 'started\nworking\ndone\n';

// Uploads: text, bytes, a file, a stream. Each overwrites; content types come from the names.
// The first call also looks up the default bucket: if that fails, there is no point going on.
if ((await step('uploadFromText notes/hello.txt', client.uploadFromText(at('notes/hello.txt'), greeting))) !== null) {
  console.log('\nStopping: the first call failed. Outside a Repl, run `npm run demo` (or set STORAGE_EMULATOR_HOST to a GCS emulator).');
  await rm(localDir, { recursive: true, force: true });
  process.exit(1);
}

try {
  await step('uploadFromBytes images/pixel.png', client.uploadFromBytes(at('images/pixel.png'), pixel));

  const csvFile = path.join(localDir, 'visitors.csv');
  await writeFile(csvFile, csv);
  await step(
    'uploadFromFilename reports/feb.csv (gzipped)',
    client.uploadFromFilename(at('reports/feb.csv'), csvFile, { compress: true }),
  );

  try {
    // uploadFromStream resolves to undefined, or rejects with a StreamRequestError.
    await client.uploadFromStream(at('logs/today.log'), Readable.from(log.split(/(?<=\n)/)));
    show('uploadFromStream logs/today.log', 'ok');
  } catch (error) {
    show('uploadFromStream logs/today.log', `${error.kind}: ${error.message}`, false);
  }

  // Reading back, four ways.
  await step('exists notes/hello.txt', client.exists(at('notes/hello.txt')), (found) => [found === true, String(found)]);
  await step('downloadAsText notes/hello.txt', client.downloadAsText(at('notes/hello.txt')), (text) => [
    text === greeting,
    JSON.stringify(text),
  ]);
  await step('downloadAsBytes images/pixel.png', client.downloadAsBytes(at('images/pixel.png')), ([bytes]) => [
    bytes.equals(pixel),
    `[Buffer] of ${bytes.length} bytes`,
  ]);

  const downloaded = path.join(localDir, 'feb-downloaded.csv');
  if (await step('downloadToFilename reports/feb.csv', client.downloadToFilename(at('reports/feb.csv'), downloaded), () => [true, 'ok']) === null) {
    const same = (await readFile(downloaded, 'utf8')) === csv;
    show('  ...same as the file uploaded?', same ? 'yes (stored gzipped, read back plain)' : 'no', same);
  }

  try {
    let streamed = '';
    for await (const chunk of client.downloadAsStream(at('logs/today.log'))) streamed += chunk;
    show('downloadAsStream logs/today.log', streamed === log ? '3 lines' : `${JSON.stringify(streamed)} (unexpected!)`, streamed === log);
  } catch (error) {
    // Download failures arrive as a StreamRequestError 'error' event (rejecting `for await`).
    show('downloadAsStream logs/today.log', `${error.kind}: ${error.message}`, false);
  }

  // Copy, then list the folder.
  await step('copy notes/hello.txt -> notes/hello-copy.txt', client.copy(at('notes/hello.txt'), at('notes/hello-copy.txt')));
  const objects = await step(`list { prefix: '${folder}/' }`, client.list({ prefix: `${folder}/` }), (found) => [
    found.length === 5,
    `${found.length} objects`,
  ]);
  for (const object of objects ?? []) console.log(`      ${object.name}`);

  // A failure is a result, not an exception, and its `kind` says what went wrong.
  const missing = await client.downloadAsText(at('notes/missing.txt'));
  const asExpected = !missing.ok && missing.error.kind === 'ObjectNotFound' && missing.error.statusCode === 404;
  show(
    'downloadAsText notes/missing.txt',
    missing.ok
      ? 'found?!'
      : `${missing.error.kind} ${missing.error.statusCode ?? '(no status)'} ${asExpected ? '(as expected)' : '(unexpected!)'}`,
    asExpected,
  );

  // What a web app adds. Metadata: GCS's field names; a patch changes only what it names.
  await step('getMetadata images/pixel.png', client.getMetadata(at('images/pixel.png')), (meta) => [
    meta.size === pixel.length && meta.contentType === 'image/png',
    `${meta.contentType}, ${meta.size} bytes, generation ${meta.generation}`,
  ]);
  await step(
    'setMetadata images/pixel.png { cacheControl, metadata }',
    client.setMetadata(at('images/pixel.png'), { cacheControl: 'public, max-age=60', metadata: { album: 'tour' } }),
    (meta) => [meta.metadata.album === 'tour', `metageneration ${meta.metageneration}, album=${meta.metadata.album}`],
  );
  await step(`listPage { prefix: '${folder}/', delimiter: '/' }`, client.listPage({ prefix: `${folder}/`, delimiter: '/' }), (page) => [
    page.prefixes.length === 4,
    `folders ${page.prefixes.map((p) => p.slice(folder.length + 1)).join(' ')}`,
  ]);

  // Access policies, as Replit's generated objectAcl.ts keeps them (custom:aclPolicy).
  await step('setAclPolicy images/pixel.png { owner: alice }', client.setAclPolicy(at('images/pixel.png'), { owner: 'alice', visibility: 'private' }));
  await step("canAccess images/pixel.png (bob, 'read')", client.canAccess(at('images/pixel.png'), { userId: 'bob', permission: 'read' }), (allowed) => [
    allowed === false,
    allowed ? 'allowed' : 'denied',
  ]);

  // Signed URLs come from the Replit sidecar; anyone holding one needs no token.
  const signed = await step('signUrl notes/hello.txt (GET, 5 minutes)', client.signUrl(at('notes/hello.txt'), { expiresIn: 300 }), (s) => [
    s.method === 'GET',
    `expires ${s.expiresAt.toISOString()}`,
  ]);
  if (signed) {
    const text = await (await fetch(signed.url)).text();
    show('  ...plain fetch of the signed URL', JSON.stringify(text), text === greeting);
  }
  const upload = await step('createUploadUrl uploads/note.txt', client.createUploadUrl(at('uploads/note.txt'), { contentType: 'text/plain' }), (u) => [
    u.method === 'PUT',
    `PUT with ${JSON.stringify(u.headers)}`,
  ]);
  if (upload) {
    // What a page does with it (uploadToUrl is exported for browsers too, with upload progress).
    await step('  ...uploadToUrl (as a browser would)', uploadToUrl(upload.url, 'sent without a token', { headers: upload.headers }));
  }

  // Serving: a web Response with ETag, Range and conditional requests, for any framework.
  const whole = await client.serve(at('notes/hello.txt'));
  const etag = whole.headers.get('etag');
  show('serve notes/hello.txt', `${whole.status} ${whole.headers.get('content-type')}, ETag ${etag}`, whole.status === 200);
  await whole.body?.cancel();
  const again = await client.serve(at('notes/hello.txt'), { method: 'GET', headers: { 'if-none-match': etag } });
  show('  ...again with If-None-Match', `${again.status}`, again.status === 304);
  const part = await client.serve(at('notes/hello.txt'), { method: 'GET', headers: { range: 'bytes=0-4' } });
  const partText = await part.text();
  show('  ...with Range: bytes=0-4', `${part.status} ${JSON.stringify(partText)}`, part.status === 206 && partText === 'Hello');
} finally {
  // Clean up: objects from `list` can be passed straight to `delete`.
  console.log('');
  const listed = await client.list({ prefix: `${folder}/` });
  if (listed.ok) {
    for (const object of listed.value) {
      await step(`delete ${object.name.slice(folder.length + 1)}`, client.delete(object));
    }
  } else {
    show(`list { prefix: '${folder}/' }`, `${listed.error.kind}: ${listed.error.message}`, false);
  }
  await step('exists notes/hello.txt', client.exists(at('notes/hello.txt')), (found) => [found === false, String(found)]);
  await step(
    'delete notes/missing.txt { ignoreNotFound: true }',
    client.delete(at('notes/missing.txt'), { ignoreNotFound: true }),
  );
  await rm(localDir, { recursive: true, force: true });
}

console.log(problems === 0 ? '\nAll good.' : `\n${problems} step(s) did not go as expected.`);
process.exitCode = problems === 0 ? 0 : 1;
