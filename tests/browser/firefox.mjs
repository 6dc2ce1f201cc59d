// Headless Firefox through geckodriver, spoken to in W3C WebDriver over plain HTTP:
// playwright-core drives only its own patched Firefox builds, not Debian's, and the few
// commands a suite page needs (open a URL, read a global) are four requests.
import { spawn } from 'node:child_process';
import net from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts geckodriver (`driverPath`) and one headless Firefox session. Resolves
 * `{ evaluate(expression), open(url), close() }`; `evaluate` returns the JSON value of a
 * JavaScript expression in the open page.
 */
export async function launchFirefox(driverPath) {
  const port = await freePort();
  // `--websocket-port 0`: each Firefox gets its own remote-agent port, so runs can overlap.
  const driver = spawn(driverPath, ['--host', '127.0.0.1', '--port', String(port), '--websocket-port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let driverLog = '';
  driver.stderr.on('data', (chunk) => {
    driverLog = (driverLog + chunk).slice(-2000);
  });
  const exited = new Promise((resolve) => driver.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;

  async function command(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`geckodriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  }

  try {
    for (let tries = 0; ; tries++) {
      try {
        if ((await command('GET', '/status')).ready) break;
      } catch (error) {
        if (tries >= 100 || driver.exitCode !== null) throw new Error(`geckodriver did not start: ${error.message} ${driverLog}`);
      }
      await sleep(100);
    }
    const { sessionId } = await command('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'firefox', 'moz:firefoxOptions': { args: ['-headless'] } } },
    });
    const session = `/session/${sessionId}`;
    return {
      open: (url) => command('POST', `${session}/url`, { url }),
      evaluate: (expression) => command('POST', `${session}/execute/sync`, { script: `return (${expression});`, args: [] }),
      async close() {
        await command('DELETE', session).catch(() => {});
        driver.kill();
        await exited;
      },
    };
  } catch (error) {
    driver.kill();
    await exited;
    throw error;
  }
}
