/**
 * Alpha-matte quality metrics for the evaluation harness (`npm run eval`). Every function takes
 * 8-bit mattes (0..255, one value per pixel, row-major) of the same size and works on [0, 1].
 *
 * Conventions (docs/QUALITY.md):
 * - MAE, MSE: mean absolute / squared error per pixel.
 * - SAD: sum of absolute errors over the image, in thousands (alphamatting.com's unit).
 * - Grad: alphamatting.com's gradient error: both mattes' gradient magnitudes from first-order
 *   Gaussian derivative filters (σ = 1.4, kernel normalised to unit L2 norm, edges replicated),
 *   the sum of squared differences over the image, in thousands.
 * - IoU@0.5: prediction and ground truth both thresholded at 0.5 (value ≥ 128 counts).
 * - Hole rate: of the ground truth's opaque pixels (GT ≥ 0.98), the share that come out α < 0.9.
 * - Ghost rate: of the ground truth's background pixels (GT ≤ 0.02), the share with α > 0.1.
 */

export interface Matte {
  data: Uint8Array;
  width: number;
  height: number;
}

function check(pred: Uint8Array, gt: Uint8Array): void {
  if (pred.length !== gt.length) throw new RangeError(`sizes differ: ${pred.length} vs ${gt.length}`);
  if (pred.length === 0) throw new RangeError('empty matte');
}

export function mae(pred: Uint8Array, gt: Uint8Array): number {
  check(pred, gt);
  let sum = 0;
  for (let i = 0; i < pred.length; i++) sum += Math.abs(pred[i]! - gt[i]!);
  return sum / pred.length / 255;
}

export function mse(pred: Uint8Array, gt: Uint8Array): number {
  check(pred, gt);
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = (pred[i]! - gt[i]!) / 255;
    sum += d * d;
  }
  return sum / pred.length;
}

/** Sum of absolute differences on [0, 1], divided by 1000. */
export function sad(pred: Uint8Array, gt: Uint8Array): number {
  check(pred, gt);
  let sum = 0;
  for (let i = 0; i < pred.length; i++) sum += Math.abs(pred[i]! - gt[i]!);
  return sum / 255 / 1000;
}

/** IoU of both thresholded at 0.5 (≥ 128); two empty masks agree perfectly (1). */
export function iou(pred: Uint8Array, gt: Uint8Array): number {
  check(pred, gt);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]! >= 128;
    const g = gt[i]! >= 128;
    if (p && g) inter++;
    if (p || g) union++;
  }
  return union === 0 ? 1 : inter / union;
}

const OPAQUE_GT = 0.98 * 255;
const HOLE_ALPHA = 0.9 * 255;
const BACKGROUND_GT = 0.02 * 255;
const GHOST_ALPHA = 0.1 * 255;

/** Share of GT-opaque pixels (GT ≥ 0.98) with α < 0.9; undefined when the GT has none. */
export function holeRate(pred: Uint8Array, gt: Uint8Array): number | undefined {
  check(pred, gt);
  let opaque = 0;
  let holes = 0;
  for (let i = 0; i < pred.length; i++) {
    if (gt[i]! >= OPAQUE_GT) {
      opaque++;
      if (pred[i]! < HOLE_ALPHA) holes++;
    }
  }
  return opaque === 0 ? undefined : holes / opaque;
}

/** Share of GT-background pixels (GT ≤ 0.02) with α > 0.1; undefined when the GT has none. */
export function ghostRate(pred: Uint8Array, gt: Uint8Array): number | undefined {
  check(pred, gt);
  let background = 0;
  let ghosts = 0;
  for (let i = 0; i < pred.length; i++) {
    if (gt[i]! <= BACKGROUND_GT) {
      background++;
      if (pred[i]! > GHOST_ALPHA) ghosts++;
    }
  }
  return background === 0 ? undefined : ghosts / background;
}

/** The first-order Gaussian derivative kernel (x derivative, rows = y), unit L2 norm. */
export function gaussianGradientKernel(sigma: number): { size: number; hx: Float64Array } {
  const epsilon = 1e-2;
  const half = Math.ceil(sigma * Math.sqrt(-2 * Math.log(Math.sqrt(2 * Math.PI) * sigma * epsilon)));
  const size = 2 * half + 1;
  const gauss = (x: number) => Math.exp(-(x * x) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
  const dgauss = (x: number) => (-x * gauss(x)) / (sigma * sigma);
  const hx = new Float64Array(size * size);
  let norm = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const v = gauss(i - half) * dgauss(j - half);
      hx[i * size + j] = v;
      norm += v * v;
    }
  }
  norm = Math.sqrt(norm);
  for (let k = 0; k < hx.length; k++) hx[k] = hx[k]! / norm;
  return { size, hx };
}

