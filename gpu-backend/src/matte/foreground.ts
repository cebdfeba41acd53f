/**
 * Foreground colour estimation ("colour decontamination") for cutouts: the photo's own colours at
 * a soft edge are a mix of the subject and the old background, I = αF + (1 − α)B; kept under the
 * new alpha they carry the old background (a dark fringe on fur put over green). This estimates F
 * with Forte & Pitié's blur-fusion ("Approximate fast foreground colour estimation", ICIP 2021;
 * two passes, wide then narrow, as BiRefNet's refine_foreground), bounded for large photos:
 *
 * - the blurred foreground and background colours (the expensive, smooth part) are computed at the
 *   working resolution the model ran at (about 1 MP), from the model-size photo and matte;
 * - at output size only the transition band (0 < α < 1) is touched, with the closed-form step
 *   F = F̄ + α(I − αF̄ − (1 − α)B̄), F̄ and B̄ sampled bilinearly. Opaque pixels keep the photo's
 *   colour exactly (the formula gives I at α = 1) and the alpha is never changed.
 */
import { boxMean, unitFloats } from './image-ops';

export interface ForegroundRequest {
  /** The photo at output size, interleaved 8-bit RGB. */
  rgb: Uint8Array;
  /** The alpha at output size. */
  alpha: Uint8Array;
  width: number;
  height: number;
  /** The photo and alpha at the working (model) size. */
  smallRgb: Uint8Array;
  smallAlpha: Uint8Array;
  smallWidth: number;
  smallHeight: number;
}

/** Wide and narrow box radii as shares of the working size's longer side (90 and 6 px at 2 K). */
const WIDE = 0.045;
const NARROW = 0.004;

interface Blurred {
  F: Float32Array;
  B: Float32Array;
}

/** One blur-fusion pass: blurred F (weighted by α) and B (by 1 − α), and the new F estimate. */
function pass(
  image: Float32Array,
  F: Float32Array,
  B: Float32Array,
  alpha: Float32Array,
  width: number,
  height: number,
  r: number,
): { estimate: Float32Array; blurred: Blurred } {
  const n = width * height;
  const fa = new Float32Array(n * 3);
  const b1a = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = alpha[i]!;
    for (let c = 0; c < 3; c++) {
      fa[i * 3 + c] = F[i * 3 + c]! * a;
      b1a[i * 3 + c] = B[i * 3 + c]! * (1 - a);
    }
  }
  const blurA = boxMean(alpha, width, height, r);
  const blurFA = boxMean(fa, width, height, r, fa.slice(), 3);
  const blurB1A = boxMean(b1a, width, height, r, b1a.slice(), 3);
  const blurF = blurFA;
  const blurB = blurB1A;
  const estimate = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const ba = blurA[i]!;
    const a = alpha[i]!;
    for (let c = 0; c < 3; c++) {
      const k = i * 3 + c;
      const f = blurFA[k]! / (ba + 1e-5);
      const b = blurB1A[k]! / (1 - ba + 1e-5);
      blurF[k] = f;
      blurB[k] = b;
      const v = f + a * (image[k]! - a * f - (1 - a) * b);
      estimate[k] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { estimate, blurred: { F: blurF, B: blurB } };
}

/** The blurred foreground and background colours of the second (narrow) pass at working size. */
export function blurredColours(rgb: Uint8Array, alpha8: Uint8Array, width: number, height: number): Blurred {
  const image = unitFloats(rgb);
  const alpha = unitFloats(alpha8);
  const side = Math.max(width, height);
  const first = pass(image, image, image, alpha, width, height, Math.max(1, Math.round(WIDE * side)));
  const second = pass(
    image,
    first.estimate,
    first.blurred.B,
    alpha,
    width,
    height,
    Math.max(1, Math.round(NARROW * side)),
  );
  return second.blurred;
}

/** The blurred colours are smooth: they are computed with the longer side at most this. */
const WORKING_SIDE = 512;

/** Block averages of `factor`×`factor` (the last ones clipped) of interleaved 8-bit channels. */
function shrink(values: Uint8Array, width: number, height: number, channels: number, factor: number) {
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const sums = new Float32Array(w * h * channels);
  const counts = new Float32Array(w * h);
  for (let y = 0; y < height; y++) {
    const orow = ((y / factor) | 0) * w;
    for (let x = 0; x < width; x++) {
      const o = orow + ((x / factor) | 0);
      counts[o]!++;
      const i = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) sums[o * channels + c]! += values[i + c]!;
    }
  }
  const out = new Uint8Array(sums.length);
  for (let o = 0; o < w * h; o++) {
    for (let c = 0; c < channels; c++)
      out[o * channels + c] = Math.round(sums[o * channels + c]! / counts[o]!);
  }
  return { data: out, width: w, height: h };
}

/** The photo's colours with the transition band decontaminated (a new array; alpha untouched). */
export function estimateForeground(request: ForegroundRequest): Uint8Array {
  const { rgb, alpha, width, height } = request;
  const factor = Math.max(1, Math.round(Math.max(request.smallWidth, request.smallHeight) / WORKING_SIDE));
  const small = shrink(request.smallRgb, request.smallWidth, request.smallHeight, 3, factor);
  const smallAlpha = shrink(request.smallAlpha, request.smallWidth, request.smallHeight, 1, factor);
  const sw = small.width;
  const sh = small.height;
  const { F, B } = blurredColours(small.data, smallAlpha.data, sw, sh);
  const out = new Uint8Array(rgb);
  const fx = sw / width;
  const fy = sh / height;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(sh - 1, Math.max(0, (y + 0.5) * fy - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = sy - y0;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const a8 = alpha[i]!;
      if (a8 === 0 || a8 === 255) continue;
      const a = a8 / 255;
      const sx = Math.min(sw - 1, Math.max(0, (x + 0.5) * fx - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = sx - x0;
      const p00 = (y0 * sw + x0) * 3;
      const p01 = (y0 * sw + x1) * 3;
      const p10 = (y1 * sw + x0) * 3;
      const p11 = (y1 * sw + x1) * 3;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      for (let c = 0; c < 3; c++) {
        const f = F[p00 + c]! * w00 + F[p01 + c]! * w01 + F[p10 + c]! * w10 + F[p11 + c]! * w11;
        const b = B[p00 + c]! * w00 + B[p01 + c]! * w01 + B[p10 + c]! * w10 + B[p11 + c]! * w11;
        const v = f + a * (rgb[i * 3 + c]! / 255 - a * f - (1 - a) * b);
        out[i * 3 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
      }
    }
  }
  return out;
}
