// Node code as it is written for @replit/object-storage, with only the import changed, plus
// this package's additions. Compiled by scripts/test-types.mjs in every Node setup (nodenext
// ESM and CommonJS, bundler, commonjs/node10; TypeScript 5.9 and 7; exactOptionalPropertyTypes
// on and off; @types/node of today and of Node 18), so no top-level await. The @ts-expect-error lines fail if a type were `any`.
import { Client, StreamRequestError, downloadFromUrl, objectPaths, uploadToUrl, type ErrorKind, type RequestError } from 'replit-object-storage-wasm';
import { webcrypto } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const client = new Client({ bucketId: process.env.BUCKET });
const flag = process.argv.includes('--flag');
const careful = new Client({ bucketId: process.env.BUCKET, retryStrategy: flag ? 'always' : undefined });
// @ts-expect-error retryStrategy is 'conditional', 'always' or 'never'
new Client({ retryStrategy: 'sometimes' });

export async function bytesAndText(): Promise<string> {
  const { ok, value, error } = await client.downloadAsBytes('photo.png');
  if (!ok) return `${error.kind}: ${error.message} (${error.statusCode ?? 'no status'})`;
  const buffer: Buffer = value[0];
  // @ts-expect-error a Buffer is not a string
  const notText: string = value[0];
  void notText;
  const ranged = await client.downloadAsBytes('photo.png', {
    range: flag ? { suffix: 100 } : { start: 0, end: process.env.END ? Number(process.env.END) : undefined },
    onProgress: flag ? ({ loaded, total }) => console.log(loaded, total ?? '?') : undefined,
    signal: flag ? AbortSignal.timeout(5000) : undefined,
  });
  // @ts-expect-error {start, end} and {suffix} exclude each other
  await client.downloadAsBytes('photo.png', { range: { start: 0, suffix: 10 } });
  const text = await client.downloadAsText('notes.txt', { decompress: flag ? true : undefined });
  await webcrypto.subtle.digest('SHA-256', value[0]);
  const blob = new Blob([value[0]]);
  return `${blob.size} ${buffer.toString('base64')} ${buffer.readUInt32BE(0)} ${ranged.ok ? ranged.value[0].length : 0} ${text.ok ? text.value : text.error.kind}`;
}

export async function uploads(local: string): Promise<ErrorKind | null> {
  const results = await Promise.all([
    client.uploadFromBytes('copy.png', Buffer.from('hello'), { compress: flag ? true : undefined, contentType: process.env.TYPE }),
    client.uploadFromText('notes.txt', 'Hello!', { metadata: flag ? { owner: 'me' } : undefined, ifGenerationMatch: flag ? 0 : undefined }),
    client.uploadFromFilename('report.pdf', local, { resumable: flag || undefined, cacheControl: undefined }),
    client.downloadToFilename('report.pdf', `${local}.copy`),
    client.copy('notes.txt', 'notes-copy.txt', { ifGenerationMatch: flag ? 0 : undefined, ifSourceGenerationMatch: process.env.GEN }),
    careful.delete('notes-copy.txt', { ignoreNotFound: flag ? true : undefined, ifGenerationMatch: process.env.GEN }),
  ]);
  for (const result of results) if (!result.ok) return result.error.kind;
  return null;
}

export async function streams(): Promise<void> {
  client
    .downloadAsStream('big.bin', { decompress: flag ? false : undefined })
    .on('error', (error) => console.error(error.kind, error.getRequestError().statusCode, error.message))
    .pipe(process.stdout);
  const stream: Readable = client.downloadAsStream('big.bin');
  stream.once('error', (error: StreamRequestError) => console.error(error.getRequestError().kind));
  await pipeline(client.downloadAsStream('big.bin'), createWriteStream('/tmp/big.bin'));
  try {
    await client.uploadFromStream('up.bin', client.downloadAsStream('big.bin'), { contentLength: flag ? 10 : undefined });
  } catch (error) {
    if (error instanceof StreamRequestError) console.error(error.kind, error.getRequestError().message);
  }
}

export async function listing(): Promise<string[]> {
  const names: string[] = [];
  const all = await client.list({ prefix: process.env.PREFIX, maxResults: flag ? 10 : undefined });
  if (all.ok) for (const object of all.value) names.push(object.name);
  const detailed = await client.list({ withMetadata: true, matchGlob: '**/*.png' });
  if (detailed.ok) for (const object of detailed.value) names.push(`${object.name} ${object.size ?? 0}`);
  let pageToken: string | undefined;
  do {
    const page = await client.listPage({ prefix: 'avatars/', delimiter: '/', pageToken });
    if (!page.ok) break;
    names.push(...page.value.prefixes, ...page.value.objects.map((object) => object.name));
    pageToken = page.value.nextPageToken;
  } while (pageToken);
  const exists = await client.exists('notes.txt');
  return exists.ok && exists.value ? names : [];
}

export async function metadata(): Promise<RequestError | string> {
  const meta = await client.getMetadata('avatars/u1.png');
  if (!meta.ok) return meta.error;
  const updated = await client.setMetadata('avatars/u1.png', { cacheControl: null, metadata: { reviewed: 'yes', draft: null } }, { ifMetagenerationMatch: meta.value.metageneration });
  return updated.ok ? updated.value.metageneration ?? '' : updated.error;
}

createServer(async (req, res) => {
  const served = await client.serveTo(res, 'x', req, { filename: 'a.txt', signal: AbortSignal.timeout(1000) });
  const failed: ErrorKind | undefined = served.ok ? undefined : served.error.kind;
  const web: Response = await client.serve('x', { method: req.method, headers: req.headers });
  res.setHeader('x-kind', failed ?? web.status);
});

/** `process.env` as @types/node 18.19 and 24.0 declare it: an index signature, and no property in common with the two variables. */
interface ProcessEnvOfOlderTypes {
  [key: string]: string | undefined;
  TZ?: string;
}
declare const olderProcessEnv: ProcessEnvOfOlderTypes;

export async function replitEnvironment(): Promise<string | undefined> {
  const paths = flag ? objectPaths(process.env) : objectPaths(olderProcessEnv);
  if (!paths.ok) return paths.error.message;
  const found = await client.findPublic('logo.png');
  const signed = await client.signUrl('x', { method: 'PUT', expiresIn: 60 });
  const put: { url: string; method: 'PUT'; expiresAt: Date } | undefined = signed.ok ? signed.value : undefined;
  const upload = await client.createUploadUrl('x', { contentType: 'image/png' });
  if (upload.ok) await uploadToUrl(upload.value.url, Buffer.from('x'), { headers: upload.value.headers });
  const fetched = await downloadFromUrl('https://example.com/o', { range: { start: 0, end: 9 } });
  const bytes: Buffer | undefined = fetched.ok ? fetched.value : undefined;
  const policy = await client.canAccess('x', { userId: process.env.USER_ID, permission: 'read', isMember: async () => true });
  return `${paths.value.privateDir.bucketId} ${found.ok ? found.value?.objectName : ''} ${put?.url} ${bytes?.toString('utf8')} ${policy.ok && policy.value}`;
}
