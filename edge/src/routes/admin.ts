import { AppError, describeZodError, sha256Hex, type AdminKey, type AdminKeyUsage } from '@bgremove/shared';
import { createRoute, z, type RouteHandler } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import {
  createKey,
  getKey,
  listKeys,
  revokeKey,
  usageOf,
  type ApiKeyRecord,
  type MonthUsage,
} from '../api-keys';
import type { AppEnv } from '../app-env';
import { problems } from './openapi';

/** Where the admin API lives; `npm run keys` calls it. */
export const ADMIN_PREFIX = '/admin/v1';

export const newKeySchema = z.strictObject({
  label: z.string().trim().min(1).max(200).describe('What the key is for (a shop, a script).'),
  monthly_credits: z
    .number()
    .min(0)
    .max(1_000_000_000)
    .multipleOf(0.25)
    .default(50)
    .describe('Credits per calendar month (UTC): 1 per full-size result, 0.25 per preview.'),
  rate_limit_per_minute: z.number().int().min(1).max(1_000_000).default(500).describe('Requests per minute.'),
});

const KEY_ID = /^key_[A-Za-z0-9_-]{12}$/;

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`. Without ADMIN_TOKEN configured the admin API is off
 * (403); a missing or wrong token is 401. Tokens are compared as SHA-256 digests in constant time.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = c.get('config').adminToken;
    if (!expected) throw new AppError('forbidden', 'the admin API is disabled: ADMIN_TOKEN is not set');
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match || !(await sameSecret(match[1]!, expected))) {
      throw new AppError(
        'unauthorized',
        'missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)',
      );
    }
    return next();
  };
}

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(expected)]);
  const encoder = new TextEncoder();
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

const keyJson = (record: ApiKeyRecord): AdminKey => ({
  id: record.id,
  key_prefix: record.keyPrefix,
  label: record.label,
  monthly_credits: record.monthlyCredits,
  rate_limit_per_minute: record.rateLimitPerMinute,
  created_at: record.createdAt,
  revoked_at: record.revokedAt,
});

const usageJson = (usage: MonthUsage): AdminKeyUsage => ({
  month: usage.month,
  credits_charged: usage.creditsCharged,
  requests: usage.requests,
  cached_requests: usage.cachedRequests,
});

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AppError('invalid_request', 'the body is not JSON', { cause });
  }
}

function keyIdParam(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!KEY_ID.test(id)) throw new AppError('invalid_request', `"${id}" is not a key id (key_...)`);
  return id;
}

const keyId = z.object({ id: z.string().regex(KEY_ID, 'a key id (key_...)') });
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: z.looseObject({}) } },
});
const bearer = [{ adminToken: [] }];

export const adminCreateKeyRoute = createRoute({
  method: 'post',
  path: `${ADMIN_PREFIX}/keys`,
  summary: 'Create an API key (admin; the key is in this answer only).',
  middleware: [adminAuth()] as const,
  security: bearer,
  request: {
    // Documentation only (a plain JSON Schema, so no validator runs before adminAuth); checked in the handler.
    body: {
      required: true,
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: a JSON Schema's `not: false` is no OpenAPI SchemaObject
      content: { 'application/json': { schema: z.toJSONSchema(newKeySchema, { io: 'input' }) as object } },
    },
  },
  responses: { 201: json('The new key.'), ...problems(400, 401, 403) },
});

export const adminListKeysRoute = createRoute({
  method: 'get',
  path: `${ADMIN_PREFIX}/keys`,
  summary: "Every API key with this month's usage (admin).",
  middleware: [adminAuth()] as const,
  security: bearer,
  responses: { 200: json('The keys.'), ...problems(401, 403) },
});

export const adminRevokeKeyRoute = createRoute({
  method: 'post',
  path: `${ADMIN_PREFIX}/keys/{id}/revoke`,
  summary: 'Revoke an API key (admin; idempotent).',
  middleware: [adminAuth()] as const,
  security: bearer,
  request: { params: keyId },
  responses: { 200: json('The revoked key.'), ...problems(400, 401, 403, 404) },
});

export const adminKeyUsageRoute = createRoute({
  method: 'get',
  path: `${ADMIN_PREFIX}/keys/{id}/usage`,
  summary: 'Credits and requests of an API key per month (admin).',
  middleware: [adminAuth()] as const,
  security: bearer,
  request: { params: keyId },
  responses: { 200: json('Usage per month, newest first.'), ...problems(400, 401, 403, 404) },
});

/** POST /admin/v1/keys: 201 with the new key, shown this once. */
export const adminCreateKey: RouteHandler<typeof adminCreateKeyRoute, AppEnv> = async (c) => {
  const parsed = newKeySchema.safeParse(await jsonBody(c));
  if (!parsed.success) throw new AppError('invalid_request', describeZodError(parsed.error));
  const { key, record } = await createKey(c.env.DB, {
    label: parsed.data.label,
    monthlyCredits: parsed.data.monthly_credits,
    rateLimitPerMinute: parsed.data.rate_limit_per_minute,
  });
  return c.json({ ...keyJson(record), key }, 201, { 'cache-control': 'no-store' });
};

/** GET /admin/v1/keys: every key (never the keys themselves) with this month's usage. */
export const adminListKeys: RouteHandler<typeof adminListKeysRoute, AppEnv> = async (c) => {
  const keys = await listKeys(c.env.DB);
  return c.json({ keys: keys.map((k) => ({ ...keyJson(k), usage: usageJson(k.usage) })) }, 200, {
    'cache-control': 'no-store',
  });
};

/** POST /admin/v1/keys/:id/revoke: the key is refused from now on (idempotent). */
export const adminRevokeKey: RouteHandler<typeof adminRevokeKeyRoute, AppEnv> = async (c) => {
  const id = keyIdParam(c);
  const record = await revokeKey(c.env.DB, id);
  if (!record) throw new AppError('not_found', `no key ${id}`);
  return c.json(keyJson(record), 200, { 'cache-control': 'no-store' });
};

/** GET /admin/v1/keys/:id/usage: credits and requests per month, newest first. */
export const adminKeyUsage: RouteHandler<typeof adminKeyUsageRoute, AppEnv> = async (c) => {
  const id = keyIdParam(c);
  const record = await getKey(c.env.DB, id);
  if (!record) throw new AppError('not_found', `no key ${id}`);
  const months = await usageOf(c.env.DB, id);
  return c.json({ ...keyJson(record), months: months.map(usageJson) }, 200, { 'cache-control': 'no-store' });
};
