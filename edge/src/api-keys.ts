import { sha256Hex, type AdminKey, type AdminKeyUsage } from '@bgremove/shared';

/**
 * API keys, credits and per-key rate limits in D1 (schema: edge/migrations/). A key is shown once,
 * when created; only its SHA-256 is stored. Every write that must not race is one SQL statement
 * or one batch (a D1 transaction), so concurrent requests on one key are charged exactly once each.
 */

export interface ApiKeyRecord {
  id: string;
  keyPrefix: string;
  label: string;
  monthlyCredits: number;
  rateLimitPerMinute: number;
  createdAt: string;
  revokedAt: string | null;
}

export interface MonthUsage {
  month: string;
  creditsCharged: number;
  requests: number;
  cachedRequests: number;
}

export interface NewKey {
  label: string;
  monthlyCredits: number;
  rateLimitPerMinute: number;
}

/** A row of api_keys (KEY_COLUMNS): the admin API's key shape, whose names are the columns'. */
type KeyRow = AdminKey;

/** A row of key_usage. */
type UsageRow = AdminKeyUsage;

const KEY_COLUMNS = 'id, key_prefix, label, monthly_credits, rate_limit_per_minute, created_at, revoked_at';

/** How long held credits count when their request never settles (a Worker that died mid-request). */
export const HOLD_TTL_MS = 10 * 60_000;

export const KEY_PREFIX = 'bgr_';

