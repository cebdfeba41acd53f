import { describe, expect, it } from 'vitest';
import { appProxyMessage, signAppProxyParams, verifyAppProxyParams } from './shopify-signature';

// Shopify's documented examples (secret "hush"): the current page, and the older one without
// logged_in_customer_id. https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
const DOCUMENTED = [
  {
    query:
      'extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555',
    signature: '4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb',
  },
  {
    query:
      'extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555',
    signature: 'a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3',
  },
];
const THEN = 1317327555;

describe('Shopify app proxy signature', () => {
  it('builds the message Shopify signs: sorted key=value pairs, repeated values joined by commas', () => {
    const params = new URLSearchParams(`${DOCUMENTED[0]!.query}&signature=ignored`);
    expect(appProxyMessage(params)).toBe(
      'extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555',
    );
  });

  it.each(DOCUMENTED)('reproduces and accepts the documented signature $signature', async (example) => {
    const params = new URLSearchParams(example.query);
    expect(await signAppProxyParams(params, 'hush')).toBe(example.signature);
    params.set('signature', example.signature);
    expect(await verifyAppProxyParams(params, 'hush', THEN + 10)).toEqual({
      ok: true,
      shop: 'shop-name.myshopify.com',
    });
  });

  const signed = () => new URLSearchParams(`${DOCUMENTED[0]!.query}&signature=${DOCUMENTED[0]!.signature}`);

  it.each([
    ['another secret', (p: URLSearchParams) => p, 'not-hush', 'signature mismatch'],
    ['a changed value', (p: URLSearchParams) => (p.set('extra', '3'), p), 'hush', 'signature mismatch'],
    [
      'an added parameter',
      (p: URLSearchParams) => (p.append('output', 'cutout'), p),
      'hush',
      'signature mismatch',
    ],
    [
      'another shop',
      (p: URLSearchParams) => (p.set('shop', 'other.myshopify.com'), p),
      'hush',
      'signature mismatch',
    ],
    ['no signature', (p: URLSearchParams) => (p.delete('signature'), p), 'hush', 'missing signature'],
    [
      'two signatures',
      (p: URLSearchParams) => (p.append('signature', 'a'.repeat(64)), p),
      'hush',
      'malformed signature',
    ],
    [
      'a non-hex signature',
      (p: URLSearchParams) => (p.set('signature', 'zz'), p),
      'hush',
      'malformed signature',
    ],
    [
      'no timestamp',
      (p: URLSearchParams) => (p.delete('timestamp'), p),
      'hush',
      'missing or malformed timestamp',
    ],
    [
      'a shop outside myshopify.com',
      (p: URLSearchParams) => (p.set('shop', 'evil.example'), p),
      'hush',
      'missing or malformed shop',
    ],
  ] as const)('refuses %s', async (_name, change, secret, reason) => {
    expect(await verifyAppProxyParams(change(signed()), secret, THEN)).toEqual({ ok: false, reason });
  });

  it('refuses a timestamp more than 300 s away, either way, and accepts one at the edge of the window', async () => {
    const verdict = (now: number) => verifyAppProxyParams(signed(), 'hush', now);
    expect(await verdict(THEN + 301)).toEqual({ ok: false, reason: 'timestamp outside the allowed window' });
    expect(await verdict(THEN - 301)).toEqual({ ok: false, reason: 'timestamp outside the allowed window' });
    expect((await verdict(THEN + 300)).ok).toBe(true);
  });
});
