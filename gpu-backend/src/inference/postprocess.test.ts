import { describe, expect, it } from 'vitest';
import { float16ToFloat32, toMatte } from './postprocess';

describe('toMatte', () => {
  it('stretches min..max to 0..255 and truncates, as rembg', () => {
    const matte = toMatte(new Float32Array([0.2, 0.4, 0.6, 0.3]), 4, {
      name: null,
      activation: 'none',
      normalize: 'min-max',
    });
    // (x - 0.2) / 0.4 * 255, truncated: 0, 127.5 -> 127, 255, 63.75 -> 63
    expect([...matte]).toEqual([0, 127, 255, 63]);
  });

  it('applies a sigmoid first for logit outputs', () => {
    const logits = new Float32Array([-2, 0, 2]);
    const matte = toMatte(logits, 3, { name: null, activation: 'sigmoid', normalize: 'clamp' });
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    expect([...matte]).toEqual([Math.trunc(s(-2) * 255), Math.trunc(s(0) * 255), Math.trunc(s(2) * 255)]);
  });

  it('uses only the first plane (channel 0) and clamps a constant map', () => {
    const matte = toMatte(new Float32Array([0.5, 0.5, 9, 9]), 2, {
      name: null,
      activation: 'none',
      normalize: 'min-max',
    });
    expect([...matte]).toEqual([127, 127]);
  });
});

describe('float16ToFloat32', () => {
  it('decodes known half-precision bit patterns', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x0000, 0x7c00, 0x0001, 0x3555]);
    const out = float16ToFloat32(halves);
    expect([...out.slice(0, 5)]).toEqual([1, -2, 0.5, 0, Infinity]);
    expect(out[5]).toBeCloseTo(2 ** -24, 30);
    expect(out[6]).toBeCloseTo(0.33325, 4);
  });
});
