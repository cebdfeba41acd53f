import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { parseServerTiming, requestIdFrom, serverTiming } from './http';

describe('request ids', () => {
  it('keeps a sane caller id and replaces anything else', () => {
    expect(requestIdFrom('req-1.a:b_c')).toBe('req-1.a:b_c');
    for (const bad of [undefined, null, '', 'has space', 'x'.repeat(129), 'semi;colon']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('Server-Timing', () => {
  it('formats named durations to 0.1 ms, leaving out unknown ones', () => {
    expect(serverTiming({ edge: 18, backend: 1229.46, inference: undefined, bad: Number.NaN })).toBe(
      'edge;dur=18, backend;dur=1229.5',
    );
  });

  it("parses what it formats, and other servers' headers", () => {
    expect(parseServerTiming(serverTiming({ decode: 12.3, total: 2250 }))).toEqual({
      decode: 12.3,
      total: 2250,
    });
    expect(parseServerTiming('cache;desc="hit", db;dur=53;desc="x",  app;dur=47.2')).toEqual({
      db: 53,
      app: 47.2,
    });
    expect(parseServerTiming(null)).toEqual({});
    expect(parseServerTiming('inference;dur=abc')).toEqual({});
  });
});

describe('problem+json', () => {
  it('renders an AppError once for both services: body, no-store, Retry-After, X-Request-Id', async () => {
    const response = new AppError('overloaded', 'busy', { retryAfterSeconds: 5 }).toResponse('r-1');
    expect(response.status).toBe(503);
    expect(Object.fromEntries(response.headers)).toEqual({
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'retry-after': '5',
      'x-request-id': 'r-1',
    });
    expect(await response.json()).toEqual({
      type: 'urn:bgremove:problem:overloaded',
      title: 'Overloaded',
      status: 503,
      detail: 'busy',
      code: 'overloaded',
      request_id: 'r-1',
    });
  });
});
