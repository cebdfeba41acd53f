import { describe, expect, it } from 'vitest';
import { estimateForegroundMl } from './foreground-ml';

describe('estimateForegroundMl', () => {
  it('recovers a known foreground colour from a composite with a soft alpha ramp', () => {
    const w = 48;
    const h = 24;
    const fg = [200, 40, 30];
    const rgb = new Uint8Array(w * h * 3);
    const alpha = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const a = Math.min(1, Math.max(0, (x - 12) / 24));
        // background: a vertical gradient of blues
        const bg = [20, 60 + 4 * y, 220];
        alpha[i] = Math.round(a * 255);
        for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(a * fg[c]! + (1 - a) * bg[c]!);
      }
    }
    const F = estimateForegroundMl(rgb, alpha, w, h);
    let err = 0;
    let n = 0;
    for (let i = 0; i < w * h; i++) {
      if (alpha[i]! < 64 || alpha[i]! === 255) continue;
      for (let c = 0; c < 3; c++) err += Math.abs(F[i * 3 + c]! * 255 - fg[c]!);
      n += 3;
    }
    // The composite's own colour would be off by ~60 levels in this band.
    expect(err / n).toBeLessThan(15);
  });
});
