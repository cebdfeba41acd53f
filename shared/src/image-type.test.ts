import { describe, expect, it } from 'vitest';
import { sniffImageType } from './image-type';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

const ftyp = (major: string, ...compatible: string[]) =>
  bytes([0, 0, 0, 16 + 4 * compatible.length], 'ftyp', major, [0, 0, 0, 0], ...compatible);

describe('sniffImageType', () => {
  it.each([
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['png', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a])],
    ['webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')],
    ['avif', ftyp('avif', 'mif1', 'miaf')],
    ['avif', ftyp('mif1', 'avif')],
  ])('accepts %s', (type, data) => {
    expect(sniffImageType(data)).toMatchObject({ accepted: true, type });
  });

  it.each([
    ['HEIC/HEIF', 'heic', ftyp('heic', 'mif1')],
    ['GIF', 'gif', bytes('GIF89a')],
    ['SVG', 'svg', bytes('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['SVG', 'svg', bytes('  <svg/>')],
    ['BMP', 'bmp', bytes('BM', [0, 0])],
    ['PDF', 'pdf', bytes('%PDF-1.7')],
    ['TIFF', 'tiff', bytes([0x49, 0x49, 0x2a, 0])],
    ['text', 'text', bytes('hello, world\n')],
    ['an empty body', 'empty', bytes()],
    ['unrecognised binary data', 'unknown', bytes([1, 2, 3, 0, 255])],
  ])('names %s (%s) and refuses it', (seen, type, data) => {
    expect(sniffImageType(data)).toEqual({ accepted: false, seen, type });
  });
});
