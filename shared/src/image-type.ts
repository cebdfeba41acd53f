import type { AcceptedImageType } from './protocol';

/** What a refused upload is, as a stable token for clients (`seen.type` in the problem body). */
export type RefusedImageType =
  | 'empty'
  | 'heic'
  | 'video'
  | 'isobmff'
  | 'gif'
  | 'bmp'
  | 'pdf'
  | 'tiff'
  | 'ico'
  | 'jxl'
  | 'zip'
  | 'svg'
  | 'markup'
  | 'text'
  | 'unknown';

export type SniffResult =
  | { accepted: true; type: AcceptedImageType; mime: string }
  /** `seen` names it for people, `type` for programs. */
  | { accepted: false; seen: string; type: RefusedImageType };

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, end));

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

/** ISO-BMFF brands (ftyp box): AVIF is accepted, HEIC and friends are named and refused. */
function sniffIsoBmff(bytes: Uint8Array): SniffResult | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = Math.min(
    ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0,
    64,
    bytes.length,
  );
  const brands = [ascii(bytes, 8, 12)];
  for (let i = 16; i + 4 <= boxSize; i += 4) brands.push(ascii(bytes, i, i + 4));
  if (brands.includes('avif') || brands.includes('avis'))
    return { accepted: true, type: 'avif', mime: 'image/avif' };
  if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(b))) {
    return { accepted: false, seen: 'HEIC/HEIF', type: 'heic' };
  }
  if (brands.some((b) => ['isom', 'mp41', 'mp42', 'M4V ', 'qt  '].includes(b)))
    return { accepted: false, seen: 'MP4/QuickTime video', type: 'video' };
  return { accepted: false, seen: `ISO-BMFF (${brands[0]!.trim()})`, type: 'isobmff' };
}

/**
 * Identify an upload by its magic bytes, never by Content-Type. Accepted: JPEG, PNG, WebP, AVIF;
 * anything else is named in `seen` so the error can say what was sent.
 */
export function sniffImageType(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return { accepted: false, seen: 'an empty body', type: 'empty' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { accepted: true, type: 'jpeg', mime: 'image/jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { accepted: true, type: 'png', mime: 'image/png' };
  }
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') {
    return { accepted: true, type: 'webp', mime: 'image/webp' };
  }
  const bmff = sniffIsoBmff(bytes);
  if (bmff) return bmff;
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')
    return { accepted: false, seen: 'GIF', type: 'gif' };
  if (ascii(bytes, 0, 2) === 'BM') return { accepted: false, seen: 'BMP', type: 'bmp' };
  if (ascii(bytes, 0, 5) === '%PDF-') return { accepted: false, seen: 'PDF', type: 'pdf' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { accepted: false, seen: 'TIFF', type: 'tiff' };
  }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { accepted: false, seen: 'ICO', type: 'ico' };
  if (
    startsWith(bytes, [0xff, 0x0a]) ||
    startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])
  ) {
    return { accepted: false, seen: 'JPEG XL', type: 'jxl' };
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return { accepted: false, seen: 'ZIP', type: 'zip' };
  const head = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false })
    .decode(bytes.subarray(0, 512))
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')))
    return { accepted: false, seen: 'SVG', type: 'svg' };
  if (head.startsWith('<')) return { accepted: false, seen: 'HTML/XML text', type: 'markup' };
  const isPrintable = (b: number) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e);
  if (bytes.subarray(0, 64).every(isPrintable)) {
    return { accepted: false, seen: 'text', type: 'text' };
  }
  return { accepted: false, seen: 'unrecognised binary data', type: 'unknown' };
}

export const ACCEPTED_TYPES_TEXT = 'JPEG, PNG, WebP or AVIF';
