import sharp from 'sharp';

/** One channel of an image as 8-bit values: `alpha` for RGBA references, else the first channel. */
export async function channel(
  input: Buffer | string,
  which: 'alpha' | 'first',
): Promise<{ data: Buffer; width: number; height: number }> {
  const image = sharp(input);
  const { channels } = await image.metadata();
  const index = (which === 'alpha' ? channels - 1 : 0) as 0 | 1 | 2 | 3;
  const { data, info } = await sharp(input).extractChannel(index).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute error on [0, 1]. */
export function mae(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length / 255;
}

/** Intersection over union of the two masks thresholded at `threshold` (> counts as foreground). */
export function iou(a: Uint8Array, b: Uint8Array, threshold = 127): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = a[i]! > threshold;
    const fb = b[i]! > threshold;
    if (fa && fb) inter++;
    if (fa || fb) union++;
  }
  return union === 0 ? 1 : inter / union;
}
