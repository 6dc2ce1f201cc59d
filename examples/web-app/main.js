// The page: asks its server for a signed upload URL, uploads the picked file straight to
// storage with a progress bar (uploadToUrl: no storage token ever reaches the page), tells the
// server the upload is done (which records the owner), then shows the file through the
// server's /objects/ route.
import { uploadToUrl } from 'replit-object-storage-wasm';

const $ = (id) => document.getElementById(id);
const user = new URLSearchParams(location.search).get('user') ?? 'alice';
document.cookie = `user=${encodeURIComponent(user)}; path=/; SameSite=Strict`;
$('user').textContent = user;

async function api(method, route, body) {
  const response = await fetch(route, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `${route} answered ${response.status}`);
  return answer;
}

function show(kind, text) {
  $('error').hidden = kind !== 'error';
  $('error').textContent = kind === 'error' ? text : '';
  $('status').textContent = kind === 'error' ? '' : text;
}

async function upload(file) {
  const progress = $('progress');
  progress.hidden = false;
  progress.value = 0;
  progress.dataset.events = '0';
  show('status', `Uploading ${file.name}…`);
  const target = await api('POST', '/api/uploads', { contentType: file.type || 'application/octet-stream' });
  const sent = await uploadToUrl(target.uploadUrl, file, {
    headers: target.headers,
    onProgress: ({ bytes, total }) => {
      progress.value = total ? bytes / total : 0;
      progress.dataset.events = String(Number(progress.dataset.events) + 1);
    },
  });
  if (!sent.ok) throw new Error(`${sent.error.kind}: ${sent.error.message}`);
  const visibility = $('public').checked ? 'public' : 'private';
  const { objectPath } = await api('PUT', '/api/photos', { objectPath: target.objectPath, visibility });
  $('image').src = objectPath;
  $('link').href = objectPath;
  $('shown').hidden = false;
  show('status', `Uploaded ${file.name} (${visibility})`);
}

$('file').addEventListener('change', () => {
  const file = $('file').files?.[0];
  if (file) upload(file).catch((error) => show('error', `Upload failed: ${error.message}`));
});
document.body.dataset.ready = 'true';
