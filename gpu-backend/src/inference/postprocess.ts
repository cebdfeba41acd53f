import type { ModelSpec } from '@bgremove/shared';

/**
 * The model's final map (batch 0, channel 0 = the first width×height values) to an 8-bit matte:
 * optional sigmoid, then min-max over the whole map (or a clamp to [0, 1]), then ×255 truncated,
 * as rembg does. A constant map has no range to stretch and is clamped instead.
 */
export function toMatte(map: ArrayLike<number>, pixels: number, output: ModelSpec['output']): Uint8Array {
  if (map.length < pixels) throw new RangeError(`model output has ${map.length} values, expected ${pixels}`);
  const values = new Float32Array(pixels);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < pixels; i++) {
    let v = map[i]!;
    if (output.activation === 'sigmoid') v = 1 / (1 + Math.exp(-v));
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const matte = new Uint8Array(pixels);
  const stretch = output.normalize === 'min-max' && max > min;
  const scale = stretch ? 1 / (max - min) : 1;
  const offset = stretch ? min : 0;
  for (let i = 0; i < pixels; i++) {
    const v = (values[i]! - offset) * scale;
    matte[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.trunc(v * 255);
  }
  return matte;
}

/** IEEE 754 half floats (as ORT returns float16 tensors) to numbers. */
export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}
