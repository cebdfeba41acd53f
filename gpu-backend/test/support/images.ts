/** Named image fixtures, made here with sharp (no binary fixtures in git), plus the kit's real photos. */
import { crc32, deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';

export const KIT = new URL('../../../../shared/', import.meta.url).pathname;
export const REMBG_FIXTURES = `${KIT}eval/rembg-fixtures/`;

export const photo = (name: 'car-1' | 'anime-girl-1' | 'cloth-1' | 'plants-1'): Buffer =>
  readFileSync(`${REMBG_FIXTURES}fixtures/${name}.jpg`);

export const reference = (name: string, model = 'isnet-general-use'): string =>
  `${REMBG_FIXTURES}results/${name}.${model}.png`;

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG header declaring width×height, with a token IDAT: a decompression bomb's shape. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The start of an HEIC file: an ftyp box with the heic brand. */
export const HEIC_HEADER = Buffer.concat([
  Buffer.from([0, 0, 0, 24]),
  Buffer.from('ftypheic', 'ascii'),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from('mif1heic', 'ascii'),
  Buffer.alloc(64),
]);

export const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
);

const base = () => sharp(photo('car-1'));

export const fixtures = {
  jpeg: () => base().jpeg().toBuffer(),
  truncatedJpeg: async () => {
    const full = await base().jpeg({ quality: 90 }).toBuffer();
    return full.subarray(0, Math.floor(full.length / 2));
  },
  cmykJpeg: () => base().toColourspace('cmyk').jpeg().toBuffer(),
  grayscaleJpeg: () => base().grayscale().jpeg().toBuffer(),
  png16: () => base().toColourspace('rgb16').png().toBuffer(),
  pngWithAlpha: () => base().ensureAlpha(0.5).png().toBuffer(),
  webp: () => base().webp().toBuffer(),
  avif: () => base().resize(240).avif({ effort: 0 }).toBuffer(),
  gif: () => base().resize(64).gif().toBuffer(),
  onePixel: () =>
    sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  /** Stored 480×360 with EXIF orientation 6 (rotate 90° clockwise to view): shown 360×480. */
  exifRotated: () => base().withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  /** A 4032×3024 (12 MP) JPEG made from a real photo. */
  twelveMegapixel: () => base().resize(4032, 3024, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer(),
};
