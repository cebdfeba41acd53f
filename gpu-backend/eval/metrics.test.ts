import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalDataMissing, evalDir, readMatte } from './data';
import {
  fMeasureCurve,
  ghostRate,
  gaussianGradientKernel,
  gradientError,
  gradientMagnitude,
  holeRate,
  iou,
  mae,
  mse,
  sad,
  setFMeasure,
  sodMae,
} from './metrics';

const u8 = (...values: number[]) => Uint8Array.from(values);

describe('pixel metrics on hand-made cases', () => {
  it('MAE, MSE and SAD', () => {
    const pred = u8(0, 255, 51, 255);
    const gt = u8(0, 0, 0, 255);
    expect(mae(pred, gt)).toBeCloseTo((1 + 0.2) / 4, 12);
    expect(mse(pred, gt)).toBeCloseTo((1 + 0.04) / 4, 12);
    expect(sad(pred, gt)).toBeCloseTo(1.2 / 1000, 12);
    expect(mae(gt, gt)).toBe(0);
    expect(() => mae(u8(1), u8(1, 2))).toThrow(/sizes differ/);
  });

  it('IoU at 0.5, empty masks agree', () => {
    expect(iou(u8(255, 255, 0, 0), u8(255, 0, 255, 0))).toBeCloseTo(1 / 3, 12);
    expect(iou(u8(128, 127), u8(255, 255))).toBe(0.5);
    expect(iou(u8(0, 0), u8(0, 0))).toBe(1);
  });

  it('hole and ghost rates count only GT-opaque and GT-background pixels', () => {
    // GT: two opaque (255, 250), one soft (128), two background (0, 5).
    const gt = u8(255, 250, 128, 0, 5);
    const pred = u8(255, 200, 0, 30, 20);
    expect(holeRate(pred, gt)).toBe(0.5); // 200 < 0.9·255
    expect(ghostRate(pred, gt)).toBe(0.5); // 30 > 0.1·255, 20 is not
    expect(holeRate(u8(0), u8(0))).toBeUndefined();
    expect(ghostRate(u8(0), u8(255))).toBeUndefined();
  });

  it('Grad: zero for identical mattes, zero for flat ones, positive when an edge moves', () => {
    const w = 16;
    const h = 8;
    const edge = (at: number) => ({
      data: Uint8Array.from({ length: w * h }, (_, i) => (i % w < at ? 255 : 0)),
      width: w,
      height: h,
    });
    expect(gradientError(edge(8), edge(8))).toBe(0);
    const flat = { data: new Uint8Array(w * h).fill(77), width: w, height: h };
    expect(gradientError(flat, flat)).toBe(0);
    expect(
      gradientMagnitude(
        Float64Array.from(flat.data, (v) => v / 255),
        w,
        h,
      ).every((v) => Math.abs(v) < 1e-12),
    ).toBe(true);
    expect(gradientError(edge(5), edge(8))).toBeGreaterThan(0);
    // A step's gradient peaks at the step and is symmetric about it.
    const g = gradientMagnitude(
      Float64Array.from(edge(8).data, (v) => v / 255),
      w,
      h,
    );
    const row = Array.from(g.subarray(4 * w, 5 * w));
    expect(row.indexOf(Math.max(...row))).toBeGreaterThanOrEqual(7);
    expect(row.indexOf(Math.max(...row))).toBeLessThanOrEqual(8);
    expect(row[6]).toBeCloseTo(row[9]!, 12);
  });

  it('Grad: the separable filter equals the 2-D convolution with the normalised kernel', () => {
    const w = 13;
    const h = 11;
    let seed = 7;
    const values = Float64Array.from(
      { length: w * h },
      () => ((seed = (seed * 16807) % 2147483647) % 1000) / 1000,
    );
    const { size, hx } = gaussianGradientKernel(1.4);
    const half = (size - 1) / 2;
    const fast = gradientMagnitude(values, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let gx = 0;
        let gy = 0;
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) {
            const yy = Math.min(h - 1, Math.max(0, y - (i - half)));
            const xx = Math.min(w - 1, Math.max(0, x - (j - half)));
            gx += values[yy * w + xx]! * hx[i * size + j]!;
            gy += values[yy * w + xx]! * hx[j * size + i]!;
          }
        }
        expect(fast[y * w + x]).toBeCloseTo(Math.hypot(gx, gy), 10);
      }
    }
  });

  it('F-measure: a perfect prediction reaches 1; the curve is over 256 thresholds', () => {
    const gt = u8(255, 255, 0, 0);
    const curve = fMeasureCurve(u8(200, 180, 10, 0), gt);
    expect(curve).toHaveLength(256);
    expect(Math.max(...curve)).toBeCloseTo(1, 12);
    expect(setFMeasure([curve]).maxF).toBeCloseTo(1, 12);
  });
});

const missing = evalDataMissing('metric-reference-pysodmetrics');

describe.skipIf(missing !== undefined)('against PySODMetrics reference values', () => {
  it(`reproduces MAE, maxFm and meanFm over its 3 pairs${missing ? ` (skipped: ${missing})` : ''}`, async () => {
    const dir = join(evalDir(), 'metric-reference-pysodmetrics');
    const expected = (
      JSON.parse(readFileSync(join(dir, 'expected_metrics.json'), 'utf8')) as Record<
        string,
        Record<string, number>
      >
    ).v1_4_3!;
    const curves: Float64Array[] = [];
    let maeSum = 0;
    const names = ['0001.png', '19.png', 'aerial-1867541__340.png'];
    for (const name of names) {
      const gt = await readMatte(join(dir, 'masks', name));
      const pred = await readMatte(join(dir, 'preds', name));
      curves.push(fMeasureCurve(pred.data, gt.data));
      maeSum += sodMae(pred.data, gt.data);
    }
    const { maxF, meanF } = setFMeasure(curves);
    expect(maeSum / names.length).toBeCloseTo(expected.MAE!, 12);
    expect(maxF).toBeCloseTo(expected.maxFm!, 12);
    expect(meanF).toBeCloseTo(expected.meanFm!, 12);
  });
});