/**
 * Gradient magnitude of a [0, 1] image by convolution with hx and its transpose (edges
 * replicated). hx[i][j] = g(i)·g'(j) is separable, so it runs as two 1-D passes per direction.
 */
export function gradientMagnitude(
  values: Float64Array,
  width: number,
  height: number,
  sigma = 1.4,
): Float64Array {
  const { size } = gaussianGradientKernel(sigma);
  const half = (size - 1) / 2;
  const gauss = (x: number) => Math.exp(-(x * x) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
  const g = Float64Array.from({ length: size }, (_, k) => gauss(k - half));
  const dg = Float64Array.from({ length: size }, (_, k) => (-(k - half) * gauss(k - half)) / (sigma * sigma));
  // The 2-D kernel's unit L2 norm is the product of the 1-D norms.
  const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0) * dg.reduce((s, v) => s + v * v, 0));
  // Convolution flips the kernel: out(y, x) = Σ image(y − (i − half), x − (j − half)) k(i, j).
  const along = (src: Float64Array, kernel: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let k = 0; k < size; k++) {
          const d = k - half;
          const v = horizontal
            ? src[y * width + Math.min(width - 1, Math.max(0, x - d))]!
            : src[Math.min(height - 1, Math.max(0, y - d)) * width + x]!;
          sum += v * kernel[k]!;
        }
        out[y * width + x] = sum;
      }
    }
    return out;
  };
  // gx: rows (y) with g, columns (x) with g'; gy: the transpose.
  const gx = along(along(values, g, false), dg, true);
  const gy = along(along(values, dg, false), g, true);
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(gx[i]! * gx[i]! + gy[i]! * gy[i]!) / norm;
  return out;
}

/** alphamatting.com's gradient error over the whole image, divided by 1000. */
export function gradientError(pred: Matte, gt: Matte): number {
  check(pred.data, gt.data);
  const unit = (m: Matte) => {
    const out = new Float64Array(m.data.length);
    for (let i = 0; i < out.length; i++) out[i] = m.data[i]! / 255;
    return out;
  };
  const a = gradientMagnitude(unit(pred), pred.width, pred.height);
  const b = gradientMagnitude(unit(gt), gt.width, gt.height);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum / 1000;
}

/**
 * PySODMetrics' F-measure curve of one image (β² = 0.3): the prediction min-max normalised
 * (unless constant), quantised by truncating ×255, foreground at ≥ t for t = 0..255; GT > 128.
 */
export function fMeasureCurve(pred: Uint8Array, gt: Uint8Array, beta2 = 0.3): Float64Array {
  check(pred, gt);
  let min = 255;
  let max = 0;
  for (const v of pred) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fgHist = new Float64Array(256);
  const bgHist = new Float64Array(256);
  let gtCount = 0;
  for (let i = 0; i < pred.length; i++) {
    let p = pred[i]! / 255;
    if (max > min) p = (p - min / 255) / (max / 255 - min / 255);
    const q = Math.min(255, Math.max(0, Math.trunc(p * 255)));
    if (gt[i]! > 128) {
      fgHist[q]!++;
      gtCount++;
    } else bgHist[q]!++;
  }
  const curve = new Float64Array(256);
  let tp = 0;
  let fp = 0;
  for (let t = 255; t >= 0; t--) {
    tp += fgHist[t]!;
    fp += bgHist[t]!;
    const precision = tp / Math.max(tp + fp, 1);
    const recall = tp / Math.max(gtCount, 1);
    const denominator = beta2 * precision + recall;
    curve[t] = denominator === 0 ? 0 : ((1 + beta2) * precision * recall) / denominator;
  }
  return curve;
}

/** PySODMetrics' MAE: the prediction min-max normalised per image (unless constant), GT > 128. */
export function sodMae(pred: Uint8Array, gt: Uint8Array): number {
  check(pred, gt);
  let min = 255;
  let max = 0;
  for (const v of pred) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < pred.length; i++) {
    let p = pred[i]! / 255;
    if (max > min) p = (p - min / 255) / (max / 255 - min / 255);
    sum += Math.abs(p - (gt[i]! > 128 ? 1 : 0));
  }
  return sum / pred.length;
}

/** maxFm and meanFm of a set: the per-image curves averaged over images, then max and mean. */
export function setFMeasure(curves: Float64Array[]): { maxF: number; meanF: number } {
  if (curves.length === 0) throw new RangeError('no images');
  const mean = new Float64Array(256);
  for (const curve of curves) for (let t = 0; t < 256; t++) mean[t]! += curve[t]!;
  for (let t = 0; t < 256; t++) mean[t] = mean[t]! / curves.length;
  let maxF = 0;
  let sum = 0;
  for (const v of mean) {
    maxF = Math.max(maxF, v);
    sum += v;
  }
  return { maxF, meanF: sum / 256 };
}
