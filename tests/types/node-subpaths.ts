// The explicit entries, in every Node setup: /node is Node's, /web the browser's whatever the project.
import { Client as NodeClient } from 'replit-object-storage-wasm/node';
import { Client as WebClient } from 'replit-object-storage-wasm/web';

export async function explicit(): Promise<[Buffer | undefined, Uint8Array | undefined]> {
  const node = await new NodeClient().downloadAsBytes('x');
  const web = await new WebClient({ bucketId: 'b', accessToken: 't' }).downloadAsBytes('x');
  const stream: ReadableStream<Uint8Array> = new WebClient().downloadAsStream('x');
  void stream;
  // @ts-expect-error the web entry's bytes are Uint8Array, not Buffer
  const notBuffer: Buffer | undefined = web.ok ? web.value[0] : undefined;
  void notBuffer;
  return [node.ok ? node.value[0] : undefined, web.ok ? web.value[0] : undefined];
}
