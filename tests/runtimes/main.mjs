// Runs the public-API suite under whatever runtime runs this file (Deno, Bun, or Node for
// comparison), importing the package by name as an app would: each runtime picks its entry
// through package.json's `exports`. SUITE_ENV holds the suite's env as JSON; with
// `"flavour": "web"` it imports the browser build (`replit-object-storage-wasm/web`) and runs
// the suite's web flavour (under Bun, the browser build on JavaScriptCore, Safari's engine;
// under Deno, on V8 outside a page).
// The last line printed is `SUITE {"passed":N,"failed":N}`.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runSuite } from './suite.mjs';

const read = (key) => globalThis.Deno?.env.get(key) ?? globalThis.process?.env[key];
const env = JSON.parse(read('SUITE_ENV') ?? '{}');
const flavour = env.flavour ?? 'node';
const storage = await import(flavour === 'web' ? 'replit-object-storage-wasm/web' : 'replit-object-storage-wasm');
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.version}`;
console.log(`# ${runtime}; entry: ${typeof storage.Client === 'function' ? 'loaded' : 'missing'}`);
const { passed, failed } = await runSuite({ ...storage, flavour, env, files: { fs, path, http }, log: (line) => console.log(line) });
console.log(`SUITE ${JSON.stringify({ passed, failed })}`);
