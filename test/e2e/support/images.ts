/** The kit's real photos and rembg's reference outputs, and image likeness (MAE, IoU), never bytes. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { KIT } from './config';

export type PhotoName = 'car-1' | 'anime-girl-1' | 'cloth-1' | 'plants-1';

export const photoPath = (name: PhotoName): string => `${KIT}eval/rembg-fixtures/fixtures/${name}.jpg`;
export const photo = (name: PhotoName): Buffer => readFileSync(photoPath(name));
export const referencePath = (name: PhotoName, model = 'isnet-general-use'): string =>
  `${KIT}eval/rembg-fixtures/results/${name}.${model}.png`;

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

/** A copy of the photo with random bytes after the JPEG's end: same picture, new source hash. */
export function uniquePhoto(name: PhotoName): Buffer {
  return Buffer.concat([photo(name), Buffer.from(crypto.getRandomValues(new Uint8Array(16)))]);
}
