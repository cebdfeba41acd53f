import ipaddr from 'ipaddr.js';
import { RemoveBgError } from './errors';

/**
 * remove.bg's `image_url` and `bg_image_url`, fetched by the Worker without letting a caller
 * point it at anything but a public web server:
 * - https only; plain http only for the hosts named in IMAGE_URL_DEV_HOSTS (local development
 *   and tests);
 * - public hosts only: IP literals are classified with ipaddr.js and only global unicast passes
 *   (no loopback, private, link-local incl. 169.254.169.254, ULA, CGNAT, multicast, reserved,
 *   IPv4 inside IPv6: mapped, 6to4, Teredo, NAT64); names that only mean something inside a
 *   network (localhost, *.local, *.internal, single labels, …) are refused; the WHATWG URL
 *   parser first turns decimal, octal and hex IPv4 spellings into dotted quads;
 * - redirects followed by hand, each Location checked the same way, at most MAX_REDIRECTS;
 * - a byte cap while streaming (Content-Length first), one time limit for all hops and the body;
 * - no credentials in the URL, no cookies, nothing of the caller's request forwarded.
 * The image's type is checked afterwards from its magic bytes, as for uploads.
 */

export const MAX_REDIRECTS = 3;
export const MAX_URL_LENGTH = 2048;

export interface ImageFetchLimits {
  /** Largest download, in bytes. */
  maxBytes: number;
  /** For everything: every hop and the body. */
  timeoutMs: number;
  /** `host:port` (lowercase) allowed over http and exempt from the public-address check. */
  devHosts: ReadonlySet<string>;
}

/** Names no public DNS answers for: special-use (RFC 6761/6762/8375) and common in-house suffixes. */
const LOCAL_SUFFIXES = [
  'localhost',
  'local',
  'localdomain',
  'internal',
  'intranet',
  'lan',
  'home',
  'corp',
  'private',
  'home.arpa',
  'arpa',
  'invalid',
  'test',
  'example',
  'onion',
];

/** Why this hostname (as `new URL().hostname` spells it) is not a public host, or undefined. */
export function refuseHost(hostname: string): string | undefined {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  host = host.replace(/\.+$/, '');
  if (host === '') return 'no host';
  if (ipaddr.isValid(host)) {
    let address = ipaddr.parse(host);
    if (address.kind() === 'ipv6') {
      const v6 = address as ipaddr.IPv6;
      // An IPv4 address inside IPv6 is judged as that IPv4 address (and mapped ones are refused anyway).
      if (v6.isIPv4MappedAddress()) address = v6.toIPv4Address();
    }
    const range = address.range();
    if (range !== 'unicast') return `${host} is not a public address (${range})`;
    return undefined;
  }
  if (!host.includes('.')) return `"${host}" is not a public host name`;
  if (!/^[a-z0-9.-]+$/.test(host)) return `"${host}" is not a valid host name`;
  for (const suffix of LOCAL_SUFFIXES) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return `"${host}" is not a public host name`;
  }
  // Names that are all digits and dots (and not a valid address) never resolve publicly.
  if (/^[0-9.]+$/.test(host)) return `"${host}" is not a valid address`;
  return undefined;
}

/** The URL parsed and checked, or a RemoveBgError (failed_image_download) saying why not. */
export function checkImageUrl(text: string, devHosts: ReadonlySet<string>, what: string): URL {
  const fail = (why: string) => new RemoveBgError('failed_image_download', `${what}: ${why}`);
  if (text.length > MAX_URL_LENGTH) throw fail(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail('not a valid URL');
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  const dev = devHosts.has(`${url.hostname.toLowerCase()}:${port}`);
  if (url.protocol !== 'https:' && !(dev && url.protocol === 'http:'))
    throw fail(`only https URLs are fetched, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw fail('URLs with credentials are not fetched');
  if (!dev) {
    const why = refuseHost(url.hostname);
    if (why) throw fail(why);
  }
  return url;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Downloads the image at `text` within the limits: the bytes, or a RemoveBgError with remove.bg's
 * code (failed_image_download; file_too_large past the cap). The caller checks the magic bytes.
 */
export async function fetchImage(text: string, limits: ImageFetchLimits, what: string): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const timedOut = () =>
    new RemoveBgError('failed_image_download', `${what}: no complete answer within ${limits.timeoutMs} ms`);
  const tooLarge = () =>
    new RemoveBgError('file_too_large', `${what}: the image is over ${limits.maxBytes} bytes`);
  let url = checkImageUrl(text, limits.devHosts, what);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { accept: 'image/*', 'user-agent': 'bgremove-image-fetch/1' },
      });
    } catch (cause) {
      if (signal.aborted) throw timedOut();
      throw new RemoveBgError('failed_image_download', `${what}: ${url.host} could not be reached`, {
        cause,
      });
    }
    if (REDIRECTS.has(response.status)) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS)
        throw new RemoveBgError('failed_image_download', `${what}: more than ${MAX_REDIRECTS} redirects`);
      const location = response.headers.get('location');
      if (!location)
        throw new RemoveBgError('failed_image_download', `${what}: a redirect without a Location`);
      let next: string;
      try {
        next = new URL(location, url).href;
      } catch {
        throw new RemoveBgError('failed_image_download', `${what}: a redirect to an invalid URL`);
      }
      url = checkImageUrl(next, limits.devHosts, `${what} (redirect ${hop + 1})`);
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new RemoveBgError('failed_image_download', `${what}: the server answered ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    if (!response.body) return new Uint8Array();
    // A fetch Response's body is a byte stream; workerd's types leave its chunks untyped.
    const bytes = response.body as ReadableStream<Uint8Array>;
    return await readCapped(bytes, limits.maxBytes, signal, tooLarge, timedOut);
  }
}

async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  signal: AbortSignal,
  tooLarge: () => Error,
  timedOut: () => Error,
): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // A read that stalls past the deadline is given up even if the stream does not notice the abort.
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(timedOut());
    signal.addEventListener('abort', () => reject(timedOut()), { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await Promise.race([reader.read(), aborted]);
      } catch (error) {
        if (signal.aborted) throw timedOut();
        throw new RemoveBgError('failed_image_download', 'the download broke off', { cause: error });
      }
      if (chunk.done) break;
      total += chunk.value.byteLength;
      if (total > maxBytes) throw tooLarge();
      chunks.push(chunk.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
