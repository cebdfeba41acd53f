/**
 * The photos the e2e tests upload: scenes drawn in code (a solid object of known shape over a
 * textured background, with its exact mask), written once by global-setup.ts to
 * test-artifacts/e2e/photos/. rembg's photos and reference outputs come from EVAL_DIR and are
 * used only by the parity test. Image likeness by MAE and IoU, never bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { drawScene, sceneImage, type SceneOptions } from '../../../gpu-backend/test/support/images';
import { ARTIFACTS } from './config';

export { hasEvalData, REMBG_FIXTURES } from '../../../gpu-backend/test/support/eval';

export type PhotoName = 'ellipse' | 'star' | 'rounded-box' | 'tall-star' | 'removebg-ellipse';

const SCENES: Record<PhotoName, SceneOptions> = {
  ellipse: { width: 480, height: 360, shape: 'ellipse', seed: 1 },
  star: { width: 540, height: 720, shape: 'star', seed: 2 },
  'rounded-box': { width: 600, height: 600, shape: 'rounded-box', seed: 3 },
  'tall-star': { width: 987, height: 1481, shape: 'star', seed: 4 },
  // Only the remove.bg client test uploads it, so its first upload is a miss whatever ran before.
  'removebg-ellipse': { width: 480, height: 360, shape: 'ellipse', seed: 5 },
};

export const PHOTOS = join(ARTIFACTS, 'e2e', 'photos');

/** The background the remove.bg client test asks for by bg_image_url (PHOTOS/removebg-background.png). */
export const BACKGROUND_RGB = [20, 60, 230] as const;

/** Draws every scene to PHOTOS as <name>.jpg, with its mask as <name>.mask.png (global setup). */
export async function writePhotos(): Promise<void> {
  mkdirSync(PHOTOS, { recursive: true });
  for (const [name, options] of Object.entries(SCENES)) {
    const scene = drawScene(options);
    writeFileSync(join(PHOTOS, `${name}.jpg`), await sceneImage(scene));
    const mask = sharp(Buffer.from(scene.mask), {
      raw: { width: scene.width, height: scene.height, channels: 1 },
    });
    writeFileSync(join(PHOTOS, `${name}.mask.png`), await mask.png().toBuffer());
  }
  const [r, g, b] = BACKGROUND_RGB;
  const background = sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } });
  writeFileSync(join(PHOTOS, 'removebg-background.png'), await background.png().toBuffer());
}

export const photoPath = (name: PhotoName): string => join(PHOTOS, `${name}.jpg`);
export const photo = (name: PhotoName): Buffer => readFileSync(photoPath(name));
/** The scene's known mask (8-bit grey PNG, the photo's size). */
export const maskPath = (name: PhotoName): string => join(PHOTOS, `${name}.mask.png`);

export interface Plane {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** One channel as 8-bit values: `alpha` (the last channel) or `first`. */
export async function channel(input: Buffer | string, which: 'alpha' | 'first'): Promise<Plane> {
  const { channels } = await sharp(input).metadata();
  const index = (which === 'alpha' ? channels - 1 : 0) as 0 | 1 | 2 | 3;
  const { data, info } = await sharp(input).extractChannel(index).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels };
}

/** Mean absolute error on [0, 1]. */
export function mae(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length / 255;
}

/** Intersection over union of the two masks thresholded at 127. */
export function iou(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = a[i]! > 127;
    const fb = b[i]! > 127;
    if (fa && fb) inter++;
    if (fa || fb) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** A copy of the image with random bytes after the JPEG's end: same picture, new source hash. */
export function unique(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.from(crypto.getRandomValues(new Uint8Array(16)))]);
}

/** A copy of the photo with random bytes after the JPEG's end: same picture, new source hash. */
export const uniquePhoto = (name: PhotoName): Buffer => unique(photo(name));
