/**
 * Colour error of cutouts over new backgrounds (docs/QUALITY.md). The photo's true foreground F
 * is estimated from its ground-truth alpha (Germer's multi-level method). The cutout the pipeline
 * makes of the photo, (F̂, α̂), is put over new backgrounds N and compared with the truth over the
 * same N, αF + (1 − α)N, in the transition band: pixels with 0 < GT < 1, dilated.
 */

/** Interleaved 8-bit RGB composite of F (on [0, 1]) over an 8-bit RGB background under alpha. */
export function composite(F: Float32Array, alpha: Uint8Array, background: Uint8Array): Uint8Array {
  const out = new Uint8Array(background.length);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i]! / 255;
    for (let c = 0; c < 3; c++) {
      const v = a * F[i * 3 + c]! * 255 + (1 - a) * background[i * 3 + c]!;
      out[i * 3 + c] = Math.round(v);
    }
  }
  return out;
}

/** A mask of the pixels with 0 < GT < 255, dilated by `radius` (square). */
export function transitionBand(gt: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const soft = new Uint8Array(gt.length);
  for (let i = 0; i < gt.length; i++) soft[i] = gt[i]! > 0 && gt[i]! < 255 ? 1 : 0;
  const horizontal = new Uint8Array(soft.length);
  for (let y = 0; y < height; y++) {
    let last = -Infinity;
    // distance to the nearest soft pixel on the row, both directions
    for (let x = 0; x < width; x++) {
      if (soft[y * width + x]) last = x;
      if (x - last <= radius) horizontal[y * width + x] = 1;
    }
    last = Infinity;
    for (let x = width - 1; x >= 0; x--) {
      if (soft[y * width + x]) last = x;
      if (last - x <= radius) horizontal[y * width + x] = 1;
    }
  }
  const band = new Uint8Array(soft.length);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height; y++) {
      if (horizontal[y * width + x]) last = y;
      if (y - last <= radius) band[y * width + x] = 1;
    }
    last = Infinity;
    for (let y = height - 1; y >= 0; y--) {
      if (horizontal[y * width + x]) last = y;
      if (last - y <= radius) band[y * width + x] = 1;
    }
  }
  return band;
}

/**
 * Mean absolute difference (8-bit levels, averaged over channels and the band's pixels) between the
 * cutout (RGBA) over a background N (a plain colour, or interleaved RGB of the same size) and the
 * truth (F, GT alpha) over the same N.
 */
export function colourError(
  cutout: Uint8Array,
  F: Float32Array,
  gt: Uint8Array,
  band: Uint8Array,
  background: readonly [number, number, number] | Uint8Array,
): number {
  const plain = !(background instanceof Uint8Array);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < gt.length; i++) {
    if (!band[i]) continue;
    const a = cutout[i * 4 + 3]! / 255;
    const g = gt[i]! / 255;
    for (let c = 0; c < 3; c++) {
      const bg = plain ? background[c]! : background[i * 3 + c]!;
      const ours = a * cutout[i * 4 + c]! + (1 - a) * bg;
      const truth = g * F[i * 3 + c]! * 255 + (1 - g) * bg;
      sum += Math.abs(ours - truth);
    }
    n += 3;
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * The colour step's own error: the cutout's colours (RGBA, alpha ignored) put over any background
 * with the ground-truth alpha, against the truth, αF + (1 − α)N, in the band. The background
 * cancels: it is the mean of α·|F̂ − F| (8-bit levels, over channels and band pixels). So the
 * alpha's own errors (measured by MAE, SAD, Grad, ...) do not hide what the colours do.
 */
export function colourErrorAtTrueAlpha(
  cutout: Uint8Array,
  F: Float32Array,
  gt: Uint8Array,
  band: Uint8Array,
): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < gt.length; i++) {
    if (!band[i]) continue;
    const g = gt[i]! / 255;
    for (let c = 0; c < 3; c++) sum += g * Math.abs(cutout[i * 4 + c]! - F[i * 3 + c]! * 255);
    n += 3;
  }
  return n === 0 ? 0 : sum / n;
}
