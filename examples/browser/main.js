// A page that talks to App Storage straight from the browser: pick or drop a file to upload
// it, see the bucket's objects, download or delete one. The page never holds a long-lived
// secret: it asks its own server (server.mjs) for the bucket name and for a short-lived
// access token, which that server gets from the Replit sidecar.
import { Client } from 'replit-object-storage-wasm';

const $ = (id) => document.getElementById(id);
const PREFIX = 'uploads/';

/** A token from this app's server, reused until a minute before it expires. */
let cached;
async function accessToken() {
  if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
  const response = await fetch('/api/storage-token');
  if (!response.ok) throw new Error(`the app's token endpoint answered ${response.status}`);
  const { access_token: token, expires_in: seconds } = await response.json();
  cached = { token, expiresAt: Date.now() + seconds * 1000 };
  return token;
}

/** What a person should read for a failed call. */
function describe(error) {
  const advice = {
    ObjectNotFound: 'That file is no longer in the bucket (someone may have deleted it). The list has been refreshed.',
    BucketNotFound: 'The bucket does not exist. Check the bucket name the server gives.',
    Unauthorized: 'Storage refused the access token. Reload the page to get a new one.',
    Forbidden: 'This token may not do that.',
    Network: 'Storage could not be reached. Check your connection and try again.',
    Timeout: 'Storage took too long to answer. Try again.',
    TooManyRequests: 'Too many requests right now. Wait a moment and try again.',
  }[error.kind];
  return `${advice ?? 'Something went wrong.'} (${error.kind}: ${error.message})`;
}

function showError(error) {
  $('error').textContent = describe(error);
  $('error').hidden = false;
  $('status').textContent = '';
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

const size = (bytes) => (bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`);

let client;

async function refresh() {
  const result = await client.list({ prefix: PREFIX });
  if (!result.ok) return showError(result.error);
  const rows = result.value.map(({ name }) => {
    const row = document.createElement('tr');
    row.dataset.name = name;
    const cell = document.createElement('td');
    cell.className = 'name';
    cell.textContent = name.slice(PREFIX.length);
    const actions = document.createElement('td');
    const download = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Download' });
    download.addEventListener('click', () => downloadObject(name));
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Delete', className: 'danger' });
    remove.addEventListener('click', () => deleteObject(name));
    actions.append(download, ' ', remove);
    row.append(cell, actions);
    return row;
  });
  $('objects').replaceChildren(...rows);
  $('empty').hidden = rows.length > 0;
}

async function upload(file) {
  clearError();
  const name = PREFIX + file.name;
  $('status').textContent = `Uploading ${file.name} (${size(file.size)})…`;
  // A File is a Blob: it is read a chunk at a time, never all at once.
  const result = await client.uploadFromBytes(name, file, {
    onProgress: ({ bytes, total }) => {
      $('status').textContent = `Uploading ${file.name}: ${size(bytes)} of ${size(total ?? file.size)}`;
    },
  });
  if (!result.ok) return showError(result.error);
  $('status').textContent = `Uploaded ${file.name} (${size(file.size)}).`;
  await refresh();
}

async function downloadObject(name) {
  clearError();
  $('status').textContent = `Downloading ${name.slice(PREFIX.length)}…`;
  const result = await client.downloadAsBytes(name);
  if (!result.ok) {
    showError(result.error);
    return refresh();
  }
  const [bytes] = result.value;
  const link = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(new Blob([bytes])),
    download: name.slice(PREFIX.length),
  });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  $('status').textContent = `Downloaded ${name.slice(PREFIX.length)} (${size(bytes.length)}).`;
}

async function deleteObject(name) {
  clearError();
  const result = await client.delete(name);
  if (!result.ok) {
    showError(result.error);
    return refresh();
  }
  $('status').textContent = `Deleted ${name.slice(PREFIX.length)}.`;
  await refresh();
}

function wireUp() {
  $('file').addEventListener('change', () => {
    const [file] = $('file').files;
    if (file) upload(file);
    $('file').value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    for (const file of event.dataTransfer.files) upload(file);
  });
  $('refresh').addEventListener('click', () => {
    clearError();
    refresh();
  });
}

async function start() {
  const response = await fetch('/api/config');
  if (!response.ok) {
    $('bucket').textContent = '';
    return showError({ kind: 'DefaultBucket', message: `the app's config endpoint answered ${response.status}` });
  }
  const { bucketId, apiEndpoint } = await response.json();
  client = new Client({ bucketId, apiEndpoint, accessToken });
  $('bucket').textContent = `Bucket: ${bucketId}`;
  wireUp();
  await refresh();
  document.body.dataset.ready = 'true';
}

start();
