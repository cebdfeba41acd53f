import { findModel, type ModelSpec } from '@bgremove/shared';
import { describe, expect, it } from 'vitest';
import { toInputTensor } from './preprocess';

const isnet = findModel('isnet-general-use')!;

describe('toInputTensor', () => {
  // Two pixels, RGB: (200, 100, 50) and (0, 255, 20). Values below are worked out by hand.
  const rgb = new Uint8Array([200, 100, 50, 0, 255, 20]);

  it('divides by the image maximum, then applies mean 0.5 / std 1 (IS-Net), in CHW order', () => {
    const t = toInputTensor(rgb, { width: 2, height: 1 }, isnet.normalize);
    const expected = [200 / 255 - 0.5, 0 - 0.5, 100 / 255 - 0.5, 1 - 0.5, 50 / 255 - 0.5, 20 / 255 - 0.5];
    expect([...t].map((v) => +v.toFixed(5))).toEqual(expected.map((v) => +v.toFixed(5)));
  });

  it('uses the image maximum, not 255, when the image is dark', () => {
    const dark = new Uint8Array([10, 20, 40, 0, 0, 0]);
    const t = toInputTensor(dark, { width: 2, height: 1 }, isnet.normalize);
    expect(t[2 * 2]).toBeCloseTo(40 / 40 - 0.5, 6); // B of pixel 0 is the maximum
    expect(t[0]).toBeCloseTo(10 / 40 - 0.5, 6);
  });

  it('applies ImageNet mean/std per channel after dividing by 255', () => {
    const normalize: ModelSpec['normalize'] = {
      scale: '255',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    };
    const t = toInputTensor(rgb, { width: 2, height: 1 }, normalize);
    expect(t[0]).toBeCloseTo((200 / 255 - 0.485) / 0.229, 5);
    expect(t[3]).toBeCloseTo((255 / 255 - 0.456) / 0.224, 5);
    expect(t[5]).toBeCloseTo((20 / 255 - 0.406) / 0.225, 5);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => toInputTensor(rgb, { width: 3, height: 1 }, isnet.normalize)).toThrow(RangeError);
  });
});
