/**
 * The region of interest (`roi=x1,y1,x2,y2`): only what lies inside it can be foreground. Each
 * coordinate is in pixels of the oriented source image (`120` or `120px`) or a percentage of its
 * width or height (`25%`); commas or spaces separate them. x1,y1 is the top-left corner, x2,y2
 * the bottom-right one (exclusive).
 */

export interface RoiCoordinate {
  value: number;
  unit: 'px' | '%';
}

export interface Roi {
  x1: RoiCoordinate;
  y1: RoiCoordinate;
  x2: RoiCoordinate;
  y2: RoiCoordinate;
}

/** A rectangle in pixels: [x1, x2) × [y1, y2). */
export interface PixelRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Pixel coordinates above this are refused (no accepted image is that large on a side). */
export const ROI_MAX_PIXELS = 1_000_000;

const COORDINATE = /^(\d+(?:\.\d+)?)(px|%)?$/;

/** Parses a roi string, or returns why it is not one. */
export function parseRoi(text: string): Roi | string {
  const parts = text.trim().split(/[\s,]+/);
  if (parts.length !== 4) return `expected four coordinates "x1,y1,x2,y2", got ${parts.length}`;
  const coordinates: RoiCoordinate[] = [];
  for (const part of parts) {
    const match = COORDINATE.exec(part.toLowerCase());
    if (!match) return `"${part}" is not a pixel count (120, 120px) or a percentage (25%)`;
    const value = Number(match[1]);
    const unit = match[2] === '%' ? '%' : 'px';
    if (unit === '%' && value > 100) return `"${part}" is over 100%`;
    if (unit === 'px' && (!Number.isInteger(value) || value > ROI_MAX_PIXELS))
      return `"${part}" must be a whole number of pixels up to ${ROI_MAX_PIXELS}`;
    coordinates.push({ value, unit });
  }
  const [x1, y1, x2, y2] = coordinates as [RoiCoordinate, RoiCoordinate, RoiCoordinate, RoiCoordinate];
  if (x1.unit === x2.unit && x1.value >= x2.value) return 'x1 must be less than x2';
  if (y1.unit === y2.unit && y1.value >= y2.value) return 'y1 must be less than y2';
  return { x1, y1, x2, y2 };
}

/** The canonical text of a roi (what goes into the result key): `10%,0px,100%,480px`. */
export function formatRoi(roi: Roi): string {
  return [roi.x1, roi.y1, roi.x2, roi.y2].map((c) => `${c.value}${c.unit}`).join(',');
}

/**
 * The roi in pixels of an image of this size, clamped to it (percentages rounded outwards), or
 * undefined when nothing of the image is left inside it.
 */
export function roiPixels(roi: Roi, width: number, height: number): PixelRect | undefined {
  const at = (c: RoiCoordinate, size: number, round: (n: number) => number) =>
    Math.min(size, Math.max(0, c.unit === 'px' ? c.value : round((c.value / 100) * size)));
  const rect = {
    x1: at(roi.x1, width, Math.floor),
    y1: at(roi.y1, height, Math.floor),
    x2: at(roi.x2, width, Math.ceil),
    y2: at(roi.y2, height, Math.ceil),
  };
  return rect.x1 < rect.x2 && rect.y1 < rect.y2 ? rect : undefined;
}
