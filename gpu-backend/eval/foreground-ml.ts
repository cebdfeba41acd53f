/**
 * Germer et al.'s multi-level foreground estimation ("Fast multi-level foreground estimation",
 * ICPR 2020; pymatting's estimate_foreground_ml, same defaults): from coarse to fine, F and B are
 * solved per pixel from the compositing equation I = αF + (1 − α)B with a smoothness term towards
 * the neighbours, weighted by how much α changes. Used by the harness to know the ground truth's
 * foreground colours (it is slow-ish and single-threaded: a tool, not the product path).
 */

import { unitFloats } from '../src/matte/image-ops';

export interface ForegroundOptions {
  regularization?: number;
  smallIterations?: number;
  bigIterations?: number;
  smallSize?: number;
  gradientWeight?: number;
}

function resizeNearest(
  src: Float32Array,
  sw: number,
  sh: number,
  depth: number,
  w: number,
  h: number,
): Float32Array<ArrayBuffer> {
  const dst = new Float32Array(w * h * depth);
  for (let y = 0; y < h; y++) {
    const y0 = Math.min(sh - 1, Math.floor((y * sh) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.min(sw - 1, Math.floor((x * sw) / w));
      for (let c = 0; c < depth; c++) dst[(y * w + x) * depth + c] = src[(y0 * sw + x0) * depth + c]!;
    }
  }
  return dst;
}

/**
 * Foreground colours (interleaved RGB on [0, 1]) of an RGB image (8-bit, interleaved) under an
 * 8-bit alpha.
 */
export function estimateForegroundMl(
  rgb: Uint8Array,
  alpha8: Uint8Array,
  width: number,
  height: number,
  options: ForegroundOptions = {},
): Float32Array {
  const {
    regularization = 1e-5,
    smallIterations = 10,
    bigIterations = 2,
    smallSize = 32,
    gradientWeight = 1,
  } = options;
  const inputImage = unitFloats(rgb);
  const inputAlpha = unitFloats(alpha8);
  let F: Float32Array<ArrayBuffer> = new Float32Array(3);
  let B: Float32Array<ArrayBuffer> = new Float32Array(3);
  let wPrev = 1;
  let hPrev = 1;
  const levels = Math.ceil(Math.log2(Math.max(width, height)));
  const dx = [-1, 1, 0, 0];
  const dy = [0, 0, -1, 1];
  for (let level = 0; level <= levels; level++) {
    const w = Math.round(width ** (level / levels));
    const h = Math.round(height ** (level / levels));
    const image = resizeNearest(inputImage, width, height, 3, w, h);
    const alpha = resizeNearest(inputAlpha, width, height, 1, w, h);
    F = resizeNearest(F, wPrev, hPrev, 3, w, h);
    B = resizeNearest(B, wPrev, hPrev, 3, w, h);
    const iterations = w <= smallSize && h <= smallSize ? smallIterations : bigIterations;
    const b0 = new Float64Array(3);
    const b1 = new Float64Array(3);
    for (let iteration = 0; iteration < iterations; iteration++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          const a0 = alpha[i]!;
          const a1 = 1 - a0;
          let a00 = a0 * a0;
          const a01 = a0 * a1;
          let a11 = a1 * a1;
          for (let c = 0; c < 3; c++) {
            b0[c] = a0 * image[i * 3 + c]!;
            b1[c] = a1 * image[i * 3 + c]!;
          }
          for (let d = 0; d < 4; d++) {
            const x2 = Math.max(0, Math.min(w - 1, x + dx[d]!));
            const y2 = Math.max(0, Math.min(h - 1, y + dy[d]!));
            const j = y2 * w + x2;
            const da = regularization + gradientWeight * Math.abs(a0 - alpha[j]!);
            a00 += da;
            a11 += da;
            for (let c = 0; c < 3; c++) {
              b0[c]! += da * F[j * 3 + c]!;
              b1[c]! += da * B[j * 3 + c]!;
            }
          }
          const inv = 1 / (a00 * a11 - a01 * a01);
          const m00 = inv * a11;
          const m01 = -inv * a01;
          const m11 = inv * a00;
          for (let c = 0; c < 3; c++) {
            const f = m00 * b0[c]! + m01 * b1[c]!;
            const bg = m01 * b0[c]! + m11 * b1[c]!;
            F[i * 3 + c] = Math.min(1, Math.max(0, f));
            B[i * 3 + c] = Math.min(1, Math.max(0, bg));
          }
        }
      }
    }
    wPrev = w;
    hPrev = h;
  }
  return F;
}