const toRecord = (row: KeyRow): ApiKeyRecord => ({
  id: row.id,
  keyPrefix: row.key_prefix,
  label: row.label,
  monthlyCredits: row.monthly_credits,
  rateLimitPerMinute: row.rate_limit_per_minute,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const toUsage = (row: UsageRow): MonthUsage => ({
  month: row.month,
  creditsCharged: row.credits_charged,
  requests: row.requests,
  cachedRequests: row.cached_requests,
});

/** The calendar month (UTC) that credits are counted in: 'YYYY-MM'. */
export const monthOf = (nowMs: number): string => new Date(nowMs).toISOString().slice(0, 7);

function randomBase64Url(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export const hashKey = (key: string): Promise<string> => sha256Hex(key);

/** A plausible key: the prefix and 32 base64url characters (192 random bits). */
export const KEY_PATTERN = /^bgr_[A-Za-z0-9_-]{32}$/;

/** Creates a key; the clear key is in the answer only, never stored. */
export async function createKey(
  db: D1Database,
  spec: NewKey,
  nowMs = Date.now(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `${KEY_PREFIX}${randomBase64Url(24)}`;
  const id = `key_${randomBase64Url(9)}`;
  const row: KeyRow = {
    id,
    key_prefix: key.slice(0, KEY_PREFIX.length + 6),
    label: spec.label,
    monthly_credits: spec.monthlyCredits,
    rate_limit_per_minute: spec.rateLimitPerMinute,
    created_at: new Date(nowMs).toISOString(),
    revoked_at: null,
  };
  await db
    .prepare(
      `INSERT INTO api_keys (id, key_hash, key_prefix, label, monthly_credits, rate_limit_per_minute, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
    )
    .bind(
      row.id,
      await hashKey(key),
      row.key_prefix,
      row.label,
      row.monthly_credits,
      row.rate_limit_per_minute,
      row.created_at,
    )
    .run();
  return { key, record: toRecord(row) };
}

/** The key's record (revoked ones too), or undefined when no such key exists. */
export async function findKey(db: D1Database, key: string): Promise<ApiKeyRecord | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const row = await db
    .prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1`)
    .bind(await hashKey(key))
    .first<KeyRow>();
  return row ? toRecord(row) : undefined;
}

export async function getKey(db: D1Database, id: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?1`).bind(id).first<KeyRow>();
  return row ? toRecord(row) : undefined;
}

/** Every key, oldest first, with this month's usage. */
export async function listKeys(
  db: D1Database,
  nowMs = Date.now(),
): Promise<(ApiKeyRecord & { usage: MonthUsage })[]> {
  const month = monthOf(nowMs);
  const { results } = await db
    .prepare(
      `SELECT k.id, k.key_prefix, k.label, k.monthly_credits, k.rate_limit_per_minute, k.created_at, k.revoked_at,
              COALESCE(u.credits_charged, 0) AS credits_charged, COALESCE(u.requests, 0) AS requests,
              COALESCE(u.cached_requests, 0) AS cached_requests, ?1 AS month
         FROM api_keys k LEFT JOIN key_usage u ON u.key_id = k.id AND u.month = ?1
        ORDER BY k.created_at, k.id`,
    )
    .bind(month)
    .all<KeyRow & UsageRow>();
  return results.map((row) => ({ ...toRecord(row), usage: toUsage(row) }));
}

/** Revokes a key (idempotent: the first revocation time is kept); undefined when there is none. */
export async function revokeKey(
  db: D1Database,
  id: string,
  nowMs = Date.now(),
): Promise<ApiKeyRecord | undefined> {
  const row = await db
    .prepare(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING ${KEY_COLUMNS}`,
    )
    .bind(id, new Date(nowMs).toISOString())
    .first<KeyRow>();
  return row ? toRecord(row) : undefined;
}

/** Usage of one key per month, newest first. */
export async function usageOf(db: D1Database, id: string): Promise<MonthUsage[]> {
  const { results } = await db
    .prepare(
      `SELECT month, credits_charged, requests, cached_requests FROM key_usage WHERE key_id = ?1 ORDER BY month DESC`,
    )
    .bind(id)
    .all<UsageRow>();
  return results.map(toUsage);
}

/** Credits left this month: the allowance less what was charged and what is held right now. */
export async function creditsRemaining(
  db: D1Database,
  key: ApiKeyRecord,
  nowMs = Date.now(),
): Promise<number> {
  const month = monthOf(nowMs);
  const row = await db
    .prepare(
      `SELECT COALESCE((SELECT credits_charged FROM key_usage WHERE key_id = ?1 AND month = ?2), 0)
            + COALESCE((SELECT SUM(credits) FROM credit_holds WHERE key_id = ?1 AND month = ?2 AND expires_at > ?3), 0)
            AS spent`,
    )
    .bind(key.id, month, nowMs)
    .first<{ spent: number }>();
  return Math.max(0, key.monthlyCredits - (row?.spent ?? 0));
}

export type Admission = { allowed: boolean; limit: number; remaining: number; resetAt: number };

/**
 * Counts a request against the key's per-minute limit (fixed windows). `resetAt` is the unix
 * second at which the window ends. Every request counts, refused ones included.
 */
export async function admitRequest(
  db: D1Database,
  key: ApiKeyRecord,
  nowMs = Date.now(),
): Promise<Admission> {
  const windowStart = Math.floor(nowMs / 60_000) * 60;
  const [, counted] = await db.batch<{ count: number }>([
    db.prepare('DELETE FROM rate_windows WHERE key_id = ?1 AND window_start < ?2').bind(key.id, windowStart),
    db
      .prepare(
        `INSERT INTO rate_windows (key_id, window_start, count) VALUES (?1, ?2, 1)
         ON CONFLICT (key_id, window_start) DO UPDATE SET count = count + 1 RETURNING count`,
      )
      .bind(key.id, windowStart),
  ]);
  const count = counted?.results[0]?.count ?? Number.POSITIVE_INFINITY;
  const limit = key.rateLimitPerMinute;
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    resetAt: windowStart + 60,
  };
}

export type Hold = { ok: true; id: string } | { ok: false; remaining: number };

/**
 * Holds `credits` for a request in flight when the month's allowance still has them (one
 * statement: the check and the insert cannot interleave with another request's).
 */
export async function holdCredits(
  db: D1Database,
  key: ApiKeyRecord,
  credits: number,
  nowMs = Date.now(),
): Promise<Hold> {
  const month = monthOf(nowMs);
  const id = crypto.randomUUID();
  const [, inserted] = await db.batch([
    db.prepare('DELETE FROM credit_holds WHERE key_id = ?1 AND expires_at <= ?2').bind(key.id, nowMs),
    db
      .prepare(
        `INSERT INTO credit_holds (id, key_id, month, credits, expires_at)
         SELECT ?1, ?2, ?3, ?4, ?5
          WHERE ?4 + COALESCE((SELECT credits_charged FROM key_usage WHERE key_id = ?2 AND month = ?3), 0)
                   + COALESCE((SELECT SUM(credits) FROM credit_holds WHERE key_id = ?2 AND month = ?3), 0)
                <= ?6`,
      )
      .bind(id, key.id, month, credits, nowMs + HOLD_TTL_MS, key.monthlyCredits),
  ]);
  if (inserted?.meta.changes === 1) return { ok: true, id };
  return { ok: false, remaining: await creditsRemaining(db, key, nowMs) };
}

/**
 * Ends a hold: `charged` credits are added to the hold's month and the hold is gone, in one
 * transaction. Settling the same hold twice charges once (the second finds no hold).
 */
export async function settleHold(
  db: D1Database,
  holdId: string,
  charged: number,
  options: { cached: boolean },
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO key_usage (key_id, month, credits_charged, requests, cached_requests)
         SELECT key_id, month, ?2, 1, ?3 FROM credit_holds WHERE id = ?1
         ON CONFLICT (key_id, month) DO UPDATE SET
           credits_charged = credits_charged + excluded.credits_charged,
           requests = requests + 1,
           cached_requests = cached_requests + excluded.cached_requests`,
      )
      .bind(holdId, charged, options.cached ? 1 : 0),
    db.prepare('DELETE FROM credit_holds WHERE id = ?1').bind(holdId),
  ]);
}

/** Drops a hold without charging: the request failed (errors cost nothing). */
export async function releaseHold(db: D1Database, holdId: string): Promise<void> {
  await db.prepare('DELETE FROM credit_holds WHERE id = ?1').bind(holdId).run();
}

/** Counts a request served for 0 credits (a cached result) without holding anything. */
export async function recordFreeRequest(
  db: D1Database,
  key: ApiKeyRecord,
  nowMs = Date.now(),
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO key_usage (key_id, month, credits_charged, requests, cached_requests) VALUES (?1, ?2, 0, 1, 1)
       ON CONFLICT (key_id, month) DO UPDATE SET requests = requests + 1, cached_requests = cached_requests + 1`,
    )
    .bind(key.id, monthOf(nowMs))
    .run();
}

/** Counts a native-API request made with the key (no credits: those are the remove.bg API's). */
export async function countNativeRequest(db: D1Database, keyId: string, nowMs = Date.now()): Promise<void> {
  await db
    .prepare(
      `INSERT INTO key_usage (key_id, month, credits_charged, requests, cached_requests) VALUES (?1, ?2, 0, 1, 0)
       ON CONFLICT (key_id, month) DO UPDATE SET requests = requests + 1`,
    )
    .bind(keyId, monthOf(nowMs))
    .run();
}
