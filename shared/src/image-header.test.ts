import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImageSize } from './image-header';
import { sniffImageType } from './image-type';

/** Real files made by sharp from one photo (edge/test/fixtures/generate.ts), 96×64 each. */
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../edge/test/fixtures/${name}`, import.meta.url)));

const sizeOf = (bytes: Uint8Array) => {
  const sniffed = sniffImageType(bytes);
  if (!sniffed.accepted) throw new Error(`fixture not accepted: ${sniffed.seen}`);
  return readImageSize(bytes, sniffed.type);
};

describe('readImageSize', () => {
  it.each([
    'photo-96x64.jpg',
    'photo-96x64-exif-rotated.jpg',
    'photo-96x64.png',
    'photo-96x64-lossy.webp',
    'photo-96x64-lossless.webp',
    'photo-96x64-alpha.webp',
    'photo-96x64.avif',
  ])('reads 96×64 from %s', (name) => {
    expect(sizeOf(fixture(name))).toEqual({ ok: true, width: 96, height: 64 });
  });

  it('reads large sizes from patched headers', () => {
    const png = fixture('photo-96x64.png');
    new DataView(png.buffer, png.byteOffset).setUint32(16, 20_000);
    new DataView(png.buffer, png.byteOffset).setUint32(20, 15_000);
    expect(sizeOf(png)).toEqual({ ok: true, width: 20_000, height: 15_000 });
  });

  it.each([
    ['photo-96x64.jpg', 20, /truncated before its frame header/],
    ['photo-96x64.png', 16, /truncated|IHDR/],
    ['photo-96x64-lossy.webp', 24, /truncated/],
    ['photo-96x64.avif', 0xb0, /no image size/],
  ])('refuses %s cut to %i bytes', (name, length, reason) => {
    const result = sizeOf(fixture(name).subarray(0, length));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('refuses a JPEG whose scan starts before any frame header', () => {
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]);
    expect(readImageSize(bytes, 'jpeg')).toEqual({
      ok: false,
      reason: 'JPEG has no frame header before its scan data',
    });
  });

  it('refuses a zero width', () => {
    const png = fixture('photo-96x64.png');
    new DataView(png.buffer, png.byteOffset).setUint32(16, 0);
    expect(sizeOf(png)).toEqual({ ok: false, reason: 'PNG IHDR declares a zero dimension' });
  });
});
