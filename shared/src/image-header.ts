import { AppError } from './errors';
import { ACCEPTED_TYPES_TEXT, sniffImageType } from './image-type';
import type { AcceptedImageType } from './protocol';

/** Width and height as stored in the file (before any EXIF rotation; the pixel count is the same). */
export interface ImageSize {
  width: number;
  height: number;
}

export type ImageSizeResult = ({ ok: true } & ImageSize) | { ok: false; reason: string };

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, end));

const fail = (reason: string): ImageSizeResult => ({ ok: false, reason });
const sized = (width: number, height: number, what: string): ImageSizeResult =>
  width > 0 && height > 0 ? { ok: true, width, height } : fail(`${what} declares a zero dimension`);

/** JPEG: walk the marker segments up to the first start-of-frame (SOF0..SOF15 minus DHT/JPG/DAC). */
function jpegSize(b: Uint8Array): ImageSizeResult {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return fail('JPEG marker expected');
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return fail('JPEG has no frame header before its scan data');
    const length = u16be(b, i + 2);
    if (length < 2) return fail('JPEG segment length is invalid');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) break;
      return sized(u16be(b, i + 7), u16be(b, i + 5), 'JPEG frame header');
    }
    i += 2 + length;
  }
  return fail('JPEG is truncated before its frame header');
}

function pngSize(b: Uint8Array): ImageSizeResult {
  if (b.length < 24 || ascii(b, 12, 16) !== 'IHDR') return fail('PNG is truncated or has no IHDR chunk');
  return sized(u32be(b, 16), u32be(b, 20), 'PNG IHDR');
}

/** WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, canvas size). */
function webpSize(b: Uint8Array): ImageSizeResult {
  if (b.length < 30) return fail('WebP is truncated');
  const chunk = ascii(b, 12, 16);
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return fail('WebP VP8 start code missing');
    return sized(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff, 'WebP VP8 frame');
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return fail('WebP VP8L signature missing');
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, 'WebP VP8L header');
  }
  if (chunk === 'VP8X') return sized(u24le(b, 24) + 1, u24le(b, 27) + 1, 'WebP VP8X canvas');
  return fail(`WebP starts with an unknown chunk "${chunk.trim()}"`);
}

/**
 * AVIF (ISO-BMFF): meta > iprp > ipco > ispe. Every `ispe` is read and the largest area wins, so a
 * grid image (whose primary item is bigger than its tiles) is never under-counted.
 */
function avifSize(b: Uint8Array): ImageSizeResult {
  let best: ImageSize | undefined;
  const walk = (start: number, end: number, depth: number): void => {
    let i = start;
    while (i + 8 <= end && depth < 6) {
      let size = u32be(b, i);
      const type = ascii(b, i + 4, i + 8);
      let header = 8;
      if (size === 1) {
        if (i + 16 > end) return;
        size = u32be(b, i + 8) * 2 ** 32 + u32be(b, i + 12);
        header = 16;
      } else if (size === 0) size = end - i;
      if (size < header) return;
      const boxEnd = Math.min(i + size, end);
      if (type === 'meta')
        walk(i + header + 4, boxEnd, depth + 1); // full box: skip version+flags
      else if (type === 'iprp' || type === 'ipco') walk(i + header, boxEnd, depth + 1);
      else if (type === 'ispe' && i + header + 12 <= boxEnd) {
        const width = u32be(b, i + header + 4);
        const height = u32be(b, i + header + 8);
        if (!best || width * height > best.width * best.height) best = { width, height };
      }
      i += size;
    }
  };
  walk(0, b.length, 0);
  return best ? sized(best.width, best.height, 'AVIF ispe') : fail('AVIF has no image size (ispe) property');
}

/** Reads width and height from the header of an already sniffed image, without decoding it. */
export function readImageSize(bytes: Uint8Array, type: AcceptedImageType): ImageSizeResult {
  switch (type) {
    case 'jpeg':
      return jpegSize(bytes);
    case 'png':
      return pngSize(bytes);
    case 'webp':
      return webpSize(bytes);
    case 'avif':
      return avifSize(bytes);
  }
}

export interface CheckedImage extends ImageSize {
  type: AcceptedImageType;
  mime: string;
}

/** 422 image_too_large, with the limit and what the header says (both tiers use this one). */
export function imageTooLarge(width: number, height: number, maxPixels: number, type?: string): AppError {
  const pixels = width * height;
  return new AppError(
    'image_too_large',
    `the image is ${width}×${height} = ${pixels} pixels; the limit is ${maxPixels}`,
    { extensions: { limit_pixels: maxPixels, seen: { width, height, pixels, ...(type ? { type } : {}) } } },
  );
}

/**
 * The one check both tiers run before any work, so the same bytes get the same answer at the edge
 * and at the backend: type from magic bytes (415 `unsupported_media_type`), width and height from
 * the header (422 `invalid_image` when it cannot be read), and the pixel limit (422
 * `image_too_large`). Nothing is decoded. Throws an AppError; never anything else.
 */
export function checkImageHeader(bytes: Uint8Array, maxPixels: number): CheckedImage {
  const sniffed = sniffImageType(bytes);
  if (!sniffed.accepted) {
    throw new AppError(
      'unsupported_media_type',
      `expected ${ACCEPTED_TYPES_TEXT}; the upload is ${sniffed.seen}`,
      {
        extensions: { seen: { bytes: bytes.byteLength, type: sniffed.type } },
      },
    );
  }
  const size = readImageSize(bytes, sniffed.type);
  if (!size.ok) {
    throw new AppError(
      'invalid_image',
      `the ${sniffed.type.toUpperCase()} image is invalid: ${size.reason}`,
      {
        extensions: { seen: { bytes: bytes.byteLength, type: sniffed.type } },
      },
    );
  }
  const pixels = size.width * size.height;
  if (pixels > maxPixels) {
    throw imageTooLarge(size.width, size.height, maxPixels, sniffed.type);
  }
  return { type: sniffed.type, mime: sniffed.mime, width: size.width, height: size.height };
}
