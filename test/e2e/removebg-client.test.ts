/**
 * The `remove.bg` npm package, unmodified, against the whole local stack (the edge in workerd,
 * the real backend): only its host is pointed at the edge, by wrapping `unirest.post` (the HTTP
 * call it makes to https://api.remove.bg/v1.0/removebg) to rewrite the origin. It gets its
 * result, headers and errors as remove.bg documents them.
 */
import { createRequire } from 'node:module';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { AdminClient } from '../../scripts/lib/admin-client';
import { BACKGROUND_RGB, channel, iou, maskPath, photoPath } from './support/images';

interface RemoveBgResult {
  base64img: string;
  creditsCharged: string;
  detectedType: string;
  resultWidth: string;
  resultHeight: string;
  rateLimit: string;
  rateLimitRemaining: string;
  rateLimitReset: string;
}
type RemoveBgError = { title: string; code?: string; detail?: string }[];
interface RemoveBg {
  removeBackgroundFromImageFile(o: Record<string, unknown>): Promise<RemoveBgResult>;
  removeBackgroundFromImageBase64(o: Record<string, unknown>): Promise<RemoveBgResult>;
  removeBackgroundFromImageUrl(o: Record<string, unknown>): Promise<RemoveBgResult>;
}

const edgeUrl = inject('edgeUrl');
const require = createRequire(import.meta.url);
// The package's own unirest (the instance it calls), with only the host changed.
const clientRequire = createRequire(require.resolve('remove.bg'));
const unirest = clientRequire('unirest') as { post: (url: string) => unknown };
const post = unirest.post.bind(unirest);
unirest.post = (url: string) => post(url.replace('https://api.remove.bg', edgeUrl));
const removeBg = clientRequire('remove.bg') as RemoveBg;

let apiKey: string;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the client to reject');
    },
    (errors: unknown) => errors as RemoveBgError,
  );

beforeAll(async () => {
  const admin = new AdminClient(edgeUrl, inject('adminToken'));
  apiKey = (
    await admin.create({ label: 'remove.bg client e2e', monthly_credits: 20, rate_limit_per_minute: 100 })
  ).key;
});

