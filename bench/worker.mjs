// One measurement in a fresh process: one client, one scenario. Started by bench/run.mjs;
// reads its job from $BENCH_JOB (JSON) and prints one line `BENCH_RESULT <json>` on stdout.
//
// Clients:  ours    replit-object-storage-wasm, imported from js/node/index.mjs
//           anchor  @replit/object-storage 1.0.0, required (CommonJS) so that
//                   bench/anchor-preload.cjs can give @google-cloud/storage its apiEndpoint
//           fetch   bare global fetch against the GCS JSON API (the floor)
//
// Nothing heavy is imported at the top: the cold-start scenario times the client's import.

const job = JSON.parse(process.env.BENCH_JOB || '{}');
const MiB = 1024 * 1024;

function emit(result) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

function procStatus() {
  // Lazily required: cold start must not pay for it.
  const text = globalThis.__benchFs.readFileSync('/proc/self/status', 'utf8');
  const kib = (key) => Number((new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text) || [])[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

/** Resets VmHWM to the current RSS (Linux >= 4.0); false where that is not allowed. */
function resetPeak() {
  try {
    globalThis.__benchFs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function describe(error) {
  if (error instanceof Error) {
    const out = { name: error.name, message: error.message };
    if (typeof error.getRequestError === 'function') out.requestError = error.getRequestError();
    if (error.cause) out.cause = String(error.cause?.stack || error.cause);
    out.stack = error.stack;
    return out;
  }
  return { message: typeof error === 'object' ? JSON.stringify(error) : String(error) };
}

class BenchFailure extends Error {
  constructor(op, detail) {
    super(`${op} failed: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.detail = detail;
  }
}

/** `{ok, value, error}` results of the SDKs: the value, or a BenchFailure. */
function unwrap(op, result) {
  if (!result || typeof result !== 'object' || !('ok' in result)) throw new BenchFailure(op, `not a Result: ${String(result)}`);
  if (!result.ok) throw new BenchFailure(op, result.error);
  return result.value;
}

// ---------------------------------------------------------------------------------------------
// Clients. Each adapter: exists, uploadBytes, downloadBytes, uploadStream (Node Readable for the
// SDKs, web ReadableStream for fetch), downloadStream (async iterable of chunks), uploadFile,
// downloadFile, delete.

async function sdkAdapter(Client, bucketId) {
  const client = new Client({ bucketId });
  return {
    client,
    exists: async (name) => unwrap('exists', await client.exists(name)),
    uploadBytes: async (name, bytes) => void unwrap('uploadFromBytes', await client.uploadFromBytes(name, bytes)),
    downloadBytes: async (name) => {
      const value = unwrap('downloadAsBytes', await client.downloadAsBytes(name));
      if (!Array.isArray(value) || value.length !== 1) throw new BenchFailure('downloadAsBytes', 'value is not a one-element array');
      return value[0];
    },
    uploadStream: (name, readable) => client.uploadFromStream(name, readable),
    downloadStream: (name) => client.downloadAsStream(name),
    uploadFile: async (name, file) => void unwrap('uploadFromFilename', await client.uploadFromFilename(name, file)),
    downloadFile: async (name, file) => void unwrap('downloadToFilename', await client.downloadToFilename(name, file)),
    delete: async (name) => void unwrap('delete', await client.delete(name, { ignoreNotFound: true })),
  };
}

function fetchAdapter(base, bucket) {
  const enc = encodeURIComponent;
  const objectUrl = (name) => `${base}/storage/v1/b/${enc(bucket)}/o/${enc(name)}`;
  const uploadUrl = (name) => `${base}/upload/storage/v1/b/${enc(bucket)}/o?uploadType=media&name=${enc(name)}`;
  const check = async (op, res) => {
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    throw new BenchFailure(op, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  };
  const upload = async (name, body, extra) => {
    const res = await fetch(uploadUrl(name), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
      ...extra,
    });
    await (await check('upload', res)).arrayBuffer();
  };
  /** Opens a resumable upload session; resolves to its URI. */
  const startSession = async (name) => {
    const start = await fetch(`${base}/upload/storage/v1/b/${enc(bucket)}/o?uploadType=resumable&name=${enc(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': 'application/octet-stream' },
      body: '{}',
    });
    await (await check('resumable start', start)).arrayBuffer();
    return start.headers.get('location');
  };
  const media = async (op, name) => check(op, await fetch(`${objectUrl(name)}?alt=media`));
  return {
    exists: async (name) => {
      const res = await fetch(objectUrl(name));
      await res.arrayBuffer();
      if (res.status === 404) return false;
      if (!res.ok) throw new BenchFailure('exists', `HTTP ${res.status}`);
      return true;
    },
    uploadBytes: (name, bytes) => upload(name, bytes),
    // The resumable protocol in fixed chunks (each but the last a multiple of 256 KiB): what
    // a client that can resume and retry sends; used as a second floor for large uploads.
    uploadBytesResumable: async (name, bytes, chunkSize) => {
      const session = await startSession(name);
      const total = bytes.length;
      for (let off = 0; off < total || total === 0; off += chunkSize) {
        const end = Math.min(total, off + chunkSize);
        const res = await fetch(session, {
          method: 'PUT',
          headers: { 'content-range': total === 0 ? 'bytes */0' : `bytes ${off}-${end - 1}/${end === total ? total : '*'}` },
          body: bytes.subarray(off, end),
        });
        await res.arrayBuffer();
        if (!(res.ok || res.status === 308)) throw new BenchFailure('resumable chunk', `HTTP ${res.status}`);
        if (end === total) break;
      }
    },
    // The resumable protocol with the session's data in one streamed PUT (`bytes 0-*/total`):
    // what ours sends in Node; the floor that shows what the server's resumable path costs.
    uploadResumableOnePut: async (name, body, total) => {
      const res = await fetch(await startSession(name), {
        method: 'PUT',
        headers: { 'content-range': `bytes 0-*/${total ?? '*'}` },
        body,
        duplex: 'half',
      });
      await (await check('resumable PUT', res)).arrayBuffer();
    },
    downloadBytes: async (name) => new Uint8Array(await (await media('download', name)).arrayBuffer()),
    uploadStream: (name, stream) => upload(name, stream, { duplex: 'half' }),
    downloadStream: async function* (name) {
      const reader = (await media('download', name)).body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    },
    uploadFile: async (name, file) => upload(name, await globalThis.__benchFs.openAsBlob(file)),
    downloadFile: async (name, file) => {
      const { Readable, promises: { pipeline } } = globalThis.__benchStream;
      const res = await media('download', name);
      await pipeline(Readable.fromWeb(res.body), globalThis.__benchFs.createWriteStream(file));
    },
    delete: async (name) => {
      const res = await fetch(objectUrl(name), { method: 'DELETE' });
      await res.arrayBuffer();
      if (!res.ok && res.status !== 404) throw new BenchFailure('delete', `HTTP ${res.status}`);
    },
  };
}

/** Imports and constructs the client: the part of cold start that differs between clients. */
async function loadClient() {
  switch (job.client) {
    case 'ours': {
      const { Client } = await import(job.oursEntry);
      return sdkAdapter(Client, job.bucket);
    }
    case 'anchor': {
      const { createRequire } = await import('node:module');
      const { Client } = createRequire(import.meta.url)('@replit/object-storage');
      return sdkAdapter(Client, job.bucket);
    }
    case 'fetch':
      return fetchAdapter(job.emulatorUrl, job.bucket);
  }
  throw new Error(`unknown client ${job.client}`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function cold() {
  const t0 = performance.now();
  const c = await loadClient();
  const t1 = performance.now();
  const found = await c.exists(job.object);
  const end = process.hrtime.bigint();
  const t2 = performance.now();
  if (found !== true) throw new BenchFailure('exists', `expected true for ${job.object}, got ${found}`);
  return {
    endHrtime: end.toString(),
    // From this process's time origin (about when Node started running it).
    originToReadyMs: t0,
    loadMs: t1 - t0,
    firstCallMs: t2 - t1,
    originToExistsMs: t2,
  };
}

/** Runs `count` calls of fn(worker, i) on `concurrency` async workers. */
async function runPool(count, concurrency, fn) {
  let next = 0;
  const worker = async (w) => {
    while (next < count) await fn(w, next++);
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
}

async function small() {
  const { randomBytes } = await import('node:crypto');
  const c = await loadClient();
  const { concurrency, pairs, warmup, size } = job;
  const payloads = Array.from({ length: concurrency }, () => randomBytes(size));
  const pair = async (w, i) => {
    const name = `small/${job.client}/${w}/${i % 4}`;
    await c.uploadBytes(name, payloads[w]);
    const got = await c.downloadBytes(name);
    if (got.length !== size || !Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(payloads[w])) {
      throw new BenchFailure('small pair', `downloaded ${got.length} bytes that differ from the ${size} uploaded to ${name}`);
    }
  };
  await runPool(warmup, concurrency, pair);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await runPool(pairs, concurrency, pair);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  for (let w = 0; w < concurrency; w++) for (let k = 0; k < 4; k++) await c.delete(`small/${job.client}/${w}/${k}`);
  return {
    pairs,
    concurrency,
    seconds,
    pairsPerSecond: pairs / seconds,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    cpuMsPerPair: cpuMs / pairs,
    peakRss: procStatus().hwm,
  };
}

// Large objects: a 1 MiB random block repeated; streams move 64 KiB chunks (fs streams' size),
// each a fresh copy, as data read from a file or socket would be.
const CHUNK = 64 * 1024;

function makeBlock() {
  const { randomFillSync } = globalThis.__benchCrypto;
  return randomFillSync(Buffer.allocUnsafe(MiB));
}

/** Compares `chunk`, found at `offset` of the object, with the repeated block. */
function checkChunk(block, offset, chunk, what) {
  let done = 0;
  while (done < chunk.length) {
    const at = (offset + done) % MiB;
    const n = Math.min(chunk.length - done, MiB - at);
    if (Buffer.compare(block.subarray(at, at + n), Buffer.from(chunk.buffer, chunk.byteOffset + done, n)) !== 0) {
      throw new BenchFailure(what, `content differs within bytes ${offset + done}..${offset + done + n}`);
    }
    done += n;
  }
}

function nodeSource(block, size) {
  const { Readable } = globalThis.__benchStream;
  let sent = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(CHUNK, size - sent);
      const chunk = Buffer.allocUnsafe(n);
      block.copy(chunk, 0, sent % MiB, (sent % MiB) + n);
      sent += n;
      this.push(chunk);
    },
  });
}

function webSource(block, size) {
  let sent = 0;
  return new ReadableStream(
    {
      pull(controller) {
        if (sent >= size) return void controller.close();
        const n = Math.min(CHUNK, size - sent);
        const chunk = new Uint8Array(n);
        chunk.set(block.subarray(sent % MiB, (sent % MiB) + n));
        sent += n;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 1 },
  );
}

async function writeFileOfBlocks(file, block, size) {
  const fh = await globalThis.__benchFs.promises.open(file, 'w');
  try {
    for (let off = 0; off < size; off += MiB) await fh.write(block, 0, Math.min(MiB, size - off));
  } finally {
    await fh.close();
  }
}

async function checkFile(file, block, size, what) {
  const fh = await globalThis.__benchFs.promises.open(file, 'r');
  try {
    const { size: got } = await fh.stat();
    if (got !== size) throw new BenchFailure(what, `file has ${got} bytes, expected ${size}`);
    const buf = Buffer.allocUnsafe(MiB);
    for (let off = 0; off < size; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(MiB, size - off), off);
      if (bytesRead === 0) throw new BenchFailure(what, `file ends at ${off}`);
      checkChunk(block, off, buf.subarray(0, bytesRead), what);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

async function large() {
  const path = await import('node:path');
  // Counts the HTTP requests of each phase, and the upload protocol used (one callback per
  // request: no measurable cost).
  const dc = await import('node:diagnostics_channel');
  const seen = { requests: 0, uploadTypes: new Set() };
  const onRequest = (p) => {
    seen.requests++;
    const m = /[?&]uploadType=(\w+)/.exec(p);
    if (m) seen.uploadTypes.add(m[1]);
  };
  dc.subscribe('undici:request:create', ({ request }) => onRequest(request.path));
  dc.subscribe('http.client.request.start', ({ request }) => onRequest(request.path));
  const phase = () => {
    const out = { requests: seen.requests, uploadTypes: [...seen.uploadTypes] };
    seen.requests = 0;
    seen.uploadTypes.clear();
    return out;
  };
  const c = await loadClient();
  const { family, size } = job;
  const name = `large/${job.client}/${family}.bin`;
  const block = makeBlock();
  let source; // bytes: the Buffer; file: the source path
  let dest;
  if (family === 'bytes') {
    source = Buffer.allocUnsafe(size);
    for (let off = 0; off < size; off += MiB) block.copy(source, off, 0, Math.min(MiB, size - off));
  } else if (family === 'file') {
    globalThis.__benchFs.mkdirSync(job.scratchDir, { recursive: true });
    source = path.join(job.scratchDir, `${job.client}-${process.pid}-src.bin`);
    dest = path.join(job.scratchDir, `${job.client}-${process.pid}-dst.bin`);
    await writeFileOfBlocks(source, block, size);
  }
  // One warm-up round trip so that connection setup and lazy initialisation are not timed.
  await c.uploadBytes(`${name}.warm`, block.subarray(0, 1024));
  await c.downloadBytes(`${name}.warm`);
  await c.delete(`${name}.warm`);

  // Garbage from the preparation (and, below, from the upload) is collected first, so that
  // each phase starts from the same kind of heap (the worker runs with --expose-gc).
  globalThis.gc?.();
  const peakReset = resetPeak();
  const before = procStatus();
  phase();
  const cpu0 = process.cpuUsage();
  let t0 = process.hrtime.bigint();
  try {
    if (job.variant === 'resumable') await c.uploadBytesResumable(name, source, job.chunkSize);
    else if (job.variant === 'one-put') {
      const body =
        family === 'bytes' ? source : family === 'stream' ? webSource(block, size) : await globalThis.__benchFs.openAsBlob(source);
      await c.uploadResumableOnePut(name, body, family === 'stream' ? null : size);
    }
    else if (family === 'bytes') await c.uploadBytes(name, source);
    else if (family === 'stream') await c.uploadStream(name, job.client === 'fetch' ? webSource(block, size) : nodeSource(block, size));
    else await c.uploadFile(name, source);
  } catch (error) {
    error.phase = 'upload';
    throw error;
  }
  const upSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuUp = process.cpuUsage(cpu0);
  const afterUp = procStatus();
  const upRequests = phase();

  // The uploaded object must be there, with its size, before the download is timed.
  if (!(await c.exists(name))) throw new BenchFailure('upload', `${name} does not exist after upload`);

  globalThis.gc?.();
  if (peakReset) resetPeak();
  const beforeDown = procStatus();
  phase();
  const cpu1 = process.cpuUsage();
  t0 = process.hrtime.bigint();
  let received = 0;
  let downloaded;
  try {
    if (family === 'bytes') {
      const got = await c.downloadBytes(name);
      received = got.length;
      downloaded = got;
    } else if (family === 'stream') {
      for await (const chunk of await c.downloadStream(name)) {
        checkChunk(block, received, chunk, 'downloadAsStream');
        received += chunk.length;
      }
    } else {
      await c.downloadFile(name, dest);
      received = globalThis.__benchFs.statSync(dest).size;
    }
  } catch (error) {
    error.phase = 'download';
    throw error;
  }
  const downSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuDown = process.cpuUsage(cpu1);
  const afterDown = procStatus();
  const downRequests = phase();
  if (received !== size) throw new BenchFailure('download', `received ${received} bytes, expected ${size}`);
  if (family === 'bytes') checkChunk(block, 0, downloaded, 'downloadAsBytes');
  if (family === 'file') {
    await checkFile(dest, block, size, 'downloadToFilename');
    globalThis.__benchFs.rmSync(source, { force: true });
    globalThis.__benchFs.rmSync(dest, { force: true });
  }
  await c.delete(name);
  const mib = size / MiB;
  return {
    family,
    size,
    upload: {
      seconds: upSeconds,
      mibPerSecond: mib / upSeconds,
      cpuMs: (cpuUp.user + cpuUp.system) / 1000,
      rssBefore: before.rss,
      peakRss: afterUp.hwm,
      ...upRequests,
    },
    download: {
      seconds: downSeconds,
      mibPerSecond: mib / downSeconds,
      cpuMs: (cpuDown.user + cpuDown.system) / 1000,
      rssBefore: beforeDown.rss,
      peakRss: afterDown.hwm,
      ...downRequests,
    },
    // Peak over the whole transfer (upload and download), against RSS right before it.
    rssBefore: before.rss,
    peakRss: Math.max(afterUp.hwm, afterDown.hwm),
    peakReset,
  };
}

/** One small round trip with every outgoing HTTP request recorded, to show where each client goes. */
async function sanity() {
  const dc = await import('node:diagnostics_channel');
  const requests = [];
  dc.subscribe('undici:request:create', ({ request }) => requests.push(`${request.method} ${request.origin}${request.path}`));
  dc.subscribe('http.client.request.start', ({ request }) =>
    requests.push(`${request.method} ${request.protocol}//${request.getHeader('host') ?? request.host}${request.path}`),
  );
  const c = await loadClient();
  const content = Buffer.from(`written by ${job.client} at ${new Date().toISOString()}\n`);
  const marks = {};
  marks.start = requests.length;
  await c.uploadBytes(job.object, content);
  marks.upload = requests.length;
  const got = await c.downloadBytes(job.object);
  marks.download = requests.length;
  const there = await c.exists(job.object);
  marks.exists = requests.length;
  if (!Buffer.from(got).equals(content)) throw new BenchFailure('sanity', 'downloaded content differs');
  if (there !== true) throw new BenchFailure('sanity', 'exists is not true after upload');
  return {
    content: content.toString('utf8'),
    requests,
    requestsPerOp: {
      upload: marks.upload - marks.start,
      download: marks.download - marks.upload,
      exists: marks.exists - marks.download,
    },
  };
}

/** CRC32C in wasm over 256 MiB in memory, as downloads and uploads compute it. */
async function crc() {
  const { crc32c } = await import(job.oursEntry);
  const data = new Uint8Array(256 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  crc32c(data.subarray(0, 16 * 1024 * 1024)); // warm-up
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const started = process.hrtime.bigint();
    crc32c(data);
    runs.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  runs.sort((a, b) => a - b);
  return { mibPerSec: 256 / runs[1] };
}

async function main() {
  const scenarios = { cold, small, large, sanity, crc };
  const run = scenarios[job.scenario];
  if (!run) throw new Error(`unknown scenario ${job.scenario}`);
  if (job.scenario !== 'cold') {
    globalThis.__benchFs = await import('node:fs');
    globalThis.__benchCrypto = await import('node:crypto');
    globalThis.__benchStream = await import('node:stream');
  }
  try {
    const result = await run();
    emit({ ok: true, client: job.client, scenario: job.scenario, result });
    process.exit(0);
  } catch (error) {
    const out = describe(error);
    if (error && error.phase) out.phase = error.phase;
    if (error && error.detail) out.detail = error.detail;
    emit({ ok: false, client: job.client, scenario: job.scenario, error: out });
    process.exit(1);
  }
}

main();
