import { sha256Hex } from '@bgremove/shared';
import { describe, expect, it } from 'vitest';
import {
  admitRequest,
  createKey,
  creditsRemaining,
  findKey,
  holdCredits,
  KEY_PATTERN,
  releaseHold,
  settleHold,
  usageOf,
} from '../src/api-keys';
import { env, expectProblem, request, type RequestOptions } from './helpers';

const admin = (path: string, init: RequestOptions = {}, token = env.ADMIN_TOKEN) =>
  request(`/admin/v1${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...Object.fromEntries(new Headers(init.headers)),
    },
  });

interface KeyJson {
  id: string;
  key?: string;
  key_prefix: string;
  label: string;
  monthly_credits: number;
  rate_limit_per_minute: number;
  revoked_at: string | null;
}

describe('admin API', () => {
  it('needs the admin token; without ADMIN_TOKEN it is off', async () => {
    await expectProblem(await request('/admin/v1/keys'), 401, 'unauthorized');
    await expectProblem(await admin('/keys', {}, 'wrong-token-0123456789'), 401, 'unauthorized');
    const off = { ...env, ADMIN_TOKEN: '' };
    await expectProblem(await admin('/keys', { env: off }), 403, 'forbidden');
  });

  it('creates a key shown once, stored only as its SHA-256', async () => {
    const response = await admin('/keys', {
      method: 'POST',
      body: JSON.stringify({ label: 'shop one', monthly_credits: 12.5, rate_limit_per_minute: 7 }),
    });
    expect(response.status).toBe(201);
    const created = await response.json<KeyJson>();
    expect(created.key).toMatch(KEY_PATTERN);
    expect(created).toMatchObject({ label: 'shop one', monthly_credits: 12.5, rate_limit_per_minute: 7 });
    expect(created.key!.startsWith(created.key_prefix)).toBe(true);

    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?1').bind(created.id).first();
    expect(row!.key_hash).toBe(await sha256Hex(created.key!));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const list = await (await admin('/keys')).json<{ keys: (KeyJson & { usage: object })[] }>();
    const listed = list.keys.find((k) => k.id === created.id)!;
    expect(listed.key).toBeUndefined();
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(listed.usage).toMatchObject({ credits_charged: 0, requests: 0 });
  });

  it('revokes a key (idempotently) and reports usage', async () => {
    const { key, record } = await createKey(env.DB, { label: 'r', monthlyCredits: 3, rateLimitPerMinute: 5 });
    const revoked = await (await admin(`/keys/${record.id}/revoke`, { method: 'POST' })).json<KeyJson>();
    expect(revoked.revoked_at).toBeTruthy();
    const again = await (await admin(`/keys/${record.id}/revoke`, { method: 'POST' })).json<KeyJson>();
    expect(again.revoked_at).toBe(revoked.revoked_at);
    expect((await findKey(env.DB, key))!.revokedAt).toBe(revoked.revoked_at);
    const usage = await (await admin(`/keys/${record.id}/usage`)).json<{ months: unknown[] }>();
    expect(usage.months).toEqual([]);
  });

  it('refuses bad input with the field named', async () => {
    const bad = await admin('/keys', {
      method: 'POST',
      body: JSON.stringify({ label: '', monthly_credits: -1 }),
    });
    const problem = await expectProblem(bad, 400, 'invalid_request');
    expect(problem.detail).toMatch(/label/);
    expect(problem.detail).toMatch(/monthly_credits/);
    await expectProblem(await admin('/keys', { method: 'POST', body: '{' }), 400, 'invalid_request');
    await expectProblem(
      await admin('/keys', { method: 'POST', body: JSON.stringify({ label: 'x', extra: 1 }) }),
      400,
      'invalid_request',
    );
    await expectProblem(await admin('/keys/nope/usage'), 400, 'invalid_request');
    await expectProblem(await admin('/keys/key_AAAAAAAAAAAA/revoke', { method: 'POST' }), 404, 'not_found');
  });
});

describe('key store', () => {
  it('finds keys by their hash only; unknown and malformed keys are not found', async () => {
    const { key, record } = await createKey(env.DB, { label: 'f', monthlyCredits: 1, rateLimitPerMinute: 1 });
    expect((await findKey(env.DB, key))!.id).toBe(record.id);
    expect(await findKey(env.DB, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await findKey(env.DB, 'not a key')).toBeUndefined();
  });

  it('N concurrent holds on one key: exactly as many succeed as there are credits', async () => {
    const { record } = await createKey(env.DB, { label: 'c', monthlyCredits: 5, rateLimitPerMinute: 100 });
    const holds = await Promise.all(Array.from({ length: 12 }, () => holdCredits(env.DB, record, 1)));
    const granted = holds.filter((h) => h.ok);
    expect(granted).toHaveLength(5);
    expect(await creditsRemaining(env.DB, record)).toBe(0);
    // Settled twice each (a retry): still charged once per request.
    for (const hold of granted) {
      await Promise.all([
        settleHold(env.DB, hold.id, 1, { cached: false }),
        settleHold(env.DB, hold.id, 1, { cached: false }),
      ]);
    }
    const [month] = await usageOf(env.DB, record.id);
    expect(month).toMatchObject({ creditsCharged: 5, requests: 5, cachedRequests: 0 });
    expect(await creditsRemaining(env.DB, record)).toBe(0);
  });

  it('a released hold costs nothing; an expired one stops counting', async () => {
    const { record } = await createKey(env.DB, { label: 'h', monthlyCredits: 1, rateLimitPerMinute: 100 });
    const now = Date.now();
    const first = await holdCredits(env.DB, record, 1, now);
    expect(first.ok).toBe(true);
    expect((await holdCredits(env.DB, record, 0.25, now)).ok).toBe(false);
    if (first.ok) await releaseHold(env.DB, first.id);
    expect(await creditsRemaining(env.DB, record, now)).toBe(1);
    expect((await holdCredits(env.DB, record, 1, now)).ok).toBe(true);
    // A Worker that died mid-request: its hold expires.
    expect((await holdCredits(env.DB, record, 1, now + 11 * 60_000)).ok).toBe(true);
  });

  it('rate limit per key and minute, with what is left and when it resets', async () => {
    const { record } = await createKey(env.DB, { label: 'l', monthlyCredits: 1, rateLimitPerMinute: 3 });
    const t = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    const admissions = [];
    for (let i = 0; i < 4; i++) admissions.push(await admitRequest(env.DB, record, t));
    expect(admissions.map((a) => [a.allowed, a.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(admissions[0]!.resetAt).toBe(t / 1000 - 1 + 60);
    expect((await admitRequest(env.DB, record, t + 60_000)).allowed).toBe(true);
    const concurrent = await Promise.all(
      Array.from({ length: 6 }, () => admitRequest(env.DB, record, t + 120_000)),
    );
    expect(concurrent.filter((a) => a.allowed)).toHaveLength(3);
  });
});
