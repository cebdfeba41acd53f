/**
 * Shopify App Proxy signatures. Shopify adds `shop`, `logged_in_customer_id`, `path_prefix`,
 * `timestamp` and `signature` to every request it proxies; `signature` is the hex HMAC-SHA256,
 * keyed with the app's API secret, of every other query parameter as `key=value` (the values of a
 * repeated key joined by commas), sorted, concatenated with no separator. Shopify's reference
 * code sorts the `key=value` strings, which is what is done here (the same as sorting by key
 * unless one key is a prefix of another).
 * https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
 */

import { importHmacKey } from '@bgremove/shared';

/** Requests whose `timestamp` is further than this from now are refused (replays). */
export const APP_PROXY_TOLERANCE_SECONDS = 300;

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The string Shopify signs for these query parameters. */
export function appProxyMessage(params: URLSearchParams): string {
  const values = new Map<string, string[]>();
  for (const [key, value] of params) {
    if (key === 'signature') continue;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return [...values]
    .map(([key, list]) => `${key}=${list.join(',')}`)
    .sort()
    .join('');
}

/** The `signature` Shopify would send with these parameters (tests, and tools that act as Shopify). */
export async function signAppProxyParams(params: URLSearchParams, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await importHmacKey(secret, 'sign'),
    new TextEncoder().encode(appProxyMessage(params)),
  );
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export type AppProxyVerdict = { ok: true; shop: string } | { ok: false; reason: string };

/**
 * Checks a proxied request's query: a fresh `timestamp`, a `shop` that is a myshopify.com domain,
 * and a `signature` over the rest, compared in constant time (WebCrypto verify).
 */
export async function verifyAppProxyParams(
  params: URLSearchParams,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AppProxyVerdict> {
  const signatures = params.getAll('signature');
  if (signatures.length === 0) return { ok: false, reason: 'missing signature' };
  if (signatures.length > 1 || !HEX_SHA256.test(signatures[0]!)) {
    return { ok: false, reason: 'malformed signature' };
  }
  const timestamp = Number(params.get('timestamp') ?? NaN);
  if (!Number.isSafeInteger(timestamp)) return { ok: false, reason: 'missing or malformed timestamp' };
  if (Math.abs(nowSeconds - timestamp) > APP_PROXY_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp outside the allowed window' };
  }
  const shop = params.get('shop') ?? '';
  if (params.getAll('shop').length !== 1 || !SHOP_DOMAIN.test(shop)) {
    return { ok: false, reason: 'missing or malformed shop' };
  }
  const mac = new Uint8Array(signatures[0]!.match(/../g)!.map((h) => parseInt(h, 16)));
  const valid = await crypto.subtle.verify(
    'HMAC',
    await importHmacKey(secret, 'verify'),
    mac,
    new TextEncoder().encode(appProxyMessage(params)),
  );
  return valid ? { ok: true, shop } : { ok: false, reason: 'signature mismatch' };
}
