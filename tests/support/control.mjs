// Helpers for tests: talk to the control API of the servers that tests/support/servers.mjs
// starts. Reads SIDECAR_URL / GATE_URL (set by scripts/test.mjs); node: built-ins only.
//
//   import { control, reset, stats, injectFaults, clearFaults, accessToken } from '../support/control.mjs';
//   await reset();                                   // defaults, counters 0, no faults
//   await control({ defaultBucket: null });          // the sidecar answers 404
//   await injectFaults([{ method: 'GET', pathIncludes: 'alt=media', status: 503, times: 2 }]);
//   const { tokenRequests } = await stats();
//
// The state is shared by every test in the run: tests that change it should run serially
// (scripts/test.mjs passes --test-concurrency=1) and call reset() first.

function base(name) {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: run the tests through \`npm test\` (scripts/test.mjs)`);
  return url.replace(/\/+$/, '');
}

async function call(name, method, path, body) {
  const res = await fetch(`${base(name)}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const sidecarUrl = () => base('SIDECAR_URL');
export const gateUrl = () => base('GATE_URL');
export const emulatorUrl = () => base('GCS_EMULATOR_URL');

/** Changes the sidecar stand-in's behaviour; only the given fields change. */
export const control = (settings) => call('SIDECAR_URL', 'POST', '/__control', settings);
/** Back to defaults, counters to zero, faults cleared (issued tokens stay valid). */
export const reset = () => call('SIDECAR_URL', 'POST', '/__reset');
/** { defaultBucketRequests, credentialRequests, tokenRequests, gcsRequests, rejectedRequests, ... } */
export const stats = () => call('SIDECAR_URL', 'GET', '/__stats');
/** Makes the gate answer the next matching requests itself. */
export const injectFaults = (faults) => call('GATE_URL', 'POST', '/__faults', faults);
export const clearFaults = () => call('GATE_URL', 'POST', '/__faults/clear');

/** Does the sidecar token exchange like the client does, and returns the access token. */
export async function accessToken() {
  const sidecar = sidecarUrl();
  const cred = await (await fetch(`${sidecar}/credential`)).json();
  const res = await fetch(`${sidecar}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience: 'replit',
      scope: 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/devstorage.full_control',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token: cred.access_token,
      subject_token_type: 'access_token',
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
