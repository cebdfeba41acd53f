import { describe, expect, it } from 'vitest';
import { AppError, declaredLength, payloadTooLarge, problemExtensionsFrom } from './errors';
import { imageTooLarge } from './image-header';

describe('problem extension members', () => {
  it('are sent after the standard members and never replace them', () => {
    const problem = payloadTooLarge('the upload', 1000, 2500).toProblem('req-1');
    expect(problem).toEqual({
      type: 'urn:bgremove:problem:payload_too_large',
      title: 'Payload too large',
      status: 413,
      detail: 'the upload is larger than the limit of 1000 bytes',
      code: 'payload_too_large',
      request_id: 'req-1',
      limit_bytes: 1000,
      seen: { bytes: 2500 },
    });
    expect(payloadTooLarge('the body', 1000).toProblem('r')).not.toHaveProperty('seen');
    expect(new AppError('internal', 'x').toProblem('r')).not.toHaveProperty('limit_bytes');
  });

  it('image_too_large names the limit and the size', () => {
    expect(imageTooLarge(8000, 7000, 50_000_000, 'jpeg').toProblem('r')).toMatchObject({
      limit_pixels: 50_000_000,
      seen: { width: 8000, height: 7000, pixels: 56_000_000, type: 'jpeg' },
    });
  });

  it('read from elsewhere: the known members only, and only when well-formed', () => {
    expect(
      problemExtensionsFrom({
        code: 'image_too_large',
        limit_pixels: 100,
        limit_bytes: -1,
        seen: { width: 20, height: 10.5, pixels: '200', type: 'PNG <b>', extra: 1 },
        other: 'dropped',
      }),
    ).toEqual({ limit_pixels: 100, seen: { width: 20 } });
    expect(problemExtensionsFrom({ seen: { type: 'heic', bytes: 12 } })).toEqual({
      seen: { type: 'heic', bytes: 12 },
    });
    expect(problemExtensionsFrom(null)).toEqual({});
    expect(problemExtensionsFrom('text')).toEqual({});
    expect(problemExtensionsFrom({ seen: null, limit_bytes: 1e300 })).toEqual({});
  });

  it('declaredLength reads a plain byte count only', () => {
    expect(declaredLength('1234')).toBe(1234);
    expect(declaredLength(' 5 ')).toBe(5);
    expect(declaredLength('12abc')).toBeUndefined();
    expect(declaredLength('-3')).toBeUndefined();
    expect(declaredLength(undefined)).toBeUndefined();
    expect(declaredLength(null)).toBeUndefined();
  });
});
