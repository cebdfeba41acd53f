/**
 * The whole stack on real processes: the edge in workerd in front of the built backend running
 * the real IS-Net weights on CPU. Mattes are compared by MAE and IoU with the drawn photo's known
 * mask, and (with EVAL_DIR) with rembg's reference output for its car-1 photo.
 * The tests run in order: the last ones take the backend down and bring it back.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  channel,
  hasEvalData,
  iou,
  mae,
  maskPath,
  REMBG_FIXTURES,
  unique,
  uniquePhoto,
} from './support/images';
import { edgeUrl, inferencesTotal, sha256, startBackend, stopBackend, upload } from './support/stack-client';

const rembg = hasEvalData('rembg-fixtures', "rembg parity through the stack (matte against rembg's output)");
// A drawn photo with bytes after its end: the same picture, a source hash of its own for this run.
const drawn = uniquePhoto('ellipse');
let firstMatte: Uint8Array;
let resultKey: string;

/** The raw model output (rembg's): what is compared with rembg's reference. */
const RAW = 'refine=none&subject=all';
const problemOf = async (response: Response) =>
  (await response.json()) as { code: string; status: number; detail: string };

describe('a photo through the whole stack', () => {
  it('first upload: MISS, and the matte matches the known mask (IoU >= 0.9)', async () => {
    const before = await inferencesTotal();
    const response = await upload(drawn, '?output=matte');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBe('MISS');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-source-sha256')).toBe(sha256(drawn));
    expect(response.headers.get('server-timing')).toMatch(/inference;dur=\d/);
    resultKey = response.headers.get('x-result-key')!;
    expect(resultKey).toMatch(/^[0-9a-f]{64}$/);
    expect(response.headers.get('content-location')).toBe(`/v1/results/${resultKey}`);
    firstMatte = new Uint8Array(await response.arrayBuffer());

    const ours = await channel(Buffer.from(firstMatte), 'first');
    const mask = await channel(maskPath('ellipse'), 'first');
    expect(ours.channels).toBe(1);
    expect([ours.width, ours.height]).toEqual([mask.width, mask.height]);
    const i = iou(ours.data, mask.data);
    console.log(`drawn ellipse through the stack: IoU ${i.toFixed(4)} against its mask`);
    expect(i).toBeGreaterThanOrEqual(0.9);
    expect(await inferencesTotal()).toBe(before + 1);
  });

  it.skipIf(!rembg)(
    'rembg parity: car-1 through the stack matches rembg (MAE <= 0.01, IoU >= 0.97)',
    async () => {
      const response = await upload(
        unique(readFileSync(`${REMBG_FIXTURES}fixtures/car-1.jpg`)),
        `?output=matte&${RAW}`,
      );
      expect(response.status).toBe(200);
      const ours = await channel(Buffer.from(await response.arrayBuffer()), 'first');
      const theirs = await channel(`${REMBG_FIXTURES}results/car-1.isnet-general-use.png`, 'alpha');
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
      const m = mae(ours.data, theirs.data);
      const i = iou(ours.data, theirs.data);
      console.log(`car-1 through the stack: MAE ${m.toFixed(4)}, IoU ${i.toFixed(4)}`);
      expect(m).toBeLessThanOrEqual(0.01);
      expect(i).toBeGreaterThanOrEqual(0.97);
    },
  );

  it('the same photo again: HIT, identical bytes, and the model does not run', async () => {
    const before = await inferencesTotal();
    const response = await upload(drawn, '?output=matte');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(response.headers.get('x-result-key')).toBe(resultKey);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(firstMatte);
    expect(await inferencesTotal()).toBe(before);
  });

  it('the result URL and /v1/lookup agree, without an upload', async () => {
    const lookup = await fetch(`${edgeUrl()}/v1/lookup?sha256=${sha256(drawn)}&output=matte`);
    expect(lookup.status).toBe(200);
    const found = (await lookup.json()) as { key: string; url: string };
    expect(found.key).toBe(resultKey);
    expect(new URL(found.url).pathname).toBe(`/v1/results/${resultKey}`);

    const result = await fetch(found.url);
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(result.headers.get('etag')).toBe(`"${resultKey}"`);
    expect(new Uint8Array(await result.arrayBuffer())).toEqual(firstMatte);

    const revalidated = await fetch(found.url, { headers: { 'if-none-match': `"${resultKey}"` } });
    expect(revalidated.status).toBe(304);

    const other = await fetch(`${edgeUrl()}/v1/lookup?sha256=${sha256(drawn)}&output=cutout&max_side=64`);
    expect(other.status).toBe(404);
    expect((await problemOf(other)).code).toBe('not_cached');
  });

  it('refuses a file that is not an image, in problem+json, before it reaches the backend', async () => {
    const before = await inferencesTotal();
    const response = await upload(new TextEncoder().encode('just some text'), '', {
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect((await problemOf(response)).code).toBe('unsupported_media_type');
    expect(await inferencesTotal()).toBe(before);
  });
});

describe('the backend goes away and comes back', () => {
  it('backend down: uploads get 503 backend_unavailable with Retry-After; stored results are still served', async () => {
    await stopBackend();
    const started = Date.now();
    const refused = await upload(uniquePhoto('rounded-box'));
    const elapsed = Date.now() - started;
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect((await problemOf(refused)).code).toBe('backend_unavailable');
    expect(elapsed).toBeLessThan(10_000); // the e2e edge's retry budget is 1.5 s

    const stored = await fetch(`${edgeUrl()}/v1/results/${resultKey}`);
    expect(stored.status).toBe(200);
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(firstMatte);
    const hit = await upload(drawn, '?output=matte');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const lookup = await fetch(`${edgeUrl()}/v1/lookup?sha256=${sha256(drawn)}`);
    expect(lookup.status).toBe(200);

    const status = (await (await fetch(`${edgeUrl()}/v1/status`)).json()) as { backend: { ready: boolean } };
    expect(status.backend.ready).toBe(false);
  });

  it('backend restarted: new uploads work again', async () => {
    await startBackend();
    const response = await upload(uniquePhoto('rounded-box'), '?output=cutout&max_side=256');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBe('MISS');
    // The default (refined) cutout carries the subject's box and confidence from the backend.
    expect(response.headers.get('x-foreground-box')).toMatch(/^\d+,\d+,\d+,\d+$/);
    expect(Number(response.headers.get('x-subject-confidence'))).toBeGreaterThan(0.5);
    const alpha = await channel(Buffer.from(await response.arrayBuffer()), 'alpha');
    expect(alpha.channels).toBe(4);
    expect(Math.max(alpha.width, alpha.height)).toBe(256);
    // A cutout of the drawn box: some pixels are foreground, some are background.
    const opaque = alpha.data.filter((v) => v > 200).length / alpha.data.length;
    expect(opaque).toBeGreaterThan(0.05);
    expect(opaque).toBeLessThan(0.95);
  });
});
