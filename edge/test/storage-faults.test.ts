import { abortAllDurableObjects, listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backend, bytesOf, env, expectProblem, request, upload, uniqueImage } from './helpers';

/**
 * Faults in the parts around the Worker, injected into the real local bindings: R2 calls and Cache
 * API calls that throw, a Durable Object that fails or is reset mid-flight, a backend whose 200 is
 * no image. Each has its answer (docs/RELIABILITY.md, "Faults") and leaves nothing wrong stored;
 * after each the Worker still answers /healthz and a normal upload.
 */

const fault = (what: string) => new Error(`injected fault: ${what}`);

/** The real local bucket with some of its operations failing. */
function failingBucket(failing: ('get' | 'head' | 'put')[]): R2Bucket {
  const real = env.RESULTS;
  return new Proxy(real, {
    get(target, property: string) {
      if ((failing as string[]).includes(property)) return () => Promise.reject(fault(`R2 ${property}`));
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const withBucket = (bucket: R2Bucket): Env => ({ ...env, RESULTS: bucket });
const resultUrl = (key: string) => `https://edge.test/v1/results/${key}`;

/** A result stored while everything was healthy, then dropped from the Cache API so R2 is asked. */
async function storedOnlyInR2() {
  const image = uniqueImage();
  const res = await upload(image);
  expect(res.status).toBe(200);
  const key = res.headers.get('x-result-key')!;
  const bytes = await bytesOf(res);
  expect(await caches.default.delete(resultUrl(key))).toBe(true);
  return { image, key, bytes };
}

async function expectHealthy(): Promise<void> {
  expect((await request('/healthz')).status).toBe(200);
  const res = await upload(uniqueImage());
  expect(res.status).toBe(200);
  expect(await env.RESULTS.head(`results/${res.headers.get('x-result-key')}`)).not.toBeNull();
}

describe('faults around the Worker', () => {
  beforeEach(async () => {
    await backend.reset();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('R2 get failing: an upload is computed again by the backend (200), a result URL is 503 storage_unavailable', async () => {
    const { image, key, bytes } = await storedOnlyInR2();
    const broken = withBucket(failingBucket(['get', 'head']));
    await abortAllDurableObjects(); // forget the coalescer's recent result, so the backend is asked

    const again = await upload(image, '', { env: broken });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect(await bytesOf(again)).toEqual(bytes);
    expect(await backend.removeBackgroundCalls()).toBe(2);

    await caches.default.delete(resultUrl(key)); // the recomputed result went to the cache again
    const result = await request(`/v1/results/${key}`, { env: broken });
    await expectProblem(result, 503, 'storage_unavailable');
    expect(Number(result.headers.get('retry-after'))).toBeGreaterThan(0);
    const lookup = await request(`/v1/lookup?sha256=${again.headers.get('x-source-sha256')}&output=matte`, {
      env: broken,
    });
    await expectProblem(lookup, 503, 'storage_unavailable');

    // The store itself was never harmed: with R2 back, the stored result is served.
    const healthy = await request(`/v1/results/${key}`);
    expect(healthy.status).toBe(200);
    expect(await bytesOf(healthy)).toEqual(bytes);
    await expectHealthy();
  });

  it('R2 put failing: the upload still gets its result, which the cache tier serves; R2 holds nothing', async () => {
    const res = await upload(uniqueImage(), '', { env: withBucket(failingBucket(['put'])) });
    expect(res.status).toBe(200);
    const key = res.headers.get('x-result-key')!;
    const bytes = await bytesOf(res);
    expect(await env.RESULTS.head(`results/${key}`)).toBeNull();
    const fromCache = await request(`/v1/results/${key}`);
    expect(fromCache.status).toBe(200);
    expect(await bytesOf(fromCache)).toEqual(bytes);
    await expectHealthy();
  });

  it('Cache API match throwing: results come from R2', async () => {
    const { image, key, bytes } = await storedOnlyInR2();
    const match = vi.spyOn(caches.default, 'match').mockRejectedValue(fault('cache match'));
    const hit = await upload(image);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await bytesOf(hit)).toEqual(bytes);
    const result = await request(`/v1/results/${key}`);
    expect(result.status).toBe(200);
    expect(await bytesOf(result)).toEqual(bytes);
    expect(match).toHaveBeenCalled();
    expect(await backend.removeBackgroundCalls()).toBe(1);
    vi.restoreAllMocks();
    await expectHealthy();
  });

  it('Cache API put throwing: the result is stored in R2 and served from there', async () => {
    const put = vi.spyOn(caches.default, 'put').mockRejectedValue(fault('cache put'));
    const res = await upload(uniqueImage());
    expect(res.status).toBe(200);
    const key = res.headers.get('x-result-key')!;
    const bytes = await bytesOf(res);
    expect(put).toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(await caches.default.match(resultUrl(key))).toBeUndefined();
    const result = await request(`/v1/results/${key}`);
    expect(result.status).toBe(200);
    expect(await bytesOf(result)).toEqual(bytes);
    await expectHealthy();
  });

  it('the coalescing Durable Object failing: the upload goes to the backend directly and is stored', async () => {
    const brokenNamespace = {
      idFromName: (name: string) => env.COALESCER.idFromName(name),
      get: () => ({ removeBackground: () => Promise.reject(fault('Durable Object')) }),
    } as unknown as Env['COALESCER'];
    const res = await upload(uniqueImage(), '', { env: { ...env, COALESCER: brokenNamespace } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(await backend.removeBackgroundCalls()).toBe(1);
    expect(await env.RESULTS.head(`results/${res.headers.get('x-result-key')}`)).not.toBeNull();
    await expectHealthy();
  });

  it('the Durable Object reset mid-flight: the waiting uploads still get the same result, and it is stored', async () => {
    await backend.setMode({ kind: 'ok', delayMs: 500 });
    const image = uniqueImage();
    const before = new Set((await listDurableObjectIds(env.COALESCER)).map(String));
    const inFlight = Promise.all([upload(image), upload(image)]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const created = (await listDurableObjectIds(env.COALESCER)).filter((id) => !before.has(String(id)));
    expect(created).toHaveLength(1);
    const reset = await runInDurableObject(env.COALESCER.get(created[0]!), (_, state) => {
      state.abort('reset by the test');
    }).catch((error: unknown) => String(error));
    const responses = await inFlight;
    expect(reset).toMatch(/reset by the test/);
    // Each waiter, its coalescer gone, asked the backend itself (plus the reset instance's own call
    // when it had been sent): degraded to no coalescing, never to an error.
    expect(responses.map((r) => r.headers.get('x-cache'))).toEqual(['MISS', 'MISS']);
    const calls = await backend.removeBackgroundCalls();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(3);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const [first, second] = await Promise.all(responses.map(bytesOf));
    expect(second).toEqual(first);
    const key = responses[0].headers.get('x-result-key')!;
    const stored = await env.RESULTS.get(`results/${key}`);
    expect(stored && new Uint8Array(await stored.arrayBuffer())).toEqual(first);
    await backend.setMode({ kind: 'ok' });
    await expectHealthy();
  });

  it('backend 200 with the right type whose body is no image: 502 bad_gateway, nothing stored', async () => {
    await backend.setMode({ kind: 'not-an-image' });
    const image = uniqueImage();
    const res = await upload(image);
    const body = await expectProblem(res, 502, 'bad_gateway');
    expect(body.detail).not.toMatch(/html/i);
    await backend.setMode({ kind: 'ok' });
    const retried = await upload(image);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('x-cache')).toBe('MISS'); // nothing was stored under its key
    await expectHealthy();
  });
});
