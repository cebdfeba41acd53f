/** The images the benchmark sends: the kit's real car-1 photo, as is and upscaled. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';
import { photo } from '../test/support/eval';
import type { BenchImage } from './results';

export interface BenchInput {
  image: BenchImage;
  body: Buffer;
}

export async function benchInput(label: string, body: Buffer): Promise<BenchInput> {
  const { width, height } = await sharp(body).metadata();
  return { image: { label, width, height, bytes: body.length }, body };
}

export const benchInputs = {
  /** 480×360, the photo as the kit ships it. */
  small: () => benchInput('480×360 JPEG (rembg car-1)', photo('car-1')),
  /** 4032×3024: car-1 upscaled. */
  twelveMegapixel: async () =>
    benchInput(
      '4032×3024 JPEG (car-1 upscaled, q90)',
      await sharp(photo('car-1')).resize(4032, 3024, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer(),
    ),
};

/** The throughput mode's inputs, from the kit's car-1 or from `photoPath` (e.g. --photo). */
export async function throughputInputs(photoPath: string | undefined): Promise<{
  small: BenchInput;
  twelveMegapixel: BenchInput;
  oneMegapixel: BenchInput;
}> {
  const source = photoPath ? await readFile(photoPath) : photo('car-1');
  const name = photoPath ? basename(photoPath) : 'car-1';
  // The same recipe as benchInputs.twelveMegapixel(), at 12 MP and at 1 MP.
  const upscaled = (width: number, height: number) =>
    sharp(source).resize(width, height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  return {
    small: await benchInput(`${name} as is`, source),
    twelveMegapixel: await benchInput(`4032×3024 JPEG (${name} upscaled, q90)`, await upscaled(4032, 3024)),
    oneMegapixel: await benchInput(`1155×866 JPEG (${name} upscaled, q90)`, await upscaled(1155, 866)),
  };
}
