// @ts-check
/**
 * <bgremove-photo>: on a product page, the customer picks a photo; it is hashed here and looked up
 * at the edge first (GET {endpoint}/v1/lookup), uploaded only when the edge has no result yet
 * (POST {endpoint}/v1/remove-background), previewed, and its public result URL is stored in the
 * product form as the line-item property `_cutout_url` (the leading underscore hides it from the
 * customer at checkout; the order carries it).
 *
 * `data-endpoint` is the app proxy path (`/apps/bgremove`, same-origin, signed by Shopify) or the
 * edge's own URL (the shop's origin must then be in the edge's CORS_ORIGINS). No secret is needed
 * here, and none may ever be put here: this file is public.
 */

const PROPERTY = 'properties[_cutout_url]';

/** @param {ArrayBuffer} buffer */
const toHex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Shopper-facing words for the edge's error codes. @param {string | undefined} code @param {string | null} retryAfter */
function messageFor(code, retryAfter) {
  switch (code) {
    case 'payload_too_large':
      return 'This photo is too large. Please choose a smaller one.';
    case 'unsupported_media_type':
      return 'Please choose a JPEG, PNG, WebP or AVIF photo.';
    case 'invalid_image':
    case 'image_too_large':
      return 'We can’t use this photo. Please try another one.';
    case 'rate_limited':
    case 'backend_unavailable':
    case 'overloaded':
      return `We’re warming up — try again in ${retryAfter ?? 5} s.`;
    default:
      return 'Something went wrong. Please try again.';
  }
}

/** The product form: the one named by data-form-id, else the add-to-cart form of this section. @param {HTMLElement} element */
function productForm(element) {
  const byId = element.dataset.formId ? document.getElementById(element.dataset.formId) : null;
  if (byId instanceof HTMLFormElement) return byId;
  const scope = element.closest('section, .shopify-section') ?? document;
  const form =
    scope.querySelector('form[action*="/cart/add"]') ?? document.querySelector('form[action*="/cart/add"]');
  if (!(form instanceof HTMLFormElement)) {
    throw new Error('bgremove-photo: no product form (form[action*="/cart/add"]) found');
  }
  return form;
}

/** The hidden line-item property input, inside the product form so that FormData(form) carries it. @param {HTMLFormElement} form */
function propertyInput(form) {
  const existing = form.querySelector(`input[name="${PROPERTY}"]`);
  if (existing instanceof HTMLInputElement) return existing;
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = PROPERTY;
  input.value = '';
  form.append(input);
  return input;
}

/** Wires one <bgremove-photo> element. @param {HTMLElement} element */
function attach(element) {
  const endpoint = (element.dataset.endpoint || '/apps/bgremove').replace(/\/+$/, '');
  const output = element.dataset.output === 'matte' ? 'matte' : 'cutout';
  const fileInput = /** @type {HTMLInputElement} */ (element.querySelector('input[type="file"]'));
  const status = /** @type {HTMLElement} */ (element.querySelector('[role="status"]'));
  const preview = /** @type {HTMLElement} */ (element.querySelector('.bgremove-photo__preview'));
  const image = /** @type {HTMLImageElement} */ (preview.querySelector('img'));
  const form = productForm(element);
  const property = propertyInput(form);

  /** @param {string} text */
  const say = (text) => (status.textContent = text);

  /** @param {boolean} busy */
  function setBusy(busy) {
    element.setAttribute('aria-busy', String(busy));
    for (const button of form.querySelectorAll('button[type="submit"], button[name="add"]')) {
      /** @type {HTMLButtonElement} */ (button).disabled = busy;
    }
  }

  /** @param {string} src @param {string} resultUrl */
  async function show(src, resultUrl) {
    image.src = src;
    await image.decode();
    preview.hidden = false;
    property.value = resultUrl;
    say('Done! Your photo will be added to the order.');
    element.dispatchEvent(new CustomEvent('bgremove:done', { bubbles: true, detail: { url: resultUrl } }));
  }

  /** @param {Response} response */
  async function fail(response) {
    /** @type {unknown} */
    const problem = await response.json().catch(() => ({}));
    const code =
      typeof problem === 'object' && problem !== null && 'code' in problem ? problem.code : undefined;
    say(messageFor(typeof code === 'string' ? code : undefined, response.headers.get('retry-after')));
  }

  /** Lookup first; upload only on a miss. @param {File} file */
  async function cutOut(file) {
    property.value = '';
    preview.hidden = true;
    setBusy(true);
    try {
      say('Preparing your photo…');
      const sha256 = toHex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
      const lookup = await fetch(`${endpoint}/v1/lookup?output=${output}&sha256=${sha256}`);
      if (lookup.ok) {
        /** @type {unknown} */
        const found = await lookup.json();
        const url = typeof found === 'object' && found !== null && 'url' in found ? found.url : undefined;
        if (typeof url !== 'string') throw new Error('no url in the lookup answer');
        await show(url, url);
        return;
      }
      if (lookup.status !== 404) {
        await fail(lookup);
        return;
      }
      say('Removing the background… this takes a few seconds.');
      const response = await fetch(`${endpoint}/v1/remove-background?output=${output}`, {
        method: 'POST',
        headers: { 'content-type': file.type || 'application/octet-stream' },
        body: file,
      });
      if (!response.ok) {
        await fail(response);
        return;
      }
      const location = response.headers.get('content-location');
      if (!location) throw new Error('no Content-Location in the answer');
      const base = /^https?:/.test(endpoint) ? endpoint : document.baseURI;
      await show(URL.createObjectURL(await response.blob()), new URL(location, base).href);
    } catch (error) {
      console.error('bgremove-photo', error);
      say(messageFor(undefined, null));
    } finally {
      setBusy(false);
    }
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void cutOut(file);
  });
}

class BgremovePhoto extends HTMLElement {
  connectedCallback() {
    if (this.dataset.ready) return;
    this.dataset.ready = 'true';
    attach(this);
  }
}

if (!customElements.get('bgremove-photo')) customElements.define('bgremove-photo', BgremovePhoto);
