// A Cloudflare Worker (the `workerd` condition, as wrangler resolves it; no DOM, no @types/node):
// the web Client in its server build, plus objectPaths(env).
import { Client, objectPaths, type ObjectPaths } from 'replit-object-storage-wasm';

interface Env {
  BUCKET_ID: string;
  STORAGE_TOKEN: string;
  PRIVATE_OBJECT_DIR?: string;
}

export function paths(env: Env): ObjectPaths | string {
  const result = objectPaths(env);
  return result.ok ? result.value : result.error.message;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const storage = new Client({ bucketId: env.BUCKET_ID, accessToken: env.STORAGE_TOKEN });
    const found = await storage.findPublic('logo.png');
    if (found.ok && found.value) return storage.serve(found.value.objectName, request);
    const bytes = await storage.downloadAsBytes('x');
    const first: Uint8Array | undefined = bytes.ok ? bytes.value[0] : undefined;
    const stream: ReadableStream<Uint8Array> = storage.downloadAsStream('x');
    return first ? new Response(stream) : storage.serve(new URL(request.url).pathname.slice(1), request, { disposition: 'inline' });
  },
};
