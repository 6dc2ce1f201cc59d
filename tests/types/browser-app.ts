// Browser code (a Vite or esbuild app: bundler resolution, the DOM library, no @types/node):
// the root entry gives Uint8Array and web streams with no configuration. Compiled by
// scripts/test-types.mjs with TypeScript 5.9 and 7, exactOptionalPropertyTypes on and off.
import { Client, StreamRequestError, downloadFromUrl, objectPaths, uploadToUrl, type RequestError } from 'replit-object-storage-wasm';
import { Client as WebClient } from 'replit-object-storage-wasm/web';

const client = new Client({ bucketId: document.body.dataset.bucket, accessToken: async () => (await fetch('/api/storage-token')).text() });
const flag = location.hash === '#flag';

const input = document.querySelector<HTMLInputElement>('input[type=file]');
const file = input?.files?.[0];
if (file) {
  const up = await client.uploadFromBytes(`uploads/${file.name}`, file, {
    contentType: file.type || undefined,
    onProgress: ({ loaded, total }) => console.log(total === undefined ? loaded : loaded / total),
    compress: flag ? true : undefined,
  });
  if (!up.ok) console.error(up.error.kind, up.error.message);
}

const bytes = await client.downloadAsBytes('uploads/report.pdf', { range: flag ? { suffix: 10 } : undefined });
if (bytes.ok) {
  const first: Uint8Array = bytes.value[0];
  console.log(first.byteLength, new TextDecoder().decode(first), URL.createObjectURL(new Blob([bytes.value[0]])));
  await crypto.subtle.digest('SHA-256', bytes.value[0]);
  // @ts-expect-error browsers get Uint8Array, which has no Buffer methods
  bytes.value[0].readUInt32BE(0);
}

const stream: ReadableStream<Uint8Array> = client.downloadAsStream('big.bin', { signal: flag ? AbortSignal.timeout(5000) : undefined });
// @ts-expect-error a web stream has no pipe (pipeTo and pipeThrough)
stream.pipe;
await client.uploadFromStream('copy.bin', stream).catch((error: unknown) => {
  if (error instanceof StreamRequestError) console.error(error.kind, error.getRequestError().message);
});
const reader = new WebClient({ bucketId: 'b', accessToken: 't' }).downloadAsStream('x').getReader();
for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) console.log(chunk.value.byteLength);

// @ts-expect-error objectPaths is in the server entries only (Node, Deno, Bun, Workers)
objectPaths();

export function handle(request: Request): Promise<Response> {
  // @ts-expect-error disposition is 'inline' or 'attachment'
  void client.serve('x', null, { disposition: 'download' });
  return client.serve(new URL(request.url).pathname.slice(1), request, { disposition: 'inline', cacheControl: 'no-store' });
}

export async function viaSignedUrls(url: string, upload: File, bar: HTMLProgressElement): Promise<Uint8Array | RequestError> {
  const sent = await uploadToUrl(url, upload, { headers: { 'Content-Type': upload.type }, onProgress: ({ loaded, total }) => { bar.value = total ? loaded / total : 0; } });
  if (!sent.ok) return sent.error;
  const back = await downloadFromUrl(url, { range: { suffix: 10 }, signal: AbortSignal.timeout(5000) });
  return back.ok ? back.value : back.error;
}
