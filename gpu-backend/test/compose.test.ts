/**
 * Composition (crop, margins, scale, position, background colour, JPEG, alpha only) on synthetic
 * RGBA images whose geometry is known, and the foreground box of a matte.
 */
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { compose, foregroundBox, formatBox, type Box, type ComposeOptions } from '../src/pipeline/compose';

const W = 100;
const H = 80;
const SUBJECT: Box = { left: 20, top: 10, width: 30, height: 40 };

/** A W×H RGBA image: a fully opaque red rectangle (SUBJECT), transparent green elsewhere. */
function scene(subject: Box = SUBJECT): Buffer {
  const rgba = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      const inside =
        x >= subject.left &&
        x < subject.left + subject.width &&
        y >= subject.top &&
        y < subject.top + subject.height;
      rgba.set(inside ? [255, 0, 0, 255] : [0, 255, 0, 0], i);
    }
  }
  return rgba;
}

async function run(options: Partial<ComposeOptions> & { background?: Buffer }, subject: Box = SUBJECT) {
  const composed = await compose(scene(subject), { width: W, height: H }, subject, {
    output: 'cutout',
    format: 'png',
    pngCompressionLevel: 1,
    ...options,
  });
  const decoded = await sharp(composed.bytes).raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) => {
    const c = decoded.info.channels;
    return [...decoded.data.subarray((y * decoded.info.width + x) * c, (y * decoded.info.width + x + 1) * c)];
  };
  return { ...composed, info: decoded.info, pixel };
}

describe('foreground box', () => {
  it('is the bounding box of alpha values above the threshold', async () => {
    const alpha = Buffer.alloc(10 * 8);
    alpha[2 * 10 + 3] = 200; // (3, 2)
    alpha[6 * 10 + 7] = 9; // (7, 6): just above the threshold
    alpha[7 * 10 + 9] = 8; // at the threshold: background
    expect(await foregroundBox(alpha, { width: 10, height: 8 })).toEqual({
      left: 3,
      top: 2,
      width: 5,
      height: 5,
    });
    const full = Buffer.alloc(10 * 8, 255);
    expect(await foregroundBox(full, { width: 10, height: 8 })).toEqual({
      left: 0,
      top: 0,
      width: 10,
      height: 8,
    });
    expect(formatBox(await foregroundBox(Buffer.alloc(10 * 8, 8), { width: 10, height: 8 }))).toBe('none');
    // Too small for libvips' trim: scanned.
    expect(await foregroundBox(Buffer.from([0, 200]), { width: 2, height: 1 })).toEqual({
      left: 1,
      top: 0,
      width: 1,
      height: 1,
    });
    expect(await foregroundBox(Buffer.from([0]), { width: 1, height: 1 })).toBeUndefined();
  });
});

