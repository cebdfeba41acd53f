import { describe, expect, it } from 'vitest';
import { colourError, composite, transitionBand } from './colour';

describe('colour error helpers', () => {
  it('the band is the soft pixels dilated by the radius', () => {
    const w = 9;
    const gt = new Uint8Array(w).fill(0);
    gt[4] = 128;
    expect(Array.from(transitionBand(gt, w, 1, 2))).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0]);
    expect(transitionBand(new Uint8Array(4).fill(255), 2, 2, 3).every((v) => v === 0)).toBe(true);
  });

  it('is zero for the true foreground under the true alpha, and grows with background bleed', () => {
    const alpha = Uint8Array.from([0, 128, 255]);
    const F = Float32Array.from([1, 0, 0, 1, 0, 0, 1, 0, 0]);
    const band = Uint8Array.from([1, 1, 1]);
    const truthRgba = new Uint8Array(12);
    for (let i = 0; i < 3; i++) truthRgba.set([255, 0, 0, alpha[i]!], i * 4);
    expect(colourError(truthRgba, F, alpha, band, [0, 255, 0])).toBeCloseTo(0, 6);
    // The photo's own colour over a blue background, kept under the alpha: blue bleeds in.
    const photo = composite(F, alpha, Uint8Array.from([0, 0, 255, 0, 0, 255, 0, 0, 255]));
    const dirty = new Uint8Array(12);
    for (let i = 0; i < 3; i++)
      dirty.set([photo[i * 3]!, photo[i * 3 + 1]!, photo[i * 3 + 2]!, alpha[i]!], i * 4);
    expect(colourError(dirty, F, alpha, band, [0, 255, 0])).toBeGreaterThan(10);
  });
});
