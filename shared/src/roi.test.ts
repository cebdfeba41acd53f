import { describe, expect, it } from 'vitest';
import { formatRoi, parseRoi, roiPixels, type Roi } from './roi';

const parsed = (text: string): Roi => {
  const roi = parseRoi(text);
  if (typeof roi === 'string') throw new Error(roi);
  return roi;
};

describe('roi', () => {
  it('parses pixels and percentages, with commas or spaces, to a canonical text', () => {
    expect(formatRoi(parsed('10,20,300,400'))).toBe('10px,20px,300px,400px');
    expect(formatRoi(parsed('0% 0% 100% 100%'))).toBe('0%,0%,100%,100%');
    expect(formatRoi(parsed('5px, 12.50%, 640PX, 99.5%'))).toBe('5px,12.5%,640px,99.5%');
  });

  it('refuses malformed, out-of-range and empty regions with a reason', () => {
    for (const [text, reason] of [
      ['1,2,3', /four coordinates/],
      ['a,0,10,10', /"a" is not/],
      ['-1,0,10,10', /not a pixel count/],
      ['0,0,101%,10', /over 100%/],
      ['0.5,0,10,10', /whole number/],
      ['10,0,10,20', /x1 must be less than x2/],
      ['0,50%,10,20%', /y1 must be less than y2/],
    ] as const) {
      const roi = parseRoi(text);
      expect(typeof roi, text).toBe('string');
      expect(roi as string).toMatch(reason);
    }
  });

  it('resolves to pixels of a given image, clamped, percentages rounded outwards', () => {
    expect(roiPixels(parsed('10,20,300,400'), 200, 100)).toEqual({ x1: 10, y1: 20, x2: 200, y2: 100 });
    expect(roiPixels(parsed('25%,0%,50.1%,100%'), 101, 10)).toEqual({ x1: 25, y1: 0, x2: 51, y2: 10 });
    expect(roiPixels(parsed('300,0,400,10'), 200, 100)).toBeUndefined();
    expect(roiPixels(parsed('50%,0,10px,10'), 100, 100)).toBeUndefined();
  });
});
