#!/usr/bin/env node
// npm run demo
// Sets up only what the demo needs (scripts/setup.sh --demo: the wasm target, the wasm-bindgen
// binary, fake-gcs-server; no wasm-pack, npm packages or browsers), makes the Node build alone
// without its wasm-opt steps (build.mjs), starts the local servers (fake-gcs-server and the
// Replit sidecar stand-in on its real port, 1106), installs the npm-packed package into a
// scratch project in .cache/demo/ and runs examples/quickstart.mjs there, as a user would, with
// STORAGE_EMULATOR_HOST pointing at the emulator. Exits with the quickstart's exit code.

import fs from 'node:fs';
import path from 'node:path';
import { build } from './build.mjs';
import { ROOT, log, makeScratchProject, onInterrupt, packInto, run, runSetup, toolEnv } from './lib.mjs';
import { DEFAULT_PORTS, startServers } from '../tests/support/servers.mjs';

const QUICKSTART = path.join(ROOT, 'examples', 'quickstart.mjs');
const DEMO_DIR = path.join(ROOT, '.cache', 'demo');

async function main() {
  if (!fs.existsSync(QUICKSTART)) {
    throw new Error(`${path.relative(ROOT, QUICKSTART)} does not exist: there is no quickstart to run yet`);
  }
  let servers = null;
  const stopServers = async () => {
    const s = servers;
    servers = null;
    if (s) await s.stop();
  };
  onInterrupt(stopServers);
  try {
    await runSetup({ demo: true }); // the demo runs in Node only
    await build({ setup: false, nodeOnly: true });
    servers = await startServers({ ...DEFAULT_PORTS, log: (line) => process.stderr.write(`${line}\n`) });
    log(`demo: emulator ${servers.emulatorUrl}, sidecar stand-in ${servers.sidecarUrl}`);
    const defaultSidecar = `http://127.0.0.1:${DEFAULT_PORTS.sidecarPort}`;
    if (servers.sidecarUrl !== defaultSidecar) {
      log(
        `demo: warning: port ${DEFAULT_PORTS.sidecarPort} was taken, so the stand-in is on ${servers.sidecarUrl}; ` +
          `the quickstart's new Client() asks ${defaultSidecar}, whatever listens there`,
      );
    }

    const tarball = await packInto(DEMO_DIR, { nodeOnly: true });
    const project = path.join(DEMO_DIR, 'project');
    await makeScratchProject(project, tarball);
    fs.copyFileSync(QUICKSTART, path.join(project, 'quickstart.mjs'));

    log(`demo: node quickstart.mjs (in ${path.relative(ROOT, project)}/)\n`);
    const { code, signal } = await run(process.execPath, ['quickstart.mjs'], { cwd: project, env: toolEnv(servers.env) });
    await stopServers();
    const status = code ?? 1;
    log(`\ndemo: quickstart exited with ${code ?? signal}`);
    return status;
  } finally {
    await stopServers();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`demo: error: ${err.message}\n`);
    process.exit(1);
  },
);
