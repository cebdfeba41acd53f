/** The labelled sets under EVAL_DIR (resolved once, as the tests resolve it: test/support/eval.ts). */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { EVAL_DIR } from '../test/support/eval';
import type { Matte } from './metrics';

export function evalDir(): string {
  return EVAL_DIR;
}

/** Why tests that need the data cannot run here, or undefined when they can. */
export function evalDataMissing(...sets: string[]): string | undefined {
  const dir = evalDir();
  for (const set of sets) {
    if (!existsSync(join(dir, set))) return `no ${set} under EVAL_DIR (${dir}); set EVAL_DIR to the eval kit`;
  }
  return undefined;
}

export interface Pair {
  id: string;
  image: string;
  mask: string;
}

/** `<set>/images/<id>.<ext>` with `<set>/masks/<id>.png`, sorted by id. */
export function listPairs(set: string): Pair[] {
  const dir = join(evalDir(), set);
  const masks = new Set(readdirSync(join(dir, 'masks')));
  return readdirSync(join(dir, 'images'))
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .map((f) => ({ id: basename(f, extname(f)), file: f }))
    .filter(({ id }) => masks.has(`${id}.png`))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map(({ id, file }) => ({ id, image: join(dir, 'images', file), mask: join(dir, 'masks', `${id}.png`) }));
}

/** One channel of an image as an 8-bit matte. */
async function readChannel(input: string | Buffer, channel: 0 | 1 | 2 | 3): Promise<Matte> {
  const { data, info } = await sharp(input)
    .extractChannel(channel)
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** The first channel of an image file or buffer as an 8-bit matte (masks may be stored as RGB). */
export function readMatte(input: string | Buffer): Promise<Matte> {
  return readChannel(input, 0);
}

/** The last channel (alpha) of an RGBA image. */
export async function readAlpha(input: Buffer): Promise<Matte> {
  const { channels } = await sharp(input).metadata();
  return readChannel(input, (channels - 1) as 0 | 1 | 2 | 3);
}
