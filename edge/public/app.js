// @ts-check
/**
 * The page at `/`: pick, drop or paste a photo; hash it here (SHA-256) and ask /v1/lookup first;
 * upload only when the edge has no result yet (with progress); show the original and the result
 * side by side, with HIT/MISS and timings. Same-origin calls only, no external network.
 */
import { shopperMessage, withSeconds } from './messages.js';

/** @typedef {import('./messages.js').Problem} Problem */

/** @template {HTMLElement} T @param {string} id @returns {T} */
const byId = (id) => /** @type {T} */ (document.getElementById(id));

const ui = {
  dropZone: byId('drop-zone'),
  choose: /** @type {HTMLButtonElement} */ (byId('choose')),
  fileInput: /** @type {HTMLInputElement} */ (byId('file-input')),
  model: /** @type {HTMLSelectElement} */ (byId('model')),
  modelDescription: byId('model-description'),
  status: byId('status'),
  progressRow: byId('progress-row'),
  progress: /** @type {HTMLProgressElement} */ (byId('progress')),
  progressText: byId('progress-text'),
  error: byId('error'),
  errorText: byId('error-text'),
  retry: /** @type {HTMLButtonElement} */ (byId('retry')),
  result: byId('result'),
  resultHeading: byId('result-heading'),
  badge: byId('cache-badge'),
  original: /** @type {HTMLImageElement} */ (byId('original')),
  output: /** @type {HTMLImageElement} */ (byId('output')),
  outputCaption: byId('output-caption'),
  download: /** @type {HTMLAnchorElement} */ (byId('download')),
  timings: byId('timings'),
  subjectNote: byId('subject-note'),
  serviceStatus: byId('service-status'),
};

/** @type {{ file: File | null, sha256: string | null, urls: string[], run: number, countdown: number | undefined }} */
const state = { file: null, sha256: null, urls: [], run: 0, countdown: undefined };

/** The backend's X-Subject-Confidence under which a photo has no clear subject. */
const NO_CLEAR_SUBJECT_BELOW = 0.5;

const UNSUPPORTED_TYPES = /^image\/(heic|heif|gif|svg\+xml|bmp|tiff)$/;

/** @param {ArrayBuffer} buffer */
const toHex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

const selectedOutput = () =>
  /** @type {HTMLInputElement} */ (document.querySelector('input[name="output"]:checked')).value;

function query() {
  const params = new URLSearchParams({ output: selectedOutput() });
  if (ui.model.value) params.set('model', ui.model.value);
  return params;
}

/** @param {string} text */
function setStatus(text) {
  ui.status.textContent = text;
}

function clearError() {
  ui.error.hidden = true;
  window.clearInterval(state.countdown);
}

/**
 * @param {Problem} problem
 * @param {number | undefined} retryAfterSeconds
 */
function showError(problem, retryAfterSeconds) {
  const message = shopperMessage(problem, retryAfterSeconds);
  setStatus('');
  ui.progressRow.hidden = true;
  ui.errorText.textContent = message.text;
  ui.error.hidden = false;
  ui.retry.hidden = state.file === null;
  window.clearInterval(state.countdown);
  let left = message.retryAfterSeconds;
  if (left === undefined) {
    ui.retry.disabled = false;
    return;
  }
  ui.retry.disabled = true;
  state.countdown = window.setInterval(() => {
    left = /** @type {number} */ (left) - 1;
    ui.errorText.textContent = withSeconds(message.text, Math.max(left, 0));
    if (left <= 0) {
      window.clearInterval(state.countdown);
      ui.retry.disabled = false;
    }
  }, 1000);
}

/** @param {Response | XMLHttpRequest} response @param {string} body */
function problemFrom(response, body) {
  const header =
    response instanceof Response
      ? response.headers.get('retry-after')
      : response.getResponseHeader('retry-after');
  const retryAfter = header === null ? undefined : Number(header);
  try {
    return { problem: asProblem(JSON.parse(body)), retryAfter };
  } catch {
    return { problem: { code: 'internal' }, retryAfter };
  }
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null;
}

