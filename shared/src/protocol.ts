/** Header names and limits that both halves agree on. */
export const HEADERS = {
  requestId: 'x-request-id',
  resultKey: 'x-result-key',
  cache: 'x-cache',
  sourceSha256: 'x-source-sha256',
  model: 'x-model',
  modelSha256: 'x-model-sha256',
  signature: 'x-signature',
  serverTiming: 'server-timing',
  imageWidth: 'x-image-width',
  imageHeight: 'x-image-height',
  /**
   * Edge → backend: milliseconds the caller will still wait for this answer. The backend refuses
   * (503 overloaded, Retry-After) work it cannot finish in that time, rather than do it for nobody.
   */
  timeLeft: 'x-time-left-ms',
  /** Backend → edge: the subject's box in the result, `left,top,width,height`, or `none`. */
  foregroundBox: 'x-foreground-box',
  /** 0..1 (three decimals): how clearly the photo shows one subject; under 0.5 is "no clear subject". */
  subjectConfidence: 'x-subject-confidence',
} as const;

/** Under this X-Subject-Confidence a photo has no clear subject (the page says so). */
export const CLEAR_SUBJECT_CONFIDENCE = 0.5;

/** Bumped whenever pre- or post-processing changes the output bytes; part of every result key. */
export const PIPELINE_VERSION = '2';

export const MAX_SIDE_MIN = 64;
export const MAX_SIDE_MAX = 8192;

export const OUTPUT_KINDS = ['matte', 'cutout'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** auto: the model's map refined; none: the raw map (rembg's output). */
export const REFINE_MODES = ['auto', 'none'] as const;
export type RefineMode = (typeof REFINE_MODES)[number];

/** main: only the main subject; all: every region the model kept. */
export const SUBJECT_MODES = ['main', 'all'] as const;
export type SubjectMode = (typeof SUBJECT_MODES)[number];

/** zip: remove.bg's ZIP of color.jpg (the colours) and alpha.png (the alpha), for cutouts. */
export const OUTPUT_FORMATS = ['png', 'webp', 'jpg', 'zip'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const OUTPUT_CONTENT_TYPES: Record<OutputFormat, string> = {
  png: 'image/png',
  webp: 'image/webp',
  jpg: 'image/jpeg',
  zip: 'application/zip',
};

/** Accepted upload types, by what their magic bytes say. */
export const ACCEPTED_IMAGE_TYPES = ['jpeg', 'png', 'webp', 'avif'] as const;
export type AcceptedImageType = (typeof ACCEPTED_IMAGE_TYPES)[number];

export async function sha256Hex(data: Uint8Array | ArrayBuffer | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return toHex(new Uint8Array(digest));
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
