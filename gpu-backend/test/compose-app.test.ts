/**
 * The composition options through the HTTP app with the real model: the foreground box the
 * backend reports matches its own matte, crop/background/JPEG give the image that box implies,
 * and bad option values are refused before any model run.
 */
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
      expect(Math.abs(v - measured[i]!), `box[${i}] ${header} vs ${measured}`).toBeLessThanOrEqual(4),
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
