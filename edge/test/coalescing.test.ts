import { beforeEach, describe, expect, it } from 'vitest';
import { backend, bytesOf, upload, uniqueImage } from './helpers';

describe('coalescing through the Durable Object', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('N concurrent identical uploads cause one backend call and all get the result', async () => {
    await backend.setMode({ kind: 'ok', delayMs: 400 });
    const image = uniqueImage();
    const responses = await Promise.all(Array.from({ length: 8 }, () => upload(image)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const roles = responses.map((r) => r.headers.get('x-cache')).sort();
    expect(roles).toEqual([
      'COALESCED',
      'COALESCED',
      'COALESCED',
      'COALESCED',
      'COALESCED',
      'COALESCED',
      'COALESCED',
      'MISS',
    ]);
    const bodies = await Promise.all(responses.map(bytesOf));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(new Set(responses.map((r) => r.headers.get('x-result-key'))).size).toBe(1);
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });

  it('concurrent uploads with different options are not merged', async () => {
    await backend.setMode({ kind: 'ok', delayMs: 200 });
    const image = uniqueImage();
    const responses = await Promise.all([
      upload(image),
      upload(image, '?output=cutout'),
      upload(uniqueImage()),
    ]);
    expect(responses.map((r) => r.headers.get('x-cache'))).toEqual(['MISS', 'MISS', 'MISS']);
    expect(await backend.removeBackgroundCalls()).toBe(3);
  });

  it('a failure is shared by the waiters and not remembered', async () => {
    await backend.setMode({
      kind: 'problem',
      problem: { status: 422, code: 'invalid_image', detail: 'cannot decode' },
    });
    const image = uniqueImage();
    const failed = await Promise.all(Array.from({ length: 3 }, () => upload(image)));
    expect(failed.map((r) => r.status)).toEqual([422, 422, 422]);
    await backend.setMode({ kind: 'ok' });
    const retried = await upload(image);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('x-cache')).toBe('MISS');
  });
});
