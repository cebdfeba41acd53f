/**
 * Plain-array image operations for the matte refinement and the colour estimate: box filters by
 * running sums (O(1) per pixel whatever the radius), connected components, a chamfer distance
 * transform. Row-major, one value per pixel unless said otherwise. They run on the pixel worker
 * threads (pixel-pool.ts), never on the event loop.
 */

/** 8-bit values scaled to [0, 1] (a plain loop: TypedArray.from with a map function is slow). */
export function unitFloats(values: Uint8Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! / 255;
  return out;
}

/**
 * Mean over the (2r+1)² window clipped to the image, of `channels` interleaved channels, by two
 * separable running-sum passes. Writes into `out` (may not alias `src`).
 */
export function boxMean(
  src: Float32Array,
  width: number,
  height: number,
  r: number,
  out: Float32Array = new Float32Array(src.length),
  channels = 1,
): Float32Array {
  const tmp = new Float32Array(src.length);
  const rowSums = new Float64Array(channels);
  // Horizontal: tmp = windowed sum / count along each row.
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    rowSums.fill(0);
    const first = Math.min(r, width - 1);
    for (let x = 0; x <= first; x++)
      for (let c = 0; c < channels; c++) rowSums[c]! += src[row + x * channels + c]!;
    for (let x = 0; x < width; x++) {
      const lo = Math.max(0, x - r);
      const hi = Math.min(width - 1, x + r);
      const inv = 1 / (hi - lo + 1);
      for (let c = 0; c < channels; c++) tmp[row + x * channels + c] = rowSums[c]! * inv;
      const add = x + r + 1;
      const drop = x - r;
      for (let c = 0; c < channels; c++) {
        if (add < width) rowSums[c]! += src[row + add * channels + c]!;
        if (drop >= 0) rowSums[c]! -= src[row + drop * channels + c]!;
      }
    }
  }
  // Vertical, column sums kept for the whole row at once (cache-friendly).
  const stride = width * channels;
  const colSums = new Float64Array(stride);
  const first = Math.min(r, height - 1);
  for (let y = 0; y <= first; y++) {
    const row = y * stride;
    for (let i = 0; i < stride; i++) colSums[i]! += tmp[row + i]!;
  }
  for (let y = 0; y < height; y++) {
    const lo = Math.max(0, y - r);
    const hi = Math.min(height - 1, y + r);
    const inv = 1 / (hi - lo + 1);
    const row = y * stride;
    for (let i = 0; i < stride; i++) out[row + i] = colSums[i]! * inv;
    const add = y + r + 1;
    const drop = y - r;
    if (add < height) {
      const a = add * stride;
      for (let i = 0; i < stride; i++) colSums[i]! += tmp[a + i]!;
    }
    if (drop >= 0) {
      const d = drop * stride;
      for (let i = 0; i < stride; i++) colSums[i]! -= tmp[d + i]!;
    }
  }
  return out;
}

export interface Components {
  /** 0 = not in the mask; 1..count = component. */
  labels: Int32Array;
  count: number;
}

/** 8-connected components of a mask (non-zero = in): two passes with union-find. */
export function connectedComponents(mask: Uint8Array, width: number, height: number): Components {
  const labels = new Int32Array(mask.length);
  const parent: number[] = [0];
  const find = (a: number): number => {
    let root = a;
    while (parent[root]! !== root) root = parent[root]!;
    while (parent[a]! !== root) {
      const next = parent[a]!;
      parent[a] = root;
      a = next;
    }
    return root;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return ra;
    const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra];
    parent[hi] = lo;
    return lo;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = row - width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (!mask[i]) continue;
      let label = x > 0 ? labels[i - 1]! : 0;
      if (y > 0) {
        const from = x > 0 ? x - 1 : x;
        const to = x < width - 1 ? x + 1 : x;
        for (let xx = from; xx <= to; xx++) {
          const l = labels[up + xx]!;
          if (!l || l === label) continue;
          label = label ? union(label, l) : l;
        }
      }
      if (!label) {
        label = parent.length;
        parent.push(label);
      }
      labels[i] = label;
    }
  }
  // Flatten to consecutive labels 1..count.
  const remap = new Int32Array(parent.length);
  let count = 0;
  for (let l = 1; l < parent.length; l++) {
    const root = find(l);
    if (root === l) remap[l] = ++count;
  }
  for (let l = 1; l < parent.length; l++) remap[l] = remap[find(l)]!;
  for (let i = 0; i < labels.length; i++) if (labels[i]) labels[i] = remap[labels[i]!]!;
  return { labels, count };
}

/**
 * Distance (chamfer 3-4, in pixels, ≈ Euclidean within 8%) from each in-mask pixel to the nearest
 * pixel outside the mask; outside pixels are 0. The image border counts as outside.
 */
