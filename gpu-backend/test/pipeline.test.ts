/**
 * The real pipeline on the real IS-Net weights, on CPU, compared by MAE and IoU, never by bytes:
 * with scenes drawn here whose mask is known, and (with EVAL_DIR) with rembg's expected outputs.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeBackground, type RemoveBackgroundOptions } from '../src/pipeline/remove-background';
import { channel, iou, mae } from './support/compare';
import { createTestBackend, type TestBackend } from './support/backend';
import { hasEvalData, photo, reference } from './support/eval';
import {
  drawScene,
  fixtures,
  sceneImage,
  scenePhoto,
  twelveMegapixelMask,
  type SceneShape,
} from './support/images';

const rembg = hasEvalData('rembg-fixtures', "rembg parity (IS-Net mattes against rembg's outputs)");
let backend: TestBackend;
const settings = { maxPixels: 50_000_000, pngCompressionLevel: 3 };
// rembg's output: the raw map (refine=none, subject=all) is what these tests compare with rembg.
const matte: RemoveBackgroundOptions = { output: 'matte', format: 'png', refine: 'none', subject: 'all' };
const run = (bytes: Buffer, options: Partial<RemoveBackgroundOptions> = {}) =>
  removeBackground(bytes, { ...matte, ...options }, backend.registry, settings);

beforeAll(async () => {
  backend = await createTestBackend();
});
afterAll(() => backend.close());

describe('drawn scenes: the real model finds the object', () => {
  it.each([
    ['ellipse', 480, 360, 1],
    ['rounded-box', 640, 800, 2],
    ['star', 800, 600, 3],
  ] as [SceneShape, number, number, number][])(
    'a solid %s over a textured background: IoU >= 0.9 against its known mask',
    async (shape, width, height, seed) => {
      const scene = drawScene({ shape, width, height, seed });
      const result = await run(await sceneImage(scene));
      const ours = await channel(result.bytes, 'first');
      expect([ours.width, ours.height]).toEqual([width, height]);
      const i = iou(ours.data, scene.mask);
      console.log(
        `${shape} ${width}x${height}: IoU ${i.toFixed(4)}, MAE ${mae(ours.data, scene.mask).toFixed(4)}`,
      );
      expect(i).toBeGreaterThanOrEqual(0.9);
    },
  );
});

describe('outputs', () => {
  it('matte is an 8-bit single-channel PNG at the input size', async () => {
    const result = await run(await scenePhoto());
    const meta = await sharp(result.bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 480, height: 360, channels: 1, depth: 'uchar' });
    expect(result.contentType).toBe('image/png');
  });

  it('EXIF-rotated input gives a matte of the oriented size, the same as for the same pixels stored upright', async () => {
    const result = await run(await fixtures.exifRotated());
    expect([result.width, result.height]).toEqual([360, 480]);
    const upright = await run(
      await sharp(await scenePhoto())
        .rotate(90)
        .jpeg()
        .toBuffer(),
    );
    const [a, b] = [await channel(result.bytes, 'first'), await channel(upright.bytes, 'first')];
    expect(mae(a.data, b.data)).toBeLessThanOrEqual(0.01);
    // And the object is where the rotated scene has it.
    const scene = drawScene();
    const mask = await sharp(Buffer.from(scene.mask), {
      raw: { width: scene.width, height: scene.height, channels: 1 },
    })
      .rotate(90)
      .extractChannel(0)
      .raw()
      .toBuffer();
    expect(iou(a.data, mask)).toBeGreaterThanOrEqual(0.9);
  });

  it('cutout is RGBA: the input colours with the matte as alpha', async () => {
    const bytes = await scenePhoto();
    const [cut, mat] = [await run(bytes, { output: 'cutout' }), await run(bytes)];
    const { data, info } = await sharp(cut.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const original = await sharp(bytes).raw().toBuffer();
    const matteData = (await channel(mat.bytes, 'first')).data;
    let alphaDiff = 0;
    let rgbDiff = 0;
    for (let p = 0; p < info.width * info.height; p++) {
      alphaDiff += Math.abs(data[p * 4 + 3]! - matteData[p]!);
      for (let c = 0; c < 3; c++) rgbDiff += Math.abs(data[p * 4 + c]! - original[p * 3 + c]!);
    }
    expect(alphaDiff / (info.width * info.height) / 255).toBeLessThan(0.002);
    expect(rgbDiff / (info.width * info.height * 3) / 255).toBeLessThan(0.002);
  });

  it.each([
    ['CMYK JPEG', fixtures.cmykJpeg],
    ['16-bit PNG', fixtures.png16],
    ['PNG with alpha', fixtures.pngWithAlpha],
    ['grayscale JPEG', fixtures.grayscaleJpeg],
    ['EXIF-rotated JPEG', fixtures.exifRotated],
  ])('cutout of a %s is 8-bit RGBA in sRGB whose alpha is the matte', async (_name, make) => {
    const bytes = await make();
    const [cut, mat] = [await run(bytes, { output: 'cutout' }), await run(bytes)];
    const meta = await sharp(cut.bytes).metadata();
    expect(meta).toMatchObject({
      channels: 4,
      depth: 'uchar',
      space: 'srgb',
      width: mat.width,
      height: mat.height,
    });
    const alpha = await channel(cut.bytes, 'alpha');
    const matte = await channel(mat.bytes, 'first');
    expect(mae(alpha.data, matte.data)).toBeLessThan(0.002);
    const rgb = await sharp(cut.bytes).removeAlpha().raw().toBuffer();
    const expected = await sharp(bytes)
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer();
    expect(mae(rgb, expected)).toBeLessThan(0.01);
  });

  it('max_side downscales the longer side; webp is lossless', async () => {
    const small = await run(await scenePhoto(), { max_side: 240 });
    expect([small.width, small.height]).toEqual([240, 180]);
    expect(await sharp(small.bytes).metadata()).toMatchObject({ width: 240, height: 180 });
    const webp = await run(await scenePhoto(), { format: 'webp' });
    expect(webp.contentType).toBe('image/webp');
    const png = await run(await scenePhoto());
    const [a, b] = [await channel(webp.bytes, 'first'), await channel(png.bytes, 'first')];
    expect(mae(a.data, b.data)).toBe(0);
  });

  it('a 12-MP JPEG gives a full-size matte', async () => {
    const result = await run(await fixtures.twelveMegapixel());
    expect([result.width, result.height]).toEqual([4032, 3024]);
    expect(await sharp(result.bytes).metadata()).toMatchObject({ width: 4032, height: 3024, channels: 1 });
    const ours = await channel(result.bytes, 'first');
    expect(iou(ours.data, await twelveMegapixelMask())).toBeGreaterThanOrEqual(0.9);
  });
});

describe.skipIf(!rembg)('IS-Net mattes against rembg references (EVAL_DIR)', () => {
  it.each(['car-1', 'anime-girl-1'] as const)('%s: MAE <= 0.01 and IoU >= 0.97', async (name) => {
    const result = await run(photo(name));
    const ours = await channel(result.bytes, 'first');
    const theirs = await channel(reference(name), 'alpha');
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    const m = mae(ours.data, theirs.data);
    const i = iou(ours.data, theirs.data);
    console.log(`${name}: MAE ${m.toFixed(4)}, IoU ${i.toFixed(4)}`);
    expect(m).toBeLessThanOrEqual(0.01);
    expect(i).toBeGreaterThanOrEqual(0.97);
  });

  it('an EXIF-rotated photo roughly matches the rotated reference', async () => {
    const rotated = await sharp(photo('car-1')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const ours = await channel((await run(rotated)).bytes, 'first');
    // The model sees the photo stretched the other way to 1024², so only a loose agreement is
    // expected (measured: IoU 0.73).
    const theirs = await channel(await sharp(reference('car-1')).rotate(90).png().toBuffer(), 'alpha');
    expect(iou(ours.data, theirs.data)).toBeGreaterThanOrEqual(0.65);
  });

  it('a 12-MP upscale of a photo gives the reference matte, downscaled', async () => {
    const big = await sharp(photo('car-1'))
      .resize(4032, 3024, { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toBuffer();
    const result = await run(big);
    const small = await channel(await sharp(result.bytes).resize(480, 360).png().toBuffer(), 'first');
    const theirs = await channel(reference('car-1'), 'alpha');
    expect(iou(small.data, theirs.data)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('refined output (the defaults)', () => {
  const refined: RemoveBackgroundOptions = { output: 'matte', format: 'png' };
  // No refine/subject given: the pipeline's defaults (refine=auto, subject=main).
  const runDefaults = (bytes: Buffer, options: RemoveBackgroundOptions = refined) =>
    removeBackground(bytes, options, backend.registry, settings);
  const box = (text: string) => {
    const [left, top, width, height] = text.split(',').map(Number) as [number, number, number, number];
    return { left, top, width, height };
  };

  it.each([
    ['ellipse', 480, 360, 4],
    ['star', 640, 480, 5],
  ] as [SceneShape, number, number, number][])(
    'a refined matte of a drawn %s: IoU >= 0.9 against its mask, no more in-between values than raw, a confident subject',
    async (shape, width, height, seed) => {
      const scene = drawScene({ shape, width, height, seed });
      const bytes = await sceneImage(scene);
      const [raw, ref] = [await run(bytes), await runDefaults(bytes)];
      const [a, b] = [await channel(raw.bytes, 'first'), await channel(ref.bytes, 'first')];
      expect(iou(b.data, scene.mask)).toBeGreaterThanOrEqual(0.9);
      const soft = (d: Uint8Array) => d.filter((v) => v > 25 && v < 230).length / d.length;
      expect(soft(b.data)).toBeLessThanOrEqual(soft(a.data));
      expect(ref.subjectConfidence).toBeGreaterThan(0.5);
      // The box holds the kept subject: every mask pixel lies inside it (a pixel of slack).
      const { left, top, width: w, height: h } = box(ref.foreground);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          if (scene.mask[y * width + x]! > 200) {
            expect(x >= left - 1 && x < left + w + 1 && y >= top - 1 && y < top + h + 1).toBe(true);
          }
    },
  );

  it('a refined cutout keeps the refined alpha and opaque colours, and changes colours only at soft edges', async () => {
    const bytes = await sceneImage(drawScene({ shape: 'star', width: 480, height: 360, seed: 6 }), 'png');
    const [cut, mat] = [await runDefaults(bytes, { ...refined, output: 'cutout' }), await runDefaults(bytes)];
    const { data, info } = await sharp(cut.bytes).raw().toBuffer({ resolveWithObject: true });
    const matteData = (await channel(mat.bytes, 'first')).data;
    const original = await sharp(bytes).removeAlpha().raw().toBuffer();
    let alphaDiff = 0;
    let opaqueDiff = 0;
    let opaque = 0;
    let softChanged = 0;
    for (let p = 0; p < info.width * info.height; p++) {
      const a = data[p * 4 + 3]!;
      alphaDiff += Math.abs(a - matteData[p]!);
      const diff = [0, 1, 2].reduce((s, c) => s + Math.abs(data[p * 4 + c]! - original[p * 3 + c]!), 0);
      if (a === 255) {
        opaque++;
        opaqueDiff += diff;
      } else if (a > 0 && diff > 6) softChanged++;
    }
    expect(alphaDiff / (info.width * info.height) / 255).toBeLessThan(0.002);
    expect(opaqueDiff / opaque / 3).toBeLessThan(1);
    expect(softChanged).toBeGreaterThan(0);
  });

  it('roi: nothing outside the region is foreground', async () => {
    const result = await runDefaults(await scenePhoto(), { ...refined, roi: '0,0,50%,100%' });
    const { data, width, height } = await channel(result.bytes, 'first');
    let outside = 0;
    for (let y = 0; y < height; y++)
      for (let x = Math.ceil(width / 2) + 8; x < width; x++) outside += data[y * width + x]!;
    expect(outside).toBe(0);
    const { left, width: w } = box(result.foreground);
    expect(left + w).toBeLessThanOrEqual(Math.ceil(width / 2) + 2);
  });
});
