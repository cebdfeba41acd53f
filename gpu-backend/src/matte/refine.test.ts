import { describe, expect, it } from 'vitest';
import { refineMatte, type RefineRequest } from './refine';

const W = 200;
const H = 160;

/** A map painted with rectangles of given values (later ones on top). */
function paint(...rects: [x1: number, y1: number, x2: number, y2: number, value: number][]): Uint8Array {
  const m = new Uint8Array(W * H);
  for (const [x1, y1, x2, y2, v] of rects) {
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m[y * W + x] = Math.round(v * 255);
  }
  return m;
}

const at = (m: Uint8Array, x: number, y: number) => m[y * W + x]! / 255;
const run = (matte: Uint8Array, extra: Partial<RefineRequest> = {}) =>
  refineMatte({ matte, width: W, height: H, refine: 'auto', subject: 'main', ...extra });

describe('refineMatte', () => {
  it('refine=none, subject=all returns the raw map unchanged', () => {
    const m = paint([10, 10, 100, 100, 0.35], [30, 30, 60, 60, 1], [150, 20, 170, 40, 0.05]);
    const out = refineMatte({ matte: m, width: W, height: H, refine: 'none', subject: 'all' });
    expect(out.matte).toEqual(m);
  });

  it('lifts a uniformly doubted part of a subject to solid and keeps a real fall-off soft', () => {
    // A confident body, a doubted limb (0.35, sharp edge), and a soft ramp (hair) to the right.
    const m = paint([20, 40, 80, 120, 1], [80, 60, 120, 100, 0.35]);
    for (let y = 40; y < 120; y++) for (let x = 0; x < 20; x++) m[y * W + x] = Math.round((x / 20) * 255);
    const out = run(m).matte;
    expect(at(out, 100, 80)).toBeGreaterThan(0.95);
    expect(at(out, 50, 80)).toBe(1);
    // the ramp still has in-between values, in order
    const ramp = [4, 8, 12, 16].map((x) => at(out, x, 80));
    expect(ramp.some((v) => v > 0.05 && v < 0.95)).toBe(true);
    expect([...ramp].sort((a, b) => a - b)).toEqual(ramp);
  });

  it('drops faint stains that hold no confident seed, and unseeded regions stay out of the box', () => {
    const m = paint([40, 40, 100, 100, 1], [150, 100, 190, 150, 0.25]);
    const { matte, box } = run(m, { subject: 'all' });
    expect(at(matte, 170, 120)).toBe(0);
    expect(box).toEqual({ x1: 40, y1: 40, x2: 100, y2: 100 });
  });

  it('subject=main keeps the main subject only; subject=all keeps a detached seeded blob', () => {
    const m = paint([20, 20, 110, 140, 1], [150, 20, 175, 45, 1]);
    expect(at(run(m).matte, 160, 30)).toBe(0);
    expect(at(run(m, { subject: 'all' }).matte, 160, 30)).toBe(1);
    // two subjects of similar size are both main
    const two = paint([10, 20, 80, 140, 1], [120, 20, 190, 140, 1]);
    expect(at(run(two).matte, 150, 80)).toBe(1);
  });

  it('roi: nothing outside the region is foreground, and the main subject is chosen inside it', () => {
    const m = paint([10, 10, 110, 150, 1], [140, 40, 180, 80, 1]);
    const { matte, box } = run(m, { roi: { x1: 130, y1: 0, x2: 200, y2: 160 } });
    expect(at(matte, 50, 50)).toBe(0);
    expect(at(matte, 160, 60)).toBe(1);
    expect(box).toEqual({ x1: 140, y1: 40, x2: 180, y2: 80 });
  });

  it('confidence: high for one clear subject, low for a faint or empty map', () => {
    const clear = run(paint([40, 30, 150, 130, 1])).confidence;
    expect(clear).toBeGreaterThan(0.8);
    expect(run(new Uint8Array(W * H)).confidence).toBe(0);
    expect(run(new Uint8Array(W * H)).box).toBeUndefined();
    // everything half-sure and scattered: several equal blobs at 0.65
    const scattered = run(
      paint(
        [10, 10, 40, 40, 0.65],
        [80, 10, 110, 40, 0.65],
        [150, 10, 180, 40, 0.65],
        [10, 100, 40, 130, 0.65],
      ),
      { subject: 'main' },
    ).confidence;
    expect(scattered).toBeLessThan(0.5);
  });
});
