import { describe, expect, it } from 'vitest';
import { estimateForeground } from './foreground';

/** A red subject with a soft edge (a short α ramp, as fur) over a blue background, at two sizes. */
function scene(width: number, height: number) {
  const rgb = new Uint8Array(width * height * 3);
  const alpha = new Uint8Array(width * height);
  const F = [220, 40, 30];
  const B = [20, 40, 230];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const a = Math.min(1, Math.max(0, (x - 0.5 * width) / (0.04 * width)));
      alpha[i] = Math.round(a * 255);
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(a * F[c]! + (1 - a) * B[c]!);
    }
  }
  return { rgb, alpha, F };
}

describe('estimateForeground', () => {
  it('pulls the band towards the subject colour, keeps opaque pixels exact, and is bounded by the working size', () => {
    const big = scene(400, 200);
    const small = scene(100, 50);
    const out = estimateForeground({
      rgb: big.rgb,
      alpha: big.alpha,
      width: 400,
      height: 200,
      smallRgb: small.rgb,
      smallAlpha: small.alpha,
      smallWidth: 100,
      smallHeight: 50,
    });
    let before = 0;
    let after = 0;
    let n = 0;
    for (let i = 0; i < 400 * 200; i++) {
      const a = big.alpha[i]!;
      if (a === 255) {
        for (let c = 0; c < 3; c++) expect(out[i * 3 + c]).toBe(big.rgb[i * 3 + c]);
        continue;
      }
      if (a < 40) continue; // the colour of nearly transparent pixels hardly shows
      for (let c = 0; c < 3; c++) {
        before += Math.abs(big.rgb[i * 3 + c]! - big.F[c]!);
        after += Math.abs(out[i * 3 + c]! - big.F[c]!);
      }
      n += 3;
    }
    expect(n).toBeGreaterThan(0);
    // The photo's own colours are far off in the band; the estimate is much closer.
    expect(before / n).toBeGreaterThan(40);
    expect(after / n).toBeLessThan(0.3 * (before / n));
  });
});