export function distanceInside(mask: Uint8Array, width: number, height: number): Float32Array {
  const INF = 1e9;
  const d = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] ? INF : 0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : d[y * width + x]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (d[i] === 0) continue;
      d[i] = Math.min(d[i]!, at(x - 1, y) + 3, at(x, y - 1) + 3, at(x - 1, y - 1) + 4, at(x + 1, y - 1) + 4);
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      if (d[i] === 0) continue;
      d[i] = Math.min(d[i]!, at(x + 1, y) + 3, at(x, y + 1) + 3, at(x + 1, y + 1) + 4, at(x - 1, y + 1) + 4);
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = d[i]! / 3;
  return d;
}

/** Running maximum over a 1-D window of radius r (van Herk / Gil-Werman: 3 comparisons per value). */
function runningMax(line: Float32Array, r: number, out: Float32Array): void {
  const n = line.length;
  const w = 2 * r + 1;
  const g = new Float32Array(n);
  const h = new Float32Array(n);
  for (let start = 0; start < n; start += w) {
    const end = Math.min(n, start + w);
    g[start] = line[start]!;
    for (let i = start + 1; i < end; i++) g[i] = Math.max(g[i - 1]!, line[i]!);
    h[end - 1] = line[end - 1]!;
    for (let i = end - 2; i >= start; i--) h[i] = Math.max(h[i + 1]!, line[i]!);
  }
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - r);
    const hi = Math.min(n - 1, i + r);
    out[i] = Math.max(h[lo]!, g[hi]!);
  }
}

/** Maximum over the (2r+1)² window clipped to the image (grey dilation), separable. */
export function maxFilter(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const row = new Float32Array(width);
  for (let y = 0; y < height; y++) {
    runningMax(src.subarray(y * width, (y + 1) * width), r, row);
    tmp.set(row, y * width);
  }
  const col = new Float32Array(height);
  const colOut = new Float32Array(height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) col[y] = tmp[y * width + x]!;
    runningMax(col, r, colOut);
    for (let y = 0; y < height; y++) out[y * width + x] = colOut[y]!;
  }
  return out;
}

/** Max over `factor`×`factor` blocks (the last ones clipped): a coarse map that misses no peak. */
export function maxPool(src: Float32Array, width: number, height: number, factor: number) {
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const orow = ((y / factor) | 0) * w;
    for (let x = 0; x < width; x++) {
      const o = orow + ((x / factor) | 0);
      const v = src[row + x]!;
      if (v > out[o]!) out[o] = v;
    }
  }
  return { data: out, width: w, height: h };
}

