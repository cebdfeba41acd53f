/**
 * The composition options through the HTTP app with the real model: the foreground box the
 * backend reports matches its own matte, crop/background/JPEG give the image that box implies,
 * and bad option values are refused before any model run.
 */
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBackend, type TestBackend } from './support/backend';
import { scenePhoto } from './support/images';

let backend: TestBackend;
let photo: Uint8Array;
const post = (query: string) =>
  backend.app.request(`/v1/remove-background${query}`, { method: 'POST', body: photo });

/** Bounding box of grey values above 8, from the decoded matte. */
async function matteBox(png: Buffer) {
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  let [minX, minY, maxX, maxY] = [info.width, info.height, -1, -1];
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++)
      if (data[y * info.width + x]! > 8) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
  return [minX, minY, maxX - minX + 1, maxY - minY + 1];
}

beforeAll(async () => {
  backend = await createTestBackend();
  photo = new Uint8Array(await scenePhoto());
});
afterAll(() => backend.close());

describe('composition options on the real pipeline', () => {
  it('X-Foreground-Box is the box of the matte it returns (within the resize rounding)', async () => {
    const response = await post('?output=matte&max_side=320');
    expect(response.status).toBe(200);
    const header = response.headers.get('x-foreground-box')!;
    expect(header).toMatch(/^\d+,\d+,\d+,\d+$/);
    const box = header.split(',').map(Number);
    const measured = await matteBox(Buffer.from(await response.arrayBuffer()));
    box.forEach((v, i) =>
      expect(Math.abs(v - measured[i]!), `box[${i}] ${header} vs ${measured.join(',')}`).toBeLessThanOrEqual(
        4,
      ),
    );
  });

  it('crop + bg_color + jpg: a JPEG the size of the box, opaque, on that colour', async () => {
    const plain = await post('?output=cutout&max_side=320');
    const [, , bw, bh] = plain.headers.get('x-foreground-box')!.split(',').map(Number);
    const response = await post(
      '?output=cutout&max_side=320&crop=true&crop_margin=10px,10px,10px,10px&bg_color=00ff00&format=jpg',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await response.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: bw! + 20, height: bh! + 20 });
    expect([response.headers.get('x-image-width'), response.headers.get('x-image-height')]).toEqual([
      String(bw! + 20),
      String(bh! + 20),
    ]);
    expect(response.headers.get('x-foreground-box')).toBe(`10,10,${bw},${bh}`);
    // The margin is background: green.
    const { data } = await sharp(bytes)
      .extract({ left: 0, top: 0, width: 4, height: 4 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeLessThan(40);
    expect(data[1]).toBeGreaterThan(215);
  });

  it('scale=50 centres the subject at half the canvas', async () => {
    const response = await post('?output=cutout&max_side=320&scale=50');
    expect(response.status).toBe(200);
    const [left, top, w, h] = response.headers.get('x-foreground-box')!.split(',').map(Number);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(Math.max(w! / meta.width, h! / meta.height)).toBeCloseTo(0.5, 1);
    expect(Math.abs(left! + w! / 2 - meta.width / 2)).toBeLessThanOrEqual(1);
    expect(Math.abs(top! + h! / 2 - meta.height / 2)).toBeLessThanOrEqual(1);
  });

  it('bg_image (multipart): the cutout over the background, which shows where the matte is clear', async () => {
    const background = await sharp({
      create: { width: 48, height: 32, channels: 3, background: { r: 20, g: 60, b: 230 } },
    })
      .png()
      .toBuffer();
    const sha = createHash('sha256').update(background).digest('hex');
    const form = () => {
      const body = new FormData();
      body.append('image', new Blob([photo]));
      body.append('bg_image', new Blob([background]));
      return body;
    };
    const query = `?output=cutout&max_side=320&bg_image=${sha}`;
    const response = await backend.app.request(`/v1/remove-background${query}`, {
      method: 'POST',
      body: form(),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const result = await sharp(Buffer.from(await response.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(result.info.channels).toBe(3);
    const cutout = await sharp(Buffer.from(await (await post('?output=cutout&max_side=320')).arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([result.info.width, result.info.height]).toEqual([cutout.info.width, cutout.info.height]);
    // Where the cutout is clear the background shows; where it is solid, the photo's pixels.
    const blue = [20, 60, 230];
    let [bgSum, bgN, fgSum, fgN] = [0, 0, 0, 0];
    for (let i = 0; i < cutout.info.width * cutout.info.height; i++) {
      const alpha = cutout.data[i * 4 + 3]!;
      for (let ch = 0; ch < 3; ch++) {
        const got = result.data[i * 3 + ch]!;
        if (alpha < 8) {
          bgSum += Math.abs(got - blue[ch]!);
          bgN++;
        } else if (alpha > 247) {
          fgSum += Math.abs(got - cutout.data[i * 4 + ch]!);
          fgN++;
        }
      }
    }
    expect(bgN).toBeGreaterThan(1000);
    expect(fgN).toBeGreaterThan(1000);
    expect(bgSum / bgN).toBeLessThan(3);
    expect(fgSum / fgN).toBeLessThan(3);

    // The hash is checked; the parts must be there; no multipart without bg_image.
    const wrong = await backend.app.request(
      `/v1/remove-background?output=cutout&bg_image=${'0'.repeat(64)}`,
      {
        method: 'POST',
        body: form(),
      },
    );
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { detail: string }).detail).toMatch(/SHA-256/);
    const raw = await post(`?output=cutout&bg_image=${sha}`);
    expect(raw.status).toBe(400);
    const noOption = await backend.app.request('/v1/remove-background?output=cutout', {
      method: 'POST',
      body: form(),
    });
    expect(noOption.status).toBe(400);
    const onlyImage = new FormData();
    onlyImage.append('image', new Blob([photo]));
    const missing = await backend.app.request(`/v1/remove-background${query}`, {
      method: 'POST',
      body: onlyImage,
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(/bg_image/);
  });

  it('format=zip: color.jpg + alpha.png that recombine to the PNG cutout (by tolerance)', async () => {
    const response = await post('?output=cutout&max_side=320&format=zip');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(['alpha.png', 'color.jpg']);
    const png = await sharp(Buffer.from(await (await post('?output=cutout&max_side=320')).arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const color = await sharp(files['color.jpg']).raw().toBuffer({ resolveWithObject: true });
    const alpha = await sharp(files['alpha.png'])
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([color.info.width, color.info.height, color.info.channels]).toEqual([
      png.info.width,
      png.info.height,
      3,
    ]);
    expect([alpha.info.width, alpha.info.height]).toEqual([png.info.width, png.info.height]);
    expect([response.headers.get('x-image-width'), response.headers.get('x-image-height')]).toEqual([
      String(png.info.width),
      String(png.info.height),
    ]);
    let [alphaSum, colorSum, colorN] = [0, 0, 0];
    const n = png.info.width * png.info.height;
    for (let i = 0; i < n; i++) {
      alphaSum += Math.abs(alpha.data[i]! - png.data[i * 4 + 3]!);
      // Colours matter where the cutout shows them (alpha-weighted).
      const weight = png.data[i * 4 + 3]! / 255;
      for (let ch = 0; ch < 3; ch++) {
        colorSum += weight * Math.abs(color.data[i * 3 + ch]! - png.data[i * 4 + ch]!);
        colorN += weight;
      }
    }
    expect(alphaSum / n).toBeLessThan(0.5);
    expect(colorSum / colorN).toBeLessThan(3);
    const matte = await post('?output=matte&format=zip');
    expect(matte.status).toBe(400);
  });

  it.each([
    ['bg_color=red', 'bg_color'],
    ['crop=yes', 'crop'],
    ['crop_margin=10px', 'crop_margin'],
    ['scale=5', 'scale'],
    ['position=left', 'position'],
    ['format=gif', 'format'],
  ])('%s is refused with 400 naming %s', async (query, field) => {
    const response = await post(`?${query}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain(field);
  });
});
