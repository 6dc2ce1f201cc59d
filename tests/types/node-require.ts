// CommonJS setups only: `import = require`, as CommonJS TypeScript writes it.
import storage = require('replit-object-storage-wasm');

export const done: Promise<unknown> = new storage.Client().uploadFromFilename('a', 'b');
export const kind: storage.ErrorKind = 'ObjectNotFound';
