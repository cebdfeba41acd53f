import { beforeEach, describe, expect, it } from 'vitest';
import { backend, expectProblem, request, upload, uniqueImage } from './helpers';

const preflight = (origin: string) =>
  request('/v1/remove-background', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });

describe('CORS', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it.each(['https://shop.example.com', 'https://my-store.myshopify.com'])(
    'allows a preflight from %s',
    async (origin) => {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
      expect(res.headers.get('vary')).toContain('Origin');
    },
  );

  it.each([
    'https://evil.example',
    'http://shop.example.com',
    'https://myshopify.com',
    'https://a.b.myshopify.com',
    'https://shop.example.com.evil.example',
  ])('refuses a preflight from %s', async (origin) => {
    const res = await preflight(origin);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const body = await expectProblem(res, 403, 'forbidden');
    expect(body.detail).toContain(origin);
  });

  it('exposes the result headers to an allowed origin', async () => {
    const res = await upload(uniqueImage(), '', { headers: { origin: 'https://my-store.myshopify.com' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://my-store.myshopify.com');
    const exposed = res.headers.get('access-control-expose-headers')!.split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['X-Result-Key', 'X-Cache', 'Content-Location']));
  });

  it('also on errors', async () => {
    const res = await upload(new TextEncoder().encode('text'), '', {
      headers: { origin: 'https://shop.example.com' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    await expectProblem(res, 415, 'unsupported_media_type');
  });

  it("allows the edge's own page (same origin) without listing it in CORS_ORIGINS", async () => {
    const res = await upload(uniqueImage(), '', { headers: { origin: 'https://edge.test' } });
    expect(res.status).toBe(200);
  });

  it('refuses an upload from another origin before it costs anything', async () => {
    const res = await upload(uniqueImage(), '', { headers: { origin: 'https://evil.example' } });
    await expectProblem(res, 403, 'forbidden');
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('serves public results to any page but grants CORS reads only to allowed origins', async () => {
    const key = (await upload(uniqueImage())).headers.get('x-result-key')!;
    const other = await request(`/v1/results/${key}`, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await request(`/v1/results/${key}`, { headers: { origin: 'https://shop.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
  });
});

describe('rate limit', () => {
  it('answers 429 rate_limited with Retry-After once a client passes the limit, per client', async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;
    const text = new TextEncoder().encode('cheap to refuse');
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await upload(text, '', { ip })).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(415));
    const limited = await upload(text, '', { ip });
    await expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBe(60);
    const lookup = await request(`/v1/lookup?sha256=${'a'.repeat(64)}`, { ip });
    await expectProblem(lookup, 429, 'rate_limited');
    expect((await upload(text)).status).toBe(415); // another client is unaffected
    expect(
      (await upload(text, '', { ip, headers: { 'x-shop-domain': 'other-shop.myshopify.com' } })).status,
    ).toBe(415); // nor the same IP for another shop
  });

  it('caps one IP across shops, so rotating X-Shop-Domain does not escape the limit', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;
    const text = new TextEncoder().encode('cheap to refuse');
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) {
      const shop = `shop-${i}.myshopify.com`;
      statuses.push((await upload(text, '', { ip, headers: { 'x-shop-domain': shop } })).status);
    }
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(415));
    expect(statuses[40]).toBe(429);
  });
});