describe('compose', () => {
  it('crop: the canvas is the subject', async () => {
    const r = await run({ crop: 'true' });
    expect([r.width, r.height, r.info.width, r.info.height]).toEqual([30, 40, 30, 40]);
    expect(r.box).toEqual({ left: 0, top: 0, width: 30, height: 40 });
    expect(r.pixel(0, 0)).toEqual([255, 0, 0, 255]);
    expect(r.pixel(29, 39)).toEqual([255, 0, 0, 255]);
  });

  it('crop_margin in px (CSS order) and in % of the subject; beyond the image it is transparent', async () => {
    const px = await run({ crop: 'true', crop_margin: '5px,10px,15px,20px' });
    expect([px.width, px.height]).toEqual([30 + 10 + 20, 40 + 5 + 15]);
    expect(px.box).toEqual({ left: 20, top: 5, width: 30, height: 40 });
    expect(px.pixel(0, 0)[3]).toBe(0);
    expect(px.pixel(20, 5)).toEqual([255, 0, 0, 255]);
    const pct = await run({ crop: 'true', crop_margin: '10%,10%,10%,10%' });
    expect([pct.width, pct.height]).toEqual([30 + 6, 40 + 8]);
    // The subject at the image's corner, 10 px margin: the canvas reaches past the image.
    const edge = await run(
      { crop: 'true', crop_margin: '10px,10px,10px,10px' },
      { left: 0, top: 0, width: 30, height: 40 },
    );
    expect([edge.width, edge.height]).toEqual([50, 60]);
    expect(edge.pixel(0, 0)[3]).toBe(0);
    expect(edge.pixel(10, 10)).toEqual([255, 0, 0, 255]);
  });

  it('scale: the subject fits that share of the canvas, centred by default', async () => {
    const full = await run({ scale: 100 });
    expect([full.width, full.height]).toEqual([W, H]);
    // 30×40 into 100×80: limited by the height, ×2.
    expect(full.box).toEqual({ left: 20, top: 0, width: 60, height: 80 });
    expect(full.pixel(50, 40)).toEqual([255, 0, 0, 255]);
    expect(full.pixel(10, 40)[3]).toBe(0);
    const half = await run({ scale: 50, position: '0%,0%' });
    expect(half.box).toEqual({ left: 0, top: 0, width: 30, height: 40 });
  });

  it('position without scale moves the subject: center, or x%,y% of the free room', async () => {
    const center = await run({ position: 'center' });
    expect(center.box).toEqual({ left: 35, top: 20, width: 30, height: 40 });
    const corner = await run({ position: '100%,100%' });
    expect(corner.box).toEqual({ left: 70, top: 40, width: 30, height: 40 });
    expect(corner.pixel(99, 79)).toEqual([255, 0, 0, 255]);
    expect(corner.pixel(20, 10)[3]).toBe(0);
  });

  it('bg_color: opaque gives three channels, translucent keeps alpha', async () => {
    const opaque = await run({ bg_color: '0000ffff' });
    expect(opaque.info.channels).toBe(3);
    expect(opaque.pixel(0, 0)).toEqual([0, 0, 255]);
    expect(opaque.pixel(25, 15)).toEqual([255, 0, 0]);
    const translucent = await run({ bg_color: '0000ff80' });
    expect(translucent.info.channels).toBe(4);
    expect(translucent.pixel(0, 0)).toEqual([0, 0, 255, 128]);
    expect(translucent.pixel(25, 15)).toEqual([255, 0, 0, 255]);
  });

  it('jpg: flattened on white (or the bg_color); channels=alpha (matte): the subject alpha only', async () => {
    const jpg = await run({ format: 'jpg' });
    expect((await sharp(jpg.bytes).metadata()).format).toBe('jpeg');
    for (const [a, b] of [
      [jpg.pixel(0, 0), [255, 255, 255]],
      [jpg.pixel(35, 30), [255, 0, 0]],
    ] as const) {
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(8));
    }
    const matte = await run({ output: 'matte', crop: 'true', bg_color: '0000ffff' });
    expect((await sharp(matte.bytes).metadata()).channels).toBe(1);
    expect([matte.width, matte.height]).toEqual([30, 40]);
    expect(matte.pixel(0, 0)[0]).toBe(255);
  });

  /**
   * A w×h image in two colours, split at `at` (a fraction) across x or y, with or without alpha.
   * The split is off-centre so that cover, fill and contain put it in different places.
   */
  async function halves(
    w: number,
    h: number,
    split: 'x' | 'y',
    at: number,
    a: number[],
    b: number[],
    as: 'png' | 'jpeg' = 'png',
  ): Promise<Buffer> {
    const channels = a.length as 3 | 4;
    const raw = Buffer.alloc(w * h * channels);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        raw.set((split === 'x' ? x < w * at : y < h * at) ? a : b, (y * w + x) * channels);
    const image = sharp(raw, { raw: { width: w, height: h, channels } });
    return as === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
  }

  /** Mean absolute difference per channel over a region, against one colour. */
  function regionMae(result: Awaited<ReturnType<typeof run>>, region: Box, colour: number[]): number {
    let sum = 0;
    let n = 0;
    for (let y = region.top; y < region.top + region.height; y++)
      for (let x = region.left; x < region.left + region.width; x++) {
        const p = result.pixel(x, y);
        colour.forEach((c, i) => {
          sum += Math.abs(p[i]! - c);
          n++;
        });
      }
    return sum / n;
  }

  it('bg_image: scaled to cover the canvas (centred, overflow cut), the subject over it', async () => {
    // 40×20, blue up to x = 10, then yellow, on a 100×80 canvas: scale max(100/40, 80/20) = 4,
    // 160×80, cut to x 30..130, so the colours meet at canvas x = 10·4 − 30 = 10 (fill: 25).
    const background = await halves(40, 20, 'x', 0.25, [0, 0, 255], [255, 255, 0]);
    const result = await run({ bg_image: 'a'.repeat(64), background });
    expect(result.info.channels).toBe(3);
    expect([result.info.width, result.info.height]).toEqual([W, H]);
    expect(regionMae(result, { left: 0, top: 0, width: 8, height: H }, [0, 0, 255])).toBeLessThan(2);
    expect(regionMae(result, { left: 12, top: 0, width: 6, height: H }, [255, 255, 0])).toBeLessThan(2);
    expect(regionMae(result, { left: 55, top: 0, width: 45, height: H }, [255, 255, 0])).toBeLessThan(2);
    expect(regionMae(result, { left: 22, top: 12, width: 26, height: 36 }, [255, 0, 0])).toBeLessThan(2);
    expect(result.box).toEqual(SUBJECT);
  });

  it('bg_image of another shape: covers by height; with crop it covers the cropped canvas', async () => {
    // 20×40, magenta up to y = 16, on 100×80: scale max(5, 2) = 5, 100×200 cut to y 60..140:
    // the colours meet at y = 16·5 − 60 = 20 (fill: 32).
    const background = await halves(20, 40, 'y', 0.4, [255, 0, 255], [0, 255, 255], 'jpeg');
    const result = await run({ bg_image: 'b'.repeat(64), background, format: 'jpg' });
    expect((await sharp(result.bytes).metadata()).format).toBe('jpeg');
    expect(regionMae(result, { left: 60, top: 0, width: 40, height: 16 }, [255, 0, 255])).toBeLessThan(6);
    expect(regionMae(result, { left: 60, top: 24, width: 40, height: 56 }, [0, 255, 255])).toBeLessThan(6);
    // crop: the canvas is the 30×40 subject + 10 px: 50×60; the background covers exactly that.
    const cropped = await run({
      bg_image: 'b'.repeat(64),
      background,
      crop: 'true',
      crop_margin: '10px,10px,10px,10px',
    });
    expect([cropped.info.width, cropped.info.height]).toEqual([50, 60]);
    // 20×40 on 50×60: scale max(2.5, 1.5) = 2.5, 50×100 cut to y 20..80: the colours meet at
    // y = 16·2.5 − 20 = 20 (fill: 24).
    expect(regionMae(cropped, { left: 0, top: 0, width: 50, height: 8 }, [255, 0, 255])).toBeLessThan(6);
    expect(regionMae(cropped, { left: 0, top: 22, width: 8, height: 28 }, [0, 255, 255])).toBeLessThan(6);
    expect(regionMae(cropped, { left: 0, top: 52, width: 50, height: 8 }, [0, 255, 255])).toBeLessThan(6);
    expect(regionMae(cropped, { left: 12, top: 12, width: 26, height: 36 }, [255, 0, 0])).toBeLessThan(2);
  });

  it('bg_image with transparency keeps alpha where both are transparent; a broken one is refused', async () => {
    const background = await halves(50, 40, 'x', 0.5, [0, 0, 255, 255], [0, 0, 0, 0]);
    const result = await run({ bg_image: 'c'.repeat(64), background });
    expect(result.info.channels).toBe(4);
    expect(result.pixel(5, 5)).toEqual([0, 0, 255, 255]);
    expect(result.pixel(90, 70)[3]).toBe(0);
    expect(result.pixel(25, 15)).toEqual([255, 0, 0, 255]);
    await expect(
      run({ bg_image: 'd'.repeat(64), background: Buffer.from('not an image at all') }),
    ).rejects.toMatchObject({ code: 'invalid_image' });
    await expect(run({ bg_image: 'e'.repeat(64) })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(run({ bg_image: 'f'.repeat(64), background, bg_color: 'ffffffff' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('zip: color.jpg and alpha.png, the same size, that together are the PNG cutout', async () => {
    const composed = await compose(scene(), { width: W, height: H }, SUBJECT, {
      output: 'cutout',
      format: 'zip',
      crop: 'true',
      crop_margin: '5px,5px,5px,5px',
      pngCompressionLevel: 1,
    });
    const files = unzipSync(new Uint8Array(composed.bytes));
    expect(Object.keys(files).sort()).toEqual(['alpha.png', 'color.jpg']);
    const color = await sharp(files['color.jpg']).raw().toBuffer({ resolveWithObject: true });
    // sharp decodes grey to sRGB unless told: one channel of it.
    const alpha = await sharp(files['alpha.png'])
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect((await sharp(files['color.jpg']).metadata()).format).toBe('jpeg');
    expect(await sharp(files['alpha.png']).metadata()).toMatchObject({ format: 'png', channels: 1 });
    expect([color.info.width, color.info.height, color.info.channels]).toEqual([40, 50, 3]);
    expect([alpha.info.width, alpha.info.height, alpha.info.channels]).toEqual([40, 50, 1]);
    expect([composed.width, composed.height]).toEqual([40, 50]);
    const png = await run({ crop: 'true', crop_margin: '5px,5px,5px,5px' });
    expect(png.info.channels).toBe(4);
    // alpha.png is the PNG's alpha exactly; color.jpg its colours where it is opaque (JPEG: tolerance).
    let [alphaDiff, colorSum, colorN] = [0, 0, 0];
    for (let i = 0; i < 40 * 50; i++) {
      const pngAlpha = png.pixel(i % 40, Math.floor(i / 40))[3]!;
      alphaDiff = Math.max(alphaDiff, Math.abs(alpha.data[i]! - pngAlpha));
      if (pngAlpha === 255)
        for (let ch = 0; ch < 3; ch++) {
          colorSum += Math.abs(color.data[i * 3 + ch]! - png.pixel(i % 40, Math.floor(i / 40))[ch]!);
          colorN++;
        }
    }
    expect(alphaDiff).toBe(0);
    expect(colorN).toBe(30 * 40 * 3);
    expect(colorSum / colorN).toBeLessThan(4);
    // A cutout only: the matte has no colours to put in color.jpg.
    await expect(
      compose(scene(), { width: W, height: H }, SUBJECT, {
        output: 'matte',
        format: 'zip',
        pngCompressionLevel: 1,
      }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('zip over a background colour: alpha.png is opaque, color.jpg has the colour', async () => {
    const composed = await compose(scene(), { width: W, height: H }, SUBJECT, {
      output: 'cutout',
      format: 'zip',
      bg_color: '0000ffff',
      pngCompressionLevel: 1,
    });
    const files = unzipSync(new Uint8Array(composed.bytes));
    const alpha = await sharp(files['alpha.png']).extractChannel(0).raw().toBuffer();
    expect(Math.min(...alpha)).toBe(255);
    const color = await sharp(files['color.jpg']).raw().toBuffer();
    const at = (x: number, y: number) => [...color.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    at(2, 2).forEach((v, i) => expect(Math.abs(v - [0, 0, 255][i]!)).toBeLessThanOrEqual(8));
    at(35, 30).forEach((v, i) => expect(Math.abs(v - [255, 0, 0][i]!)).toBeLessThanOrEqual(8));
  });

  it('no foreground: crop and placement leave the canvas as it is', async () => {
    const composed = await compose(Buffer.alloc(W * H * 4), { width: W, height: H }, undefined, {
      output: 'cutout',
      format: 'png',
      crop: 'true',
      scale: 50,
      pngCompressionLevel: 1,
    });
    expect([composed.width, composed.height, composed.box]).toEqual([W, H, undefined]);
  });
});
