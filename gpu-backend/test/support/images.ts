/**
 * Named image fixtures, made here (no binary fixtures in git): scenes drawn in code with a known
 * mask, variants made from them with sharp, and hostile headers. rembg's photos and reference
 * outputs come from EVAL_DIR (see ./eval.ts) and are used only by the parity tests.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { REMBG_FIXTURES } from './eval';

export { REMBG_FIXTURES };

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG header declaring width×height, with a token IDAT: a decompression bomb's shape. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The start of an HEIC file: an ftyp box with the heic brand. */
export const HEIC_HEADER = Buffer.concat([
  Buffer.from([0, 0, 0, 24]),
  Buffer.from('ftypheic', 'ascii'),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from('mif1heic', 'ascii'),
  Buffer.alloc(64),
]);

export const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
);

/** A deterministic pseudo-random generator (mulberry32), so a drawn scene is the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SceneShape = 'ellipse' | 'rounded-box' | 'star';

export interface SceneOptions {
  width?: number;
  height?: number;
  shape?: SceneShape;
  seed?: number;
}

export interface Scene {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB. */
  rgb: Buffer;
  /** 255 inside the object, 0 outside (anti-aliased over one pixel at the edge). */
  mask: Uint8Array;
}

/** Signed inside-ness of (x, y) for a shape centred at (cx, cy) with half-sizes (rx, ry): > 0 inside. */
function inside(
  shape: SceneShape,
  x: number,
  y: number,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
): number {
  const dx = (x - cx) / rx;
  const dy = (y - cy) / ry;
  if (shape === 'ellipse') return 1 - Math.hypot(dx, dy);
  if (shape === 'rounded-box') {
    const r = 0.3;
    const qx = Math.max(Math.abs(dx) - (1 - r), 0);
    const qy = Math.max(Math.abs(dy) - (1 - r), 0);
    return r - Math.hypot(qx, qy);
  }
  // A five-pointed star: the radius swings between 0.55 and 1 with the angle.
  const angle = Math.atan2(dy, dx) + Math.PI / 2;
  const swing = Math.abs((((((angle * 5) / (2 * Math.PI)) % 1) + 1) % 1) - 0.5) * 2;
  return 0.55 + 0.45 * swing - Math.hypot(dx, dy);
}

/**
 * A product-photo-like scene drawn in code: one solid, shaded object of known shape in the middle
 * over a textured background (a soft gradient, a low-contrast tile pattern and noise), with the
 * object's exact mask. Stands in for "a real photo" wherever the content does not matter, and
 * gives the real model a ground truth to be measured against.
 */
export function drawScene(options: SceneOptions = {}): Scene {
  const { width = 480, height = 360, shape = 'ellipse', seed = 1 } = options;
  const rand = random(seed);
  const rgb = Buffer.alloc(width * height * 3);
  const mask = new Uint8Array(width * height);
  const cx = width * (0.45 + 0.1 * rand());
  const cy = height * (0.45 + 0.1 * rand());
  const rx = width * 0.28;
  const ry = height * 0.34;
  const hue = rand();
  const object = [200 + 50 * hue, 40 + 60 * rand(), 30 + 40 * (1 - hue)];
  const tile = Math.max(8, Math.round(Math.min(width, height) / 24));
  const edge = 1 / Math.min(rx, ry); // one pixel, in the shape's units
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const checker = ((Math.floor(x / tile) + Math.floor(y / tile)) & 1) * 14;
      const noise = (rand() - 0.5) * 24;
      const g = 150 + (40 * x) / width - (30 * y) / height;
      const bg = [g + checker + noise, g + 8 + checker + noise, g + 20 + checker + noise];
      const d = inside(shape, x + 0.5, y + 0.5, cx, cy, rx, ry);
      const a = Math.min(1, Math.max(0, d / edge + 0.5));
      // Lit from the top left: the object is shaded, as a real one would be.
      const light = 0.75 + 0.35 * (1 - ((x - cx + rx) / (2 * rx) + (y - cy + ry) / (2 * ry)) / 2);
      for (let c = 0; c < 3; c++) {
        const value = a * object[c]! * light + (1 - a) * bg[c]!;
        rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
      mask[i] = Math.round(a * 255);
    }
  }
  return { width, height, rgb, mask };
}

/** A drawn scene as an image file (JPEG unless asked otherwise). */
export function sceneImage(scene: Scene, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const image = sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } });
  return (format === 'jpeg' ? image.jpeg({ quality: 92 }) : image.png()).toBuffer();
}

/** The default 480×360 scene as a JPEG: "a photo" for tests that need one and not its content. */
let defaultPhoto: Promise<Buffer> | undefined;
export const scenePhoto = (): Promise<Buffer> => (defaultPhoto ??= sceneImage(drawScene()));

const base = async () => sharp(await scenePhoto());

export const fixtures = {
  jpeg: async () => (await base()).jpeg().toBuffer(),
  truncatedJpeg: async () => {
    const full = await (await base()).jpeg({ quality: 90 }).toBuffer();
    return full.subarray(0, Math.floor(full.length / 2));
  },
  cmykJpeg: async () => (await base()).toColourspace('cmyk').jpeg().toBuffer(),
  grayscaleJpeg: async () => (await base()).grayscale().jpeg().toBuffer(),
  png16: async () => (await base()).toColourspace('rgb16').png().toBuffer(),
  pngWithAlpha: async () => (await base()).ensureAlpha(0.5).png().toBuffer(),
  webp: async () => (await base()).webp().toBuffer(),
  avif: async () => (await base()).resize(240).avif({ effort: 0 }).toBuffer(),
  gif: async () => (await base()).resize(64).gif().toBuffer(),
  onePixel: () =>
    sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  /** Stored 480×360 with EXIF orientation 6 (rotate 90° clockwise to view): shown 360×480. */
  exifRotated: async () => (await base()).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  /** A 4032×3024 (12 MP) JPEG: the default scene upscaled (its mask: twelveMegapixelMask). */
  twelveMegapixel: async () =>
    (await base()).resize(4032, 3024, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer(),
};

/** The default scene's mask upscaled as fixtures.twelveMegapixel() upscales the scene. */
export async function twelveMegapixelMask(): Promise<Uint8Array> {
  const { mask, width, height } = drawScene();
  return sharp(Buffer.from(mask), { raw: { width, height, channels: 1 } })
    .resize(4032, 3024, { fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
}
