import { beforeEach, describe, expect, it } from 'vitest';
import { createKey, revokeKey, usageOf } from '../src/api-keys';
import { backend, env, expectProblem, uniqueImage, upload } from './helpers';

describe('the native API with X-Api-Key (server-to-server)', () => {
  // Whatever mode an earlier test file left the shared fake backend in (e.g. down).
  beforeEach(async () => {
    await backend.reset();
  });

  it('an unknown or revoked key is 403 before any work', async () => {
    await expectProblem(
      await upload(uniqueImage(), '', { headers: { 'x-api-key': `bgr_${'Z'.repeat(32)}` } }),
      403,
      'forbidden',
    );
    const { key, record } = await createKey(env.DB, { label: 'n', monthlyCredits: 1, rateLimitPerMinute: 5 });
    await revokeKey(env.DB, record.id);
    const revoked = await expectProblem(
      await upload(uniqueImage(), '', { headers: { 'x-api-key': key } }),
      403,
      'forbidden',
    );
    expect(revoked.detail).toMatch(/revoked/);
  });

  it("a valid key counts against the key's limit (X-RateLimit-*), not the shop's; requests are counted", async () => {
    const { key, record } = await createKey(env.DB, { label: 'n', monthlyCredits: 0, rateLimitPerMinute: 2 });
    const ip = '203.0.113.77';
    const first = await upload(uniqueImage(), '?output=cutout', { ip, headers: { 'x-api-key': key } });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await upload(uniqueImage(), '', { ip, headers: { 'x-api-key': key } })).status).toBe(200);
    const limited = await upload(uniqueImage(), '', { ip, headers: { 'x-api-key': key } });
    await expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    // No credits on the native API (0 allowance is fine), but every answered request is counted.
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 0, requests: 2 }]);
  });
});
