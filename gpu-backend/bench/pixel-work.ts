/**
 * The refinement's own CPU time, in this process on one thread (as on one pixel worker): the matte
 * refinement at the model's 1024² (the same for every photo size) and the cutout colour estimate
 * at 1 MP and 12 MP outputs, on car-1's real matte.
 */
import { performance } from 'node:perf_hooks';
import sharp, { type Sharp } from 'sharp';
import { estimateForeground } from '../src/matte/foreground';
import { refineMatte } from '../src/matte/refine';
import { summarize } from './stats';

export interface PixelWork {
  refineMs: number;
  foreground1MpMs: number;
  foreground12MpMs: number;
}

async function raw(image: Sharp, channels: 1 | 3): Promise<Uint8Array> {
  const pipeline =
    channels === 1 ? image.toColourspace('b-w').extractChannel(0) : image.removeAlpha().toColourspace('srgb');
  return new Uint8Array(await pipeline.raw().toBuffer());
}

function timed(runs: number, work: () => unknown): number {
  work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    work();
    samples.push(performance.now() - t0);
  }
  return summarize(samples).median;
}

/** `photo` is the bench's small input; `matte` its raw 1024² matte as a PNG (from the server). */
export async function measurePixelWork(photo: Buffer, matte1024: Buffer, runs: number): Promise<PixelWork> {
  const size = 1024;
  const matte = await raw(sharp(matte1024).resize(size, size, { fit: 'fill' }), 1);
  const smallRgb = await raw(sharp(photo).resize(size, size, { fit: 'fill' }), 3);
  const refineMs = timed(runs, () =>
    refineMatte({ matte, width: size, height: size, refine: 'auto', subject: 'main' }),
  );
  const refined = refineMatte({ matte, width: size, height: size, refine: 'auto', subject: 'main' }).matte;
  const foregroundAt = async (width: number, height: number) => {
    const rgb = await raw(sharp(photo).resize(width, height, { fit: 'fill' }), 3);
    const alpha = await raw(
      sharp(refined, { raw: { width: size, height: size, channels: 1 } }).resize(width, height, {
        fit: 'fill',
      }),
      1,
    );
    return timed(runs, () =>
      estimateForeground({
        rgb,
        alpha,
        width,
        height,
        smallRgb,
        smallAlpha: refined,
        smallWidth: size,
        smallHeight: size,
      }),
    );
  };
  return {
    refineMs,
    foreground1MpMs: await foregroundAt(1155, 866),
    foreground12MpMs: await foregroundAt(4032, 3024),
  };
}
