import type { Context } from 'hono';
import { admitRequest, findKey, type Admission, type ApiKeyRecord } from '../api-keys';
import type { AppEnv } from '../app-env';
import { RemoveBgError } from './errors';

/** The key in X-Api-Key, checked against D1: missing, unknown and revoked keys are 403. */
export async function authenticate(c: Context<AppEnv>): Promise<ApiKeyRecord> {
  const given = c.req.header('x-api-key')?.trim();
  if (!given) {
    throw new RemoveBgError('auth_failed', 'send your API key in the X-Api-Key header', {
      title: 'Missing API Key',
    });
  }
  const key = await findKey(c.env.DB, given);
  if (!key) throw new RemoveBgError('auth_failed', 'the API key is not valid', { title: 'API Key invalid' });
  if (key.revokedAt !== null) {
    throw new RemoveBgError('auth_failed', 'the API key has been revoked', { title: 'API Key revoked' });
  }
  return key;
}

export function rateLimitHeaders(admission: Admission): Record<string, string> {
  return {
    'x-ratelimit-limit': String(admission.limit),
    'x-ratelimit-remaining': String(admission.remaining),
    'x-ratelimit-reset': String(admission.resetAt),
  };
}

/** Counts the request against the key's per-minute limit; over it: 429 with Retry-After. */
export async function admit(c: Context<AppEnv>, key: ApiKeyRecord): Promise<Record<string, string>> {
  const admission = await admitRequest(c.env.DB, key);
  const headers = rateLimitHeaders(admission);
  if (!admission.allowed) {
    const retryAfter = Math.max(1, admission.resetAt - Math.floor(Date.now() / 1000));
    throw new RemoveBgError(
      'rate_limit_exceeded',
      `more than ${admission.limit} requests per minute for this API key`,
      { headers: { ...headers, 'retry-after': String(retryAfter) } },
    );
  }
  return headers;
}