describe('the unmodified remove.bg npm client against the local edge', () => {
  it('removeBackgroundFromImageFile: the cutout (alpha matching the drawn mask), credits, type, size and rate-limit headers', async () => {
    const outputFile = join(await mkdtemp(join(tmpdir(), 'removebg-')), 'car.png');
    const sentAt = Math.floor(Date.now() / 1000);
    const result = await removeBg.removeBackgroundFromImageFile({
      path: photoPath('removebg-ellipse'),
      apiKey,
      size: 'regular',
      type: 'auto',
      outputFile,
    });
    expect(result.creditsCharged).toBe('0.25');
    expect(result.detectedType).toBe('other');
    expect([result.resultWidth, result.resultHeight]).toEqual(['480', '360']);
    expect(result.rateLimit).toBe('100');
    expect(Number(result.rateLimitRemaining)).toBeLessThan(100);
    // The end of the minute window the request fell in: after it was sent, at most a minute on.
    // (Not compared with the time now: the window may have ended while the test ran.)
    expect(Number(result.rateLimitReset)).toBeGreaterThan(sentAt);
    expect(Number(result.rateLimitReset)).toBeLessThanOrEqual(sentAt + 61);
    const png = await readFile(outputFile);
    expect(png.equals(Buffer.from(result.base64img, 'base64'))).toBe(true);
    const alpha = await channel(png, 'alpha');
    const mask = await channel(maskPath('removebg-ellipse'), 'first');
    expect([alpha.width, alpha.height]).toEqual([mask.width, mask.height]);
    expect(iou(alpha.data, mask.data)).toBeGreaterThanOrEqual(0.9);

    // The same photo again: from the cache, 0 credits.
    const again = await removeBg.removeBackgroundFromImageFile({
      path: photoPath('removebg-ellipse'),
      apiKey,
      size: 'regular',
    });
    expect(again.creditsCharged).toBe('0');
    expect(again.base64img).toBe(result.base64img);
  });

  it('removeBackgroundFromImageBase64 with crop, crop_margin and bg_color: a JPEG of the subject on that colour', async () => {
    const base64img = (await readFile(photoPath('removebg-ellipse'))).toString('base64');
    const result = await removeBg.removeBackgroundFromImageBase64({
      base64img,
      apiKey,
      size: 'full',
      crop: true,
      crop_margin: '10px',
      bg_color: 'white',
    });
    expect(result.creditsCharged).toBe('1');
    const bytes = Buffer.from(result.base64img, 'base64');
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect([String(meta.width), String(meta.height)]).toEqual([result.resultWidth, result.resultHeight]);
    expect(meta.width).toBeLessThan(480);
    const corner = await sharp(bytes).extract({ left: 0, top: 0, width: 3, height: 3 }).raw().toBuffer();
    expect(Math.min(...corner)).toBeGreaterThan(235);
  });

  it('roi: only what lies in the region is kept (the left half of a subject that spans both)', async () => {
    const result = await removeBg.removeBackgroundFromImageFile({
      path: photoPath('removebg-ellipse'),
      apiKey,
      size: 'regular',
      roi: '0% 0% 50% 100%',
    });
    expect(result.creditsCharged).toBe('0.25');
    const alpha = await channel(Buffer.from(result.base64img, 'base64'), 'alpha');
    const mask = await channel(maskPath('removebg-ellipse'), 'first');
    const half = Math.ceil(alpha.width / 2);
    let right = 0;
    const left = { ours: new Uint8Array(half * alpha.height), mask: new Uint8Array(half * alpha.height) };
    for (let y = 0; y < alpha.height; y++) {
      for (let x = 0; x < alpha.width; x++) {
        const v = alpha.data[y * alpha.width + x]!;
        if (x >= half) right += v;
        else {
          left.ours[y * half + x] = v;
          left.mask[y * half + x] = mask.data[y * mask.width + x]!;
        }
      }
    }
    expect(right).toBe(0);
    expect(iou(left.ours, left.mask)).toBeGreaterThanOrEqual(0.9);
  });

  it("errors come back as remove.bg's errors array", async () => {
    const wrongKey = await failure(
      removeBg.removeBackgroundFromImageFile({
        path: photoPath('removebg-ellipse'),
        apiKey: `bgr_${'x'.repeat(32)}`,
      }),
    );
    expect(wrongKey[0]).toMatchObject({ code: 'auth_failed', title: 'API Key invalid' });
    const badSize = await failure(
      removeBg.removeBackgroundFromImageFile({ path: photoPath('removebg-ellipse'), apiKey, size: 'huge' }),
    );
    expect(badSize[0]).toMatchObject({ code: 'invalid_size' });
    expect(badSize[0]!.detail).toMatch(/size/);
    const notImage = await failure(
      removeBg.removeBackgroundFromImageBase64({ base64img: 'aGVsbG8=', apiKey }),
    );
    expect(notImage[0]).toMatchObject({ code: 'invalid_file_type' });
  });

  it('GET /v1.0/account reports what is left', async () => {
    const response = await fetch(`${edgeUrl}/v1.0/account`, { headers: { 'x-api-key': apiKey } });
    expect(await response.json()).toEqual({
      data: {
        attributes: {
          // Charged so far: the file (0.25), the full-size base64 (1), the roi (0.25).
          credits: {
            total: 20 - 0.25 - 1 - 0.25,
            subscription: 20 - 0.25 - 1 - 0.25,
            payg: 0,
            enterprise: 0,
          },
          api: { free_calls: 0, sizes: 'all' },
        },
      },
    });
  });

  it('removeBackgroundFromImageUrl with bg_image_url: fetched by the edge, the subject over that background', async () => {
    const server = inject('photoServerUrl');
    const result = await removeBg.removeBackgroundFromImageUrl({
      url: `${server}/removebg-ellipse.jpg`,
      apiKey,
      size: 'regular',
      bg_image_url: `${server}/to?url=${encodeURIComponent(`${server}/removebg-background.png`)}`,
    });
    expect(result.creditsCharged).toBe('0.25');
    const bytes = Buffer.from(result.base64img, 'base64');
    // A PNG background may be transparent, so auto answers PNG; this one is opaque: 3 channels.
    expect(await sharp(bytes).metadata()).toMatchObject({
      format: 'png',
      width: 480,
      height: 360,
      channels: 3,
    });
    const got = await sharp(bytes).raw().toBuffer();
    const original = await sharp(photoPath('removebg-ellipse')).raw().toBuffer();
    const mask = await channel(maskPath('removebg-ellipse'), 'first');
    let [bgSum, bgN, fgSum, fgN] = [0, 0, 0, 0];
    for (let i = 0; i < mask.data.length; i++) {
      for (let ch = 0; ch < 3; ch++) {
        if (mask.data[i] === 0) {
          bgSum += Math.abs(got[i * 3 + ch]! - BACKGROUND_RGB[ch]!);
          bgN++;
        } else if (mask.data[i] === 255) {
          fgSum += Math.abs(got[i * 3 + ch]! - original[i * 3 + ch]!);
          fgN++;
        }
      }
    }
    // Where the drawn scene is background the blue shows, where it is the object the photo does.
    expect(bgSum / bgN).toBeLessThan(20);
    expect(fgSum / fgN).toBeLessThan(20);

    // Hostile URLs, directly or by a redirect, are refused with remove.bg's failed_image_download.
    for (const url of [
      'https://127.0.0.1/a.jpg',
      `${server}/to?url=${encodeURIComponent('http://169.254.169.254/')}`,
    ]) {
      const errors = await failure(removeBg.removeBackgroundFromImageUrl({ url, apiKey }));
      expect(errors[0]).toMatchObject({ code: 'failed_image_download' });
    }
  });

  it('format=zip (which the client cannot ask for: a plain request): color.jpg + alpha.png, the alpha matching the drawn mask', async () => {
    const body = new FormData();
    body.append('image_file', new Blob([await readFile(photoPath('removebg-ellipse'))]), 'photo.jpg');
    body.append('format', 'zip');
    body.append('size', 'regular');
    const response = await fetch(`${edgeUrl}/v1.0/removebg`, {
      method: 'POST',
      body,
      headers: { 'x-api-key': apiKey },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(['alpha.png', 'color.jpg']);
    expect(await sharp(files['color.jpg']).metadata()).toMatchObject({
      format: 'jpeg',
      width: 480,
      height: 360,
    });
    const alpha = await channel(Buffer.from(files['alpha.png']!), 'first');
    const mask = await channel(maskPath('removebg-ellipse'), 'first');
    expect([alpha.width, alpha.height]).toEqual([mask.width, mask.height]);
    expect(iou(alpha.data, mask.data)).toBeGreaterThanOrEqual(0.9);
  });
});
