import {
  MODEL_MANIFEST,
  findModel,
  removeBackgroundQuerySchema,
  resultKey,
  sha256Hex,
} from '@bgremove/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { removeBackgroundOnBackend } from '../src/backend-client';
import { parseConfig } from '../src/config';
import { backend, bytesOf, env, expectProblem, fixture, request, upload, uniqueImage } from './helpers';

const ISNET_SHA256 = findModel('isnet-general-use')!.sha256!;

describe('content-hash cache', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('answers MISS, then HIT with identical bytes and no second backend call', async () => {
    const image = uniqueImage();
    const miss = await upload(image);
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    const missBytes = await bytesOf(miss);
    const key = miss.headers.get('x-result-key')!;
    const inCache = await caches.default.match(`https://edge.test/v1/results/${key}`);
    expect(inCache && (await bytesOf(inCache))).toEqual(missBytes);
    const hit = await upload(image);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(await bytesOf(hit)).toEqual(missBytes);
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it("passes the backend's subject signals on with every answer: the upload, a hit from each tier, the result URL", async () => {
    const image = uniqueImage();
    const miss = await upload(image, '?max_side=64');
    const box = miss.headers.get('x-foreground-box');
    expect(box).toMatch(/^\d+,\d+,\d+,\d+$/);
    expect(miss.headers.get('x-subject-confidence')).toBe('0.970');
    const key = miss.headers.get('x-result-key')!;
    await bytesOf(miss);
    const signals = (res: Response) => [
      res.headers.get('x-foreground-box'),
      res.headers.get('x-subject-confidence'),
    ];
    // From memory, then (memory off) the Cache API, then (cache emptied) R2's metadata.
    const hit = await upload(image, '?max_side=64');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(signals(hit)).toEqual([box, '0.970']);
    const noMemory = { env: { ...env, HOT_CACHE_BYTES: '0' } };
    const fromCache = await upload(image, '?max_side=64', noMemory);
    expect(signals(fromCache)).toEqual([box, '0.970']);
    await caches.default.delete(`https://edge.test/v1/results/${key}`);
    const fromR2 = await request(`/v1/results/${key}`, noMemory);
    expect(fromR2.status).toBe(200);
    expect(signals(fromR2)).toEqual([box, '0.970']);
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it('uses the shared result key over the source hash, pinned model hash and options', async () => {
    const image = uniqueImage();
    const res = await upload(image, '?output=cutout&format=webp&max_side=512');
    const sourceSha256 = await sha256Hex(image);
    const key = await resultKey({
      modelId: MODEL_MANIFEST.default,
      modelSha256: ISNET_SHA256,
      options: removeBackgroundQuerySchema.parse({ output: 'cutout', format: 'webp', max_side: '512' }),
      sourceSha256,
    });
    expect(res.headers.get('x-result-key')).toBe(key);
    expect(res.headers.get('etag')).toBe(`"${key}"`);
    expect(res.headers.get('content-location')).toBe(`/v1/results/${key}`);
    expect(res.headers.get('x-source-sha256')).toBe(sourceSha256);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('server-timing')).toMatch(/edge;dur=[\d.]+.*backend;dur=[\d.]+.*inference;dur=/);
  });

  it('stores the result in R2 with its content type and metadata', async () => {
    const image = uniqueImage('photo-96x64.png');
    const res = await upload(image, '?max_side=64', { headers: { 'content-type': 'image/png' } });
    const body = await bytesOf(res);
    const key = res.headers.get('x-result-key')!;
    const object = await env.RESULTS.get(`results/${key}`);
    expect(object).not.toBeNull();
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(body);
    expect(object!.httpMetadata?.contentType).toBe('image/png');
    expect(object!.customMetadata).toMatchObject({
      model: 'isnet-general-use',
      model_sha256: ISNET_SHA256,
      output: 'matte',
      format: 'png',
      max_side: '64',
      refine: 'auto',
      subject: 'main',
      subject_confidence: '0.970',
      roi: 'none',
      source_sha256: await sha256Hex(image),
      width: '64',
      height: '43',
    });
    expect(Date.now() - Date.parse(object!.customMetadata!.created!)).toBeLessThan(60_000);
  });

  it('different options and models are different results', async () => {
    const image = uniqueImage();
    const keys = new Set<string>();
    for (const query of [
      '',
      '?output=cutout',
      '?format=webp',
      '?max_side=128',
      '?model=isnet-general-use-quint8',
      '?refine=none',
      '?subject=all',
      '?roi=0,0,50%,50%',
      '?model=u2netp',
    ]) {
      const res = await upload(image, query);
      expect(res.headers.get('x-cache')).toBe('MISS');
      keys.add(res.headers.get('x-result-key')!);
    }
    expect(keys.size).toBe(9);
    expect(await backend.removeBackgroundCalls()).toBe(9);
  });

  it('model=u2netp goes to the backend as u2netp, is keyed by its pinned weights and looked up by them', async () => {
    const image = uniqueImage();
    const res = await upload(image, '?model=u2netp');
    expect(res.status).toBe(200);
    const { requests } = await backend.calls();
    expect(requests.map((r) => r.path)).toEqual([
      '/v1/remove-background?crop=false&format=png&model=u2netp&output=matte&refine=auto&subject=main',
    ]);
    const key = res.headers.get('x-result-key')!;
    const u2netp = findModel('u2netp')!;
    expect(key).toBe(
      await resultKey({
        modelId: 'u2netp',
        modelSha256: u2netp.sha256!,
        options: removeBackgroundQuerySchema.parse({ model: 'u2netp' }),
        sourceSha256: await sha256Hex(image),
      }),
    );
    const lookup = await request(`/v1/lookup?sha256=${await sha256Hex(image)}&model=u2netp`);
    expect(lookup.status).toBe(200);
    expect((await lookup.json<{ key: string }>()).key).toBe(key);
    const again = await upload(image, '?model=u2netp');
    expect(again.headers.get('x-cache')).toBe('HIT');
  });

  it('sends the backend a signed request with the model filled in, the request id and the time it will wait', async () => {
    const image = uniqueImage('photo-96x64-lossless.webp');
    const res = await upload(image, '?format=webp', {
      headers: { 'x-request-id': 'req-abc-123', 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const { requests } = await backend.calls();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toEqual({
      method: 'POST',
      path: '/v1/remove-background?crop=false&format=webp&model=isnet-general-use&output=matte&refine=auto&subject=main',
      signature: 'ok',
      requestId: 'req-abc-123',
      // BACKEND_TIMEOUT_MS (1500 here) less the margin for the way back (5%).
      timeLeft: '1425',
      contentType: 'image/webp',
      bodySha256: await sha256Hex(image),
    });
  });

  it('a backend with another secret refuses the edge: the signature is really checked', async () => {
    // Through the backend client directly: the Durable Object reads the env it was started with.
    const config = parseConfig({ ...env, BACKEND_SHARED_SECRET: 'not-the-backend-secret-at-all' });
    const image = fixture('photo-96x64.jpg');
    const outcome = await removeBackgroundOnBackend(config, {
      bytes: image.slice().buffer,
      mime: 'image/jpeg',
      sourceSha256: await sha256Hex(image),
      model: 'isnet-general-use',
      modelSha256: ISNET_SHA256,
      options: removeBackgroundQuerySchema.parse({}),
      requestId: 'r1',
    });
    expect(outcome).toMatchObject({ ok: false, code: 'bad_gateway' });
    expect((await backend.calls()).requests.map((r) => r.signature)).toEqual(['bad']);
  });

  it.each(['photo-96x64.png', 'photo-96x64-lossy.webp', 'photo-96x64-alpha.webp', 'photo-96x64.avif'])(
    'accepts %s',
    async (name) => {
      const res = await upload(uniqueImage(name), '', {
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('MISS');
    },
  );
});

describe('public results', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  async function stored() {
    const res = await upload(uniqueImage());
    return { key: res.headers.get('x-result-key')!, bytes: await bytesOf(res) };
  }

  it('GET serves the stored bytes with immutable caching and an ETag', async () => {
    const { key, bytes } = await stored();
    const res = await request(`/v1/results/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe(`"${key}"`);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await bytesOf(res)).toEqual(bytes);
  });

  it('GET falls back to R2 when this colo cache does not have it', async () => {
    const { key, bytes } = await stored();
    await caches.default.delete(`https://edge.test/v1/results/${key}`);
    expect(await caches.default.match(`https://edge.test/v1/results/${key}`)).toBeUndefined();
    const res = await request(`/v1/results/${key}`);
    expect(await bytesOf(res)).toEqual(bytes);
    expect(await caches.default.match(`https://edge.test/v1/results/${key}`)).toBeDefined();
  });

  it('serves hot results from isolate memory when HOT_CACHE_BYTES is set, repeatedly', async () => {
    const hotEnv = { ...env, HOT_CACHE_BYTES: String(1024 * 1024) };
    const res = await upload(uniqueImage(), '', { env: hotEnv });
    const key = res.headers.get('x-result-key')!;
    const bytes = await bytesOf(res);
    await env.RESULTS.delete(`results/${key}`);
    await caches.default.delete(`https://edge.test/v1/results/${key}`);
    for (let i = 0; i < 2; i++) {
      const hot = await request(`/v1/results/${key}`, { env: hotEnv });
      expect(hot.status).toBe(200);
      expect(await bytesOf(hot)).toEqual(bytes);
    }
    await expectProblem(await request(`/v1/results/${key}`), 404, 'not_found');
  });

  it('HEAD answers the headers and length without a body', async () => {
    const { key, bytes } = await stored();
    const res = await request(`/v1/results/${key}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${key}"`);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('If-None-Match with the ETag gives 304', async () => {
    const { key } = await stored();
    const res = await request(`/v1/results/${key}`, { headers: { 'if-none-match': `W/"${key}"` } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(`"${key}"`);
    const other = await request(`/v1/results/${key}`, {
      headers: { 'if-none-match': `"${'0'.repeat(64)}"` },
    });
    expect(other.status).toBe(200);
  });

  it('an unknown or malformed key is not_found', async () => {
    await expectProblem(await request(`/v1/results/${'a'.repeat(64)}`), 404, 'not_found');
    await expectProblem(await request('/v1/results/not-a-key'), 404, 'not_found');
  });
});

describe('lookup', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('finds a stored result from the source hash alone, and misses otherwise', async () => {
    const image = uniqueImage();
    const sha256 = await sha256Hex(image);
    await expectProblem(await request(`/v1/lookup?sha256=${sha256}`), 404, 'not_cached');
    const res = await upload(image, '?output=cutout');
    const key = res.headers.get('x-result-key')!;
    await expectProblem(await request(`/v1/lookup?sha256=${sha256}`), 404, 'not_cached');
    const hit = await request(`/v1/lookup?sha256=${sha256.toUpperCase()}&output=cutout`);
    expect(hit.status).toBe(200);
    expect(await hit.json()).toEqual({
      key,
      url: `https://edge.test/v1/results/${key}`,
      foreground_box: expect.stringMatching(/^\d+,\d+,\d+,\d+$/),
      subject_confidence: '0.970',
    });
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it('validates its query like the upload does', async () => {
    const bad = await expectProblem(await request('/v1/lookup?sha256=xyz'), 400, 'invalid_request');
    expect(bad.detail).toContain('sha256');
    await expectProblem(
      await request(`/v1/lookup?sha256=${'a'.repeat(64)}&model=u2net`),
      422,
      'unknown_model',
    );
    await expectProblem(await request(`/v1/lookup?sha256=${'a'.repeat(64)}&extra=1`), 400, 'invalid_request');
  });
});