/** @param {unknown} value @returns {number | undefined} */
function countOf(value) {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * The members of a problem+json body the page reads: the code and the extension members
 * (limit_bytes, limit_pixels, seen), each only when well-formed.
 * @param {unknown} json @returns {Problem}
 */
function asProblem(json) {
  if (!isObject(json)) return { code: 'internal' };
  const seen = isObject(json.seen) ? json.seen : {};
  return {
    code: typeof json.code === 'string' ? json.code : 'internal',
    detail: typeof json.detail === 'string' ? json.detail : undefined,
    limit_bytes: countOf(json.limit_bytes),
    limit_pixels: countOf(json.limit_pixels),
    seen: {
      bytes: countOf(seen.bytes),
      width: countOf(seen.width),
      height: countOf(seen.height),
      pixels: countOf(seen.pixels),
      type: typeof seen.type === 'string' ? seen.type : undefined,
    },
  };
}

/** The XHR's response body, which responseType 'blob' makes a Blob. @param {XMLHttpRequest} xhr */
function responseBlob(xhr) {
  /** @type {unknown} */
  const body = xhr.response;
  if (!(body instanceof Blob)) throw new Error('network');
  return body;
}

/** Server-Timing `edge;dur=18, backend;dur=1229` as { edge: 18, backend: 1229 }. @param {string | null} header */
function parseServerTiming(header) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}

/** @param {string} url */
function track(url) {
  state.urls.push(url);
  return url;
}

function releaseUrls() {
  for (const url of state.urls.splice(0)) URL.revokeObjectURL(url);
}

/** @param {HTMLImageElement} img @param {string} src */
async function loadImage(img, src) {
  img.src = src;
  await img.decode();
}

/**
 * @param {{ src: string, downloadHref: string, cache: string, timings: [string, number][], confidence: string | null }} shown
 */
async function showResult(shown) {
  const output = selectedOutput();
  const started = performance.now();
  await loadImage(ui.output, shown.src);
  shown.timings.push(['Show', performance.now() - started]);
  ui.outputCaption.textContent = output === 'matte' ? 'Matte (white = kept)' : 'Cutout';
  ui.output.alt = output === 'matte' ? 'The matte of your photo' : 'Your photo with the background removed';
  // X-Subject-Confidence (or the lookup's subject_confidence): under 0.5, no clear subject.
  const confidence = shown.confidence === null ? NaN : Number(shown.confidence);
  ui.subjectNote.hidden = !(confidence < NO_CLEAR_SUBJECT_BELOW);
  ui.badge.textContent = shown.cache;
  ui.badge.dataset.cache = shown.cache;
  const base = (state.file?.name ?? 'photo').replace(/\.[^.]+$/, '');
  ui.download.href = shown.downloadHref;
  ui.download.download = `${base}-${output}.png`;
  ui.download.textContent = `Download ${output} (PNG)`;
  ui.timings.replaceChildren(
    ...shown.timings.map(([name, ms]) => {
      const item = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = name;
      dd.textContent = `${Math.round(ms)} ms`;
      item.append(dt, dd);
      return item;
    }),
  );
  ui.result.hidden = false;
  setStatus(
    shown.cache === 'HIT' ? 'Done: this photo was cut out before (HIT).' : 'Done (MISS: made just now).',
  );
  ui.resultHeading.focus();
}

/**
 * POST the photo with upload progress (XMLHttpRequest: fetch has no upload progress).
 * @param {File} file @param {number} run
 * @returns {Promise<XMLHttpRequest>}
 */
