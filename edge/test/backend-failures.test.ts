import { beforeEach, describe, expect, it, vi } from 'vitest';
import { backend, bytesOf, env, expectProblem, request, upload, uniqueImage } from './helpers';
import { sha256Hex } from '@bgremove/shared';

/** An image already processed and stored while the backend was healthy. */
async function storedResult() {
  const image = uniqueImage();
  const res = await upload(image);
  expect(res.status).toBe(200);
  return { image, key: res.headers.get('x-result-key')!, bytes: await bytesOf(res) };
}

describe('the path to the backend', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('backend refusing connections: retried within the budget, then 503 backend_unavailable with Retry-After', async () => {
    await backend.setMode({ kind: 'down' });
    const started = Date.now();
    const res = await upload(uniqueImage());
    const body = await expectProblem(res, 503, 'backend_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // it waited and retried, within BACKEND_RETRY_BUDGET_MS
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.detail).not.toMatch(/127\.0\.0\.1|refused|ECONN/);
  });

  it('backend cold-starting: the retries reach it once it listens again', async () => {
    await backend.setMode({ kind: 'down', upAfterMs: 250 });
    const res = await upload(uniqueImage());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it('backend answering 503 while loading: retried until it answers', async () => {
    await backend.setMode({ kind: 'ok', failFirst: 2 });
    const res = await upload(uniqueImage());
    expect(res.status).toBe(200);
    expect(await backend.removeBackgroundCalls()).toBe(3);
  });

  it('backend 503 for longer than the budget: 503 backend_unavailable with its Retry-After', async () => {
    await backend.setMode({ kind: 'unavailable' });
    const res = await upload(uniqueImage());
    await expectProblem(res, 503, 'backend_unavailable');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await backend.removeBackgroundCalls()).toBeGreaterThan(1);
  });

  it('backend overloaded: 503 overloaded with Retry-After, logged as a warning (shedding), not an error', async () => {
    await backend.setMode({ kind: 'overloaded' });
    const errors = vi.spyOn(console, 'error');
    const warnings = vi.spyOn(console, 'warn');
    try {
      const res = await upload(uniqueImage());
      await expectProblem(res, 503, 'overloaded');
      expect(res.headers.get('retry-after')).toBe('3');
      const logged = (spy: typeof errors) => spy.mock.calls.map((call) => String(call[0]));
      expect(logged(warnings).filter((line) => line.includes('"event":"shed"'))).toHaveLength(1);
      expect(logged(errors).filter((line) => line.includes('overloaded'))).toEqual([]);
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it('backend hanging: 504 backend_timeout after BACKEND_TIMEOUT_MS, not retried', async () => {
    await backend.setMode({ kind: 'hang' });
    const started = Date.now();
    const res = await upload(uniqueImage());
    await expectProblem(res, 504, 'backend_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(Number(env.BACKEND_TIMEOUT_MS));
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it('backend 422 problem passes through with its code and detail', async () => {
    await backend.setMode({
      kind: 'problem',
      problem: { status: 422, code: 'invalid_image', detail: 'the JPEG could not be decoded' },
    });
    const body = await expectProblem(await upload(uniqueImage()), 422, 'invalid_image');
    expect(body.detail).toBe('the JPEG could not be decoded');
  });

  it("a passed-through problem keeps the backend's extension members, the well-formed ones only", async () => {
    await backend.setMode({
      kind: 'problem',
      problem: {
        status: 422,
        code: 'image_too_large',
        detail: 'the image is 9000×6000 = 54000000 pixels; the limit is 50000000',
        extensions: {
          limit_pixels: 50_000_000,
          seen: { width: 9000, height: 6000, pixels: 54_000_000, type: 'jpeg', note: 'dropped' },
          internal: 'never sent on',
        },
      },
    });
    const body = await expectProblem(await upload(uniqueImage()), 422, 'image_too_large');
    expect(body.limit_pixels).toBe(50_000_000);
    expect(body.seen).toEqual({ width: 9000, height: 6000, pixels: 54_000_000, type: 'jpeg' });
    expect(body).not.toHaveProperty('internal');
  });

  it('backend crashing with a non-problem 500: 502 bad_gateway, internals not sent', async () => {
    await backend.setMode({ kind: 'error' });
    const res = await upload(uniqueImage());
    const text = await res.clone().text();
    await expectProblem(res, 502, 'bad_gateway');
    expect(text).not.toContain('crash');
  });

  it('a result from other weights than the pinned ones is refused (502) and not stored', async () => {
    await backend.setMode({ kind: 'other-weights' });
    const image = uniqueImage();
    await expectProblem(await upload(image), 502, 'bad_gateway');
    await expectProblem(await request(`/v1/lookup?sha256=${await sha256Hex(image)}`), 404, 'not_cached');
  });

  it('a 200 with the wrong content type is refused (502) and not stored', async () => {
    await backend.setMode({ kind: 'wrong-type' });
    const image = uniqueImage();
    await expectProblem(await upload(image), 502, 'bad_gateway');
    await expectProblem(await request(`/v1/lookup?sha256=${await sha256Hex(image)}`), 404, 'not_cached');
  });

  it('a body cut off halfway is 502 bad_gateway (not a 500) and nothing is stored', async () => {
    await backend.setMode({ kind: 'truncated' });
    const image = uniqueImage();
    const body = await expectProblem(await upload(image), 502, 'bad_gateway');
    expect(body.detail).toMatch(/cut off/);
    await expectProblem(await request(`/v1/lookup?sha256=${await sha256Hex(image)}`), 404, 'not_cached');
    // The same upload later, with the backend healthy, is computed and stored.
    await backend.setMode({ kind: 'ok' });
    expect((await upload(image)).headers.get('x-cache')).toBe('MISS');
  });

  it('a body that never finishes is 504 after BACKEND_TIMEOUT_MS and nothing is stored', async () => {
    await backend.setMode({ kind: 'slow-body' });
    const image = uniqueImage();
    const started = Date.now();
    await expectProblem(await upload(image), 504, 'backend_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400); // BACKEND_TIMEOUT_MS is 1500 here
    await expectProblem(await request(`/v1/lookup?sha256=${await sha256Hex(image)}`), 404, 'not_cached');
  });

  it('a misconfigured edge answers 500 internal without saying more', async () => {
    const res = await request('/healthz', { env: { ...env, MAX_BODY_BYTES: 'lots' } });
    const body = await expectProblem(res, 500, 'internal');
    expect(body.detail).toBe('The edge is misconfigured.');
  });

  it('errors are never stored: after a failure the same upload goes to the backend again', async () => {
    const image = uniqueImage();
    await backend.setMode({ kind: 'unavailable' });
    const failed = await upload(image);
    expect(failed.status).toBe(503);
    await backend.setMode({ kind: 'ok' });
    const sha256 = await sha256Hex(image);
    await expectProblem(await request(`/v1/lookup?sha256=${sha256}`), 404, 'not_cached');
    const res = await upload(image);
    expect(res.headers.get('x-cache')).toBe('MISS');
  });

  it('stored results stay available while the backend is down', async () => {
    const { image, key, bytes } = await storedResult();
    await backend.setMode({ kind: 'down' });
    const hit = await upload(image);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await bytesOf(hit)).toEqual(bytes);
    const result = await request(`/v1/results/${key}`);
    expect(await bytesOf(result)).toEqual(bytes);
    const lookup = await request(`/v1/lookup?sha256=${await sha256Hex(image)}`);
    expect(lookup.status).toBe(200);
    await expectProblem(await upload(uniqueImage()), 503, 'backend_unavailable');
  });
});