/** Bilinear sample of a coarse map made with `factor` at full-resolution pixel (x, y). */
export function upsampleBilinear(
  coarse: Float32Array,
  cw: number,
  ch: number,
  factor: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(ch - 1, Math.max(0, (y + 0.5) / factor - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(ch - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(cw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(cw - 1, x0 + 1);
      const wx = fx - x0;
      const top = coarse[y0 * cw + x0]! * (1 - wx) + coarse[y0 * cw + x1]! * wx;
      const bottom = coarse[y1 * cw + x0]! * (1 - wx) + coarse[y1 * cw + x1]! * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/**
 * He et al.'s guided filter with a colour guide: `p` (one value per pixel) filtered so that its
 * edges follow the edges of `guide` (interleaved 8-bit RGB), over (2r+1)² windows with
 * regularisation `eps` (on [0, 1] colours). Each window fits p ≈ a·I + b by least squares; the
 * output averages the fits of every window over a pixel. With `factor` > 1 it is the fast guided
 * filter (He & Sun 2015): the fits are made on `factor`× smaller maps and sampled bilinearly,
 * then applied to the full-size guide, about factor² times less work for nearly the same result.
 */
export function guidedFilterColour(
  guide: Uint8Array,
  p: Float32Array,
  width: number,
  height: number,
  r: number,
  eps: number,
  factor = 1,
): Float32Array {
  const f = Math.max(1, Math.floor(factor));
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  // Block means of the guide (on [0, 1]) and of p at the working size.
  const I = new Float32Array(w * h * 3);
  const q = new Float32Array(w * h);
  const count = new Float32Array(w * h);
  for (let y = 0; y < height; y++) {
    const orow = ((y / f) | 0) * w;
    for (let x = 0; x < width; x++) {
      const o = orow + ((x / f) | 0);
      const i = y * width + x;
      I[o * 3]! += guide[i * 3]! / 255;
      I[o * 3 + 1]! += guide[i * 3 + 1]! / 255;
      I[o * 3 + 2]! += guide[i * 3 + 2]! / 255;
      q[o]! += p[i]!;
      count[o]!++;
    }
  }
  for (let o = 0; o < w * h; o++) {
    const k = 1 / count[o]!;
    I[o * 3]! *= k;
    I[o * 3 + 1]! *= k;
    I[o * 3 + 2]! *= k;
    q[o]! *= k;
  }
  const coef = guidedCoefficients(I, q, w, h, Math.max(1, Math.round(r / f)), eps);
  const out = new Float32Array(width * height);
  if (f === 1) {
    for (let i = 0; i < out.length; i++) {
      const c = i * 4;
      out[i] =
        coef[c]! * I[i * 3]! + coef[c + 1]! * I[i * 3 + 1]! + coef[c + 2]! * I[i * 3 + 2]! + coef[c + 3]!;
    }
    return out;
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(h - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) / f - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(w - 1, x0 + 1);
      const wx = fx - x0;
      const c00 = (y0 * w + x0) * 4;
      const c01 = (y0 * w + x1) * 4;
      const c10 = (y1 * w + x0) * 4;
      const c11 = (y1 * w + x1) * 4;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const i = y * width + x;
      let v = 0;
      for (let c = 0; c < 4; c++) {
        const k = coef[c00 + c]! * w00 + coef[c01 + c]! * w01 + coef[c10 + c]! * w10 + coef[c11 + c]! * w11;
        v += c < 3 ? k * (guide[i * 3 + c]! / 255) : k;
      }
      out[i] = v;
    }
  }
  return out;
}

/**
 * The guided filter's averaged coefficients (a_R, a_G, a_B, b per pixel, interleaved) for guide
 * `I` (interleaved RGB on [0, 1]) and input `p`: thirteen box means for the window statistics, a
 * 3×3 solve per window, four box means to average the fits.
 */
function guidedCoefficients(
  I: Float32Array,
  p: Float32Array,
  width: number,
  height: number,
  r: number,
  eps: number,
): Float32Array {
  const n = width * height;
  // Per pixel: I (3), p, I·p (3), I_i·I_j (6: rr rg rb gg gb bb).
  const stats = new Float32Array(n * 13);
  for (let i = 0; i < n; i++) {
    const R = I[i * 3]!;
    const G = I[i * 3 + 1]!;
    const B = I[i * 3 + 2]!;
    const v = p[i]!;
    const o = i * 13;
    stats[o] = R;
    stats[o + 1] = G;
    stats[o + 2] = B;
    stats[o + 3] = v;
    stats[o + 4] = R * v;
    stats[o + 5] = G * v;
    stats[o + 6] = B * v;
    stats[o + 7] = R * R;
    stats[o + 8] = R * G;
    stats[o + 9] = R * B;
    stats[o + 10] = G * G;
    stats[o + 11] = G * B;
    stats[o + 12] = B * B;
  }
  const mean = boxMean(stats, width, height, r, new Float32Array(stats.length), 13);
  const coef = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const o = i * 13;
    const mR = mean[o]!;
    const mG = mean[o + 1]!;
    const mB = mean[o + 2]!;
    const mp = mean[o + 3]!;
    const cR = mean[o + 4]! - mR * mp;
    const cG = mean[o + 5]! - mG * mp;
    const cB = mean[o + 6]! - mB * mp;
    const s00 = mean[o + 7]! - mR * mR + eps;
    const s01 = mean[o + 8]! - mR * mG;
    const s02 = mean[o + 9]! - mR * mB;
    const s11 = mean[o + 10]! - mG * mG + eps;
    const s12 = mean[o + 11]! - mG * mB;
    const s22 = mean[o + 12]! - mB * mB + eps;
    // Symmetric 3×3 inverse by cofactors.
    const i00 = s11 * s22 - s12 * s12;
    const i01 = s02 * s12 - s01 * s22;
    const i02 = s01 * s12 - s02 * s11;
    const i11 = s00 * s22 - s02 * s02;
    const i12 = s01 * s02 - s00 * s12;
    const i22 = s00 * s11 - s01 * s01;
    const det = s00 * i00 + s01 * i01 + s02 * i02;
    const inv = det > 1e-12 ? 1 / det : 0;
    const aR = (i00 * cR + i01 * cG + i02 * cB) * inv;
    const aG = (i01 * cR + i11 * cG + i12 * cB) * inv;
    const aB = (i02 * cR + i12 * cG + i22 * cB) * inv;
    const c = i * 4;
    coef[c] = aR;
    coef[c + 1] = aG;
    coef[c + 2] = aB;
    coef[c + 3] = mp - aR * mR - aG * mG - aB * mB;
  }
  return boxMean(coef, width, height, r, new Float32Array(coef.length), 4);
}
