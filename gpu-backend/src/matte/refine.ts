/**
 * Matte refinement at the model's resolution (docs/QUALITY.md has the why and the figures).
 *
 * IS-Net's in-between values inside a subject are the model's doubt, not transparency: a whole
 * petal or a troll's hair comes back at 0.3 with a sharp edge to the background. Real softness
 * (hair, fur) is a gradual fall-off next to higher values. So each value is read against its
 * neighbourhood: the map is divided by a local envelope (a max filter, smoothed, never below a
 * floor), which lifts uniformly doubted regions to solid while a fall-off keeps its shape; values
 * under a low threshold are background. Then only regions that hold a confident seed are kept
 * (hysteresis), and with `subject=main` only the main subject, so ghosts and detached blobs go.
 */
import {
  boxMean,
  connectedComponents,
  guidedFilterColour,
  maxFilter,
  maxPool,
  upsampleBilinear,
} from './image-ops';

/** The envelope is smooth: it is computed on a map this many times coarser. */
const ENVELOPE_FACTOR = 4;

export interface RefineParams {
  /** Values at or under this (of the envelope-normalised map) are background. */
  low: number;
  /** Values under this share of the envelope are background too (halos next to solid parts). */
  lowRelative: number;
  /** The envelope is never below this, so faint stains are not lifted to solid. */
  floor: number;
  /** Share of the envelope that already counts as opaque. */
  knee: number;
  /** Envelope max-filter radius, as a share of the longer side. */
  envelopeRadius: number;
  /** A kept region must reach this raw value somewhere. */
  seed: number;
  /** subject=main keeps other regions whose mass is at least this share of the main one's. */
  companion: number;
  /** Regions smaller than this share of the image are specks, dropped. */
  speck: number;
  /** Guided filter (photo as guide) window radius, as a share of the longer side; 0: off. */
  guideRadius: number;
  /** Guided filter regularisation (colours on [0, 1]): smaller follows the photo's edges more closely. */
  guideEps: number;
  /** After the guided filter, values under `guideLow` are background and over `guideHigh` opaque. */
  guideLow: number;
  guideHigh: number;
  /** The guided filter's fits are made on a map this many times smaller (the fast guided filter). */
  guideFactor: number;
}

export const DEFAULT_REFINE_PARAMS: RefineParams = {
  low: 0.06,
  lowRelative: 0.35,
  floor: 0.25,
  knee: 0.6,
  envelopeRadius: 0.015,
  seed: 0.6,
  companion: 0.5,
  speck: 0.0005,
  guideRadius: 0.006,
  guideEps: 1e-4,
  guideLow: 0.2,
  guideHigh: 0.8,
  guideFactor: 4,
};

export interface RefineRequest {
  matte: Uint8Array;
  width: number;
  height: number;
  refine: 'auto' | 'none';
  subject: 'main' | 'all';
  /** The photo at the matte's size (interleaved 8-bit RGB): the guide that snaps edges to the photo's. */
  rgb?: Uint8Array | undefined;
  /** Only this rectangle (model pixels, [x1, x2) × [y1, y2)) may be foreground. */
  roi?: { x1: number; y1: number; x2: number; y2: number } | undefined;
  params?: Partial<RefineParams>;
}

export interface RefineResult {
  matte: Uint8Array;
  /** The kept subject's bounding box in model pixels, or undefined when nothing is kept. */
  box: { x1: number; y1: number; x2: number; y2: number } | undefined;
  /** 0..1: how clearly the map shows one subject (docs/QUALITY.md). */
  confidence: number;
  /**
   * The guided map before the decision ramp (refined only): soft wherever the photo mixes subject
   * and background, so the colour step unmixes those pixels even where the matte is decided.
   */
  soft?: Uint8Array | undefined;
}

