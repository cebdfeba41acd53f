import type { ModelSpec } from '@bgremove/shared';

/** A width and height in pixels. */
export interface Size {
  width: number;
  height: number;
}

/**
 * Interleaved 8-bit RGB (HWC) to the model's float32 CHW tensor, per the manifest: divide by the
 * image's own maximum (rembg) or by 255, then (x - mean) / std per channel. Writes into `out`
 * when given, so a worker can reuse one buffer per input size.
 */
export function toInputTensor(
  rgb: Uint8Array,
  size: Size,
  normalize: ModelSpec['normalize'],
  out: Float32Array<ArrayBuffer> = new Float32Array(3 * size.width * size.height),
): Float32Array<ArrayBuffer> {
  const plane = size.width * size.height;
  if (rgb.length !== plane * 3) throw new RangeError(`expected ${plane * 3} RGB bytes, got ${rgb.length}`);
  if (out.length !== plane * 3)
    throw new RangeError(`expected a tensor of ${plane * 3} floats, got ${out.length}`);
  let divisor = 255;
  if (normalize.scale === 'image-max') {
    let max = 0;
    for (let i = 0; i < rgb.length; i++) if (rgb[i]! > max) max = rgb[i]!;
    divisor = Math.max(max, 1e-6);
  }
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (divisor * normalize.std[c]!);
    const offset = normalize.mean[c]! / normalize.std[c]!;
    const base = c * plane;
    for (let i = 0, j = c; i < plane; i++, j += 3) out[base + i] = rgb[j]! * scale - offset;
  }
  return out;
}
