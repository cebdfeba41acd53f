/**
 * The Shopify App Proxy in workerd: requests under APP_PROXY_PREFIX need Shopify's signature
 * (SHOPIFY_APP_SECRET) and a fresh timestamp, are rate-limited per shop, and reach the same
 * upload, lookup and results handlers as the public API.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { signAppProxyParams } from '../src/shopify-signature';
import { backend, bytesOf, env, expectProblem, request, uniqueImage, type RequestOptions } from './helpers';

const SECRET = 'shpss_0123456789abcdef0123456789';
const proxyEnv = { ...env, SHOPIFY_APP_SECRET: SECRET } as typeof env;
const SHOP = 'pet-portraits.myshopify.com';

/** The query Shopify would send for `query` from `shop`, signed at `timestamp`. */
async function shopifyQuery(
  query: string,
  { shop = SHOP, timestamp = Math.floor(Date.now() / 1000), secret = SECRET } = {},
): Promise<URLSearchParams> {
  const params = new URLSearchParams(query);
  params.set('shop', shop);
  params.set('logged_in_customer_id', '');
  params.set('path_prefix', '/apps/bgremove');
  params.set('timestamp', String(timestamp));
  params.set('signature', await signAppProxyParams(params, secret));
  return params;
}

const viaProxy = (path: string, params: URLSearchParams, init: RequestOptions = {}) =>
  request(`/apps/bgremove${path}?${params.toString()}`, { env: proxyEnv, ...init });

const sha256Hex = async (bytes: Uint8Array) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');

describe('Shopify app proxy', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('serves lookup, upload and results to correctly signed requests', async () => {
    const image = uniqueImage();
    const hash = await sha256Hex(image);
    const miss = await viaProxy('/v1/lookup', await shopifyQuery(`sha256=${hash}&output=cutout`));
    await expectProblem(miss, 404, 'not_cached');

    const uploaded = await viaProxy('/v1/remove-background', await shopifyQuery('output=cutout'), {
      method: 'POST',
      body: image,
      // A storefront on its own domain posts same-origin through Shopify: not subject to CORS_ORIGINS.
      headers: { 'content-type': 'image/jpeg', origin: 'https://pet-portraits.example' },
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.headers.get('x-cache')).toBe('MISS');
    const key = uploaded.headers.get('x-result-key')!;
    // Absolute: the storefront would resolve a relative URL against the shop's domain.
    expect(uploaded.headers.get('content-location')).toBe(`https://edge.test/v1/results/${key}`);
    expect(await backend.removeBackgroundCalls()).toBe(1);

    const hit = await viaProxy('/v1/lookup', await shopifyQuery(`sha256=${hash}&output=cutout`));
    expect(hit.status).toBe(200);
    expect(await hit.json()).toEqual({
      key,
      url: `https://edge.test/v1/results/${key}`,
      foreground_box: expect.stringMatching(/^\d+,\d+,\d+,\d+$/),
      subject_confidence: '0.970',
    });

    const result = await viaProxy(`/v1/results/${key}`, await shopifyQuery(''));
    expect(result.status).toBe(200);
    expect((await bytesOf(result)).length).toBeGreaterThan(0);
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it.each([
    [
      'missing',
      () =>
        Promise.resolve(
          new URLSearchParams(`output=cutout&shop=${SHOP}&timestamp=${Math.floor(Date.now() / 1000)}`),
        ),
    ],
    [
      'tampered',
      async () => {
        const params = await shopifyQuery('output=matte');
        params.set('output', 'cutout');
        return params;
      },
    ],
    [
      'signed for another shop',
      async () => {
        const params = await shopifyQuery('');
        params.set('shop', 'someone-else.myshopify.com');
        return params;
      },
    ],
    ['signed with another secret', () => shopifyQuery('', { secret: 'not-the-app-secret-at-all' })],
    ['stale (6 minutes old)', () => shopifyQuery('', { timestamp: Math.floor(Date.now() / 1000) - 360 })],
    [
      'from the future (6 minutes ahead)',
      () => shopifyQuery('', { timestamp: Math.floor(Date.now() / 1000) + 360 }),
    ],
  ])('refuses a %s signature with 401 unauthorized before any work', async (_name, params) => {
    const response = await viaProxy('/v1/remove-background', await params(), {
      method: 'POST',
      body: uniqueImage(),
      headers: { 'content-type': 'image/jpeg' },
    });
    const problem = await expectProblem(response, 401, 'unauthorized');
    expect(problem.detail).toBe('a valid Shopify app proxy signature is required');
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('refuses every proxied request while SHOPIFY_APP_SECRET is not set', async () => {
    const response = await request(
      `/apps/bgremove/v1/lookup?${(await shopifyQuery(`sha256=${'a'.repeat(64)}`)).toString()}`,
    );
    await expectProblem(response, 401, 'unauthorized');
  });

  it("validates the storefront query strictly, without Shopify's parameters", async () => {
    const unknown = await viaProxy('/v1/lookup', await shopifyQuery(`sha256=${'c'.repeat(64)}&colour=red`));
    const problem = await expectProblem(unknown, 400, 'invalid_request');
    expect(problem.detail).toBe('unknown parameter(s): colour');
    const bad = await viaProxy('/v1/remove-background', await shopifyQuery('output=mask'), {
      method: 'POST',
      body: uniqueImage(),
      headers: { 'content-type': 'image/jpeg' },
    });
    expect((await expectProblem(bad, 400, 'invalid_request')).detail).toMatch(/^output:/);
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('serves only the storefront routes, and documents none of them under the prefix', async () => {
    for (const path of ['/healthz', '/v1/status', '/openapi.json', '/v1/nothing']) {
      const problem = await expectProblem(await viaProxy(path, await shopifyQuery('')), 404, 'not_found');
      expect(problem.detail).toBe(`no route for GET ${path}`);
    }
    const doc = await (await request('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/apps/'))).toEqual([]);
  });

  it('leaves paths outside the prefix alone', async () => {
    const response = await request('/apps/bgremove-other/v1/lookup', { env: proxyEnv });
    await expectProblem(response, 404, 'not_found');
    const status = await request('/v1/status', { env: proxyEnv });
    expect(status.status).toBe(200);
  });

  it('rate-limits per shop, whatever the client IP', async () => {
    const shop = `busy-${crypto.randomUUID().slice(0, 8)}.myshopify.com`;
    const lookup = async (forShop: string) =>
      viaProxy('/v1/lookup', await shopifyQuery(`sha256=${'b'.repeat(64)}`, { shop: forShop }));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await lookup(shop)).status);
    expect(statuses).toEqual(Array(20).fill(404));
    const limited = await lookup(shop);
    await expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await lookup(`calm-${crypto.randomUUID().slice(0, 8)}.myshopify.com`)).status).toBe(404);
  });
});