function uploadWithProgress(file, run) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/remove-background?${query()}`);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.responseType = 'blob';
    xhr.upload.onprogress = (event) => {
      if (run !== state.run || !event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      ui.progress.value = percent;
      ui.progressText.textContent = `${percent} %`;
      if (percent === 100) setStatus('Uploaded. Removing the background…');
    };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error('network'));
    xhr.send(file);
  });
}

/** The whole flow for the current file and options: hash, lookup, upload on a miss, show. */
async function runFlow() {
  const file = state.file;
  if (!file) return;
  const run = ++state.run;
  clearError();
  ui.result.hidden = true;
  /** @type {[string, number][]} */
  const timings = [];
  try {
    setStatus('Checking whether this photo was cut out before…');
    let t = performance.now();
    state.sha256 ??= toHex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    timings.push(['Hash', performance.now() - t]);
    t = performance.now();
    const params = query();
    params.set('sha256', state.sha256);
    const lookup = await fetch(`/v1/lookup?${params}`);
    timings.push(['Lookup', performance.now() - t]);
    if (run !== state.run) return;
    if (lookup.ok) {
      /** @type {unknown} */
      const found = await lookup.json();
      if (!isObject(found) || typeof found.url !== 'string') throw new Error('no url in the lookup answer');
      const url = found.url;
      const confidence = typeof found.subject_confidence === 'string' ? found.subject_confidence : null;
      await showResult({ src: url, downloadHref: url, cache: 'HIT', timings, confidence });
      return;
    }
    const body = await lookup.text();
    if (lookup.status !== 404) {
      const { problem, retryAfter } = problemFrom(lookup, body);
      showError(problem, retryAfter);
      return;
    }
    setStatus('Uploading your photo…');
    ui.progress.value = 0;
    ui.progressText.textContent = '0 %';
    ui.progressRow.hidden = false;
    t = performance.now();
    const xhr = await uploadWithProgress(file, run);
    if (run !== state.run) return;
    ui.progressRow.hidden = true;
    timings.push(['Upload + processing', performance.now() - t]);
    if (xhr.status !== 200) {
      const { problem, retryAfter } = problemFrom(xhr, await responseBlob(xhr).text());
      showError(problem, retryAfter);
      return;
    }
    const serverTiming = parseServerTiming(xhr.getResponseHeader('server-timing'));
    if (serverTiming.edge !== undefined) timings.push(['Edge', serverTiming.edge]);
    if (serverTiming.backend !== undefined) timings.push(['Backend', serverTiming.backend]);
    if (serverTiming.inference !== undefined) timings.push(['Model', serverTiming.inference]);
    const blobUrl = track(URL.createObjectURL(responseBlob(xhr)));
    const location = xhr.getResponseHeader('content-location');
    await showResult({
      src: blobUrl,
      downloadHref: location ? new URL(location, window.location.href).href : blobUrl,
      cache: xhr.getResponseHeader('x-cache') ?? 'MISS',
      timings,
      confidence: xhr.getResponseHeader('x-subject-confidence'),
    });
  } catch (error) {
    if (run !== state.run) return;
    console.error(error);
    showError(
      { code: error instanceof Error && error.message === 'network' ? 'network' : 'internal' },
      undefined,
    );
  }
}

/** @param {File | null | undefined} file */
async function choose(file) {
  if (!file) return;
  clearError();
  if (UNSUPPORTED_TYPES.test(file.type)) {
    state.file = null;
    // The browser's own idea of the type; the edge would say the same from the bytes (seen.type).
    showError(
      { code: 'unsupported_media_type', seen: { type: file.type.includes('hei') ? 'heic' : undefined } },
      undefined,
    );
    return;
  }
  releaseUrls();
  state.file = file;
  state.sha256 = null;
  ui.original.src = track(URL.createObjectURL(file));
  await runFlow();
}

/** The chosen model's one-line description from /v1/status, under the picker. */
function showModelDescription() {
  ui.modelDescription.textContent = ui.model.selectedOptions[0]?.dataset.description ?? '';
}

async function loadServiceStatus() {
  try {
    const response = await fetch('/v1/status');
    /** @type {{ edge: { models: { id: string, description: string, backend_ready: boolean }[], default_model: string }, backend: { ready: boolean } }} */
    const status = await response.json(); // eslint-disable-line @typescript-eslint/no-unsafe-assignment -- the edge's own /v1/status; a member missing throws into the catch below
    const models = status.edge.models;
    ui.model.replaceChildren(
      ...models.map((model) => {
        const option = new Option(model.id, model.id, false, model.id === status.edge.default_model);
        if (!model.backend_ready) option.textContent = `${model.id} (warming up)`;
        option.title = model.description;
        option.dataset.description = model.description;
        return option;
      }),
    );
    showModelDescription();
    ui.serviceStatus.textContent = status.backend.ready
      ? 'The service is ready.'
      : 'The service is warming up: your first photo may take a little longer.';
  } catch {
    ui.serviceStatus.textContent = 'We can’t reach the service right now.';
  }
}

ui.choose.addEventListener('click', () => ui.fileInput.click());
ui.fileInput.addEventListener('change', () => {
  void choose(ui.fileInput.files?.[0]);
  ui.fileInput.value = '';
});
ui.retry.addEventListener('click', () => void runFlow());
ui.model.addEventListener('change', () => {
  showModelDescription();
  void runFlow();
});
for (const radio of document.querySelectorAll('input[name="output"]')) {
  radio.addEventListener('change', () => void runFlow());
}
ui.dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.dropZone.dataset.state = 'over';
});
ui.dropZone.addEventListener('dragleave', () => (ui.dropZone.dataset.state = 'idle'));
ui.dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.dropZone.dataset.state = 'idle';
  void choose(event.dataTransfer?.files[0]);
});
document.addEventListener('paste', (event) => {
  const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
  if (file) void choose(file);
});

void loadServiceStatus();