export function refineMatte(request: RefineRequest): RefineResult {
  const { width, height } = request;
  const p = { ...DEFAULT_REFINE_PARAMS, ...request.params };
  const n = width * height;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = request.matte[i]! / 255;
  if (request.roi) {
    const { x1, y1, x2, y2 } = request.roi;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) if (y < y1 || y >= y2 || x < x1 || x >= x2) m[y * width + x] = 0;
    }
  }

  let alpha: Float32Array;
  if (request.refine === 'auto') {
    const f = ENVELOPE_FACTOR;
    const r = Math.max(1, Math.round((p.envelopeRadius * Math.max(width, height)) / f));
    const coarse = maxPool(m, width, height, f);
    const smooth = boxMean(
      maxFilter(coarse.data, coarse.width, coarse.height, r),
      coarse.width,
      coarse.height,
      r,
    );
    const envelope = upsampleBilinear(smooth, coarse.width, coarse.height, f, width, height);
    alpha = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const envelopeTop = Math.max(envelope[i]!, p.floor);
      const top = envelopeTop * p.knee;
      const low = Math.max(p.low, p.lowRelative * envelopeTop);
      const v = (m[i]! - low) / Math.max(top - low, 1e-3);
      alpha[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
  } else {
    alpha = m;
  }

  // Regions: what is left above zero, 8-connected.
  const inMask = new Uint8Array(n);
  // With refine=none the regions are where the raw map is above the low threshold.
  const cut = request.refine === 'auto' ? 0 : p.low;
  for (let i = 0; i < n; i++) inMask[i] = alpha[i]! > cut ? 1 : 0;
  // refine=none with subject=all is the raw map itself (the roi aside): nothing is dropped.
  const everything = request.refine === 'none' && request.subject === 'all';
  const { labels, count } = connectedComponents(inMask, width, height);
  const mass = new Float64Array(count + 1);
  const area = new Float64Array(count + 1);
  const peak = new Float32Array(count + 1);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!l) continue;
    mass[l]! += alpha[i]!;
    area[l]!++;
    if (m[i]! > peak[l]!) peak[l] = m[i]!;
  }
  const keep = new Uint8Array(count + 1);
  let main = 0;
  for (let l = 1; l <= count; l++) if (peak[l]! >= p.seed && (main === 0 || mass[l]! > mass[main]!)) main = l;
  let totalMass = 0;
  for (let l = 1; l <= count; l++) totalMass += mass[l]!;
  for (let l = 1; l <= count; l++) {
    if (everything) keep[l] = 1;
    else if (request.subject === 'all') keep[l] = peak[l]! >= p.seed && area[l]! >= p.speck * n ? 1 : 0;
    else keep[l] = l === main || (peak[l]! >= p.seed && mass[l]! >= p.companion * mass[main]!) ? 1 : 0;
  }

  // The kept regions' alpha; then, refined, their edges snapped to the photo's (guided filter)
  // and pushed to decisions (a ramp from guideLow to guideHigh), the roi applied again.
  let kept: Float32Array = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (everything || (l && keep[l])) kept[i] = alpha[i]!;
  }
  let soft: Uint8Array | undefined;
  if (request.refine === 'auto' && request.rgb && p.guideRadius > 0) {
    const r = Math.max(1, Math.round(p.guideRadius * Math.max(width, height)));
    const guided = guidedFilterColour(request.rgb, kept, width, height, r, p.guideEps, p.guideFactor);
    const span = Math.max(p.guideHigh - p.guideLow, 1e-3);
    soft = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const g = guided[i]!;
      soft[i] = Math.round((g <= 0 ? 0 : g >= 1 ? 1 : g) * 255);
      const v = (g - p.guideLow) / span;
      guided[i] = v <= 0 ? 0 : v >= 1 ? 1 : v;
    }
    if (request.roi) {
      const { x1: rx1, y1: ry1, x2: rx2, y2: ry2 } = request.roi;
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          if (y < ry1 || y >= ry2 || x < rx1 || x >= rx2) guided[y * width + x] = 0;
    }
    kept = guided;
  }

  const out = new Uint8Array(n);
  let x1 = width;
  let y1 = height;
  let x2 = 0;
  let y2 = 0;
  let keptMass = 0;
  let decided = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const a = kept[i]!;
      const v = Math.round(a * 255);
      out[i] = v;
      if (v === 0) continue;
      if (x < x1) x1 = x;
      if (x >= x2) x2 = x + 1;
      if (y < y1) y1 = y;
      if (y >= y2) y2 = y + 1;
      keptMass += a;
      if (m[i]! >= 0.9) decided += a;
    }
  }
  const box = x2 > x1 ? { x1, y1, x2, y2 } : undefined;
  // Confidence: the kept subject's share of everything the model marked, times the share of it
  // the model was sure of, times a size factor (under 0.5% of the image, or nearly all of it,
  // is not a clear subject).
  let confidence = 0;
  if (box && main) {
    const share = totalMass > 0 ? Math.min(1, keptMass / totalMass) : 0;
    const sure = keptMass > 0 ? decided / keptMass : 0;
    const coverage = keptMass / n;
    const size =
      coverage < 0.005 ? coverage / 0.005 : coverage > 0.95 ? Math.max(0, (1 - coverage) / 0.05) : 1;
    confidence = share * Math.sqrt(sure) * size;
  }
  return { matte: out, soft, box, confidence: Math.round(confidence * 1000) / 1000 };
}
