import { AppError } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import { admitRequest, countNativeRequest, findKey } from './api-keys';
import type { AppEnv } from './app-env';

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * Who a request counts against: the shop (the Origin's host, which a browser page cannot forge,
 * else X-Shop-Domain) and the client IP (CF-Connecting-IP, set by Cloudflare), so one busy
 * storefront cannot starve the others, nor one visitor a storefront.
 */
export function rateLimitKey(headers: Headers): string {
  let shop: string | undefined;
  try {
    shop = new URL(headers.get('origin') ?? '').host || undefined;
  } catch {
    shop = undefined;
  }
  if (!shop) {
    const shopHeader = headers.get('x-shop-domain')?.trim().toLowerCase();
    shop = shopHeader && HOSTNAME.test(shopHeader) ? shopHeader : '-';
  }
  return `${shop}|${clientIp(headers)}`;
}

const clientIp = (headers: Headers): string => headers.get('cf-connecting-ip') ?? '-';

let warnedMissingBinding = false;

/**
 * The Workers ratelimits bindings (RATE_LIMITER per shop and IP, RATE_LIMITER_IP per IP); over
 * either limit is 429 rate_limited with Retry-After.
 */
/**
 * X-Api-Key on the native API (server-to-server clients): the key must be known and not revoked
 * (403 forbidden), and counts against its rate_limit_per_minute (429 rate_limited with
 * Retry-After and X-RateLimit-*). Each admitted request is counted in the key's usage; the native
 * API charges no credits (those are the remove.bg-compatible API's).
 */
const apiKeyLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = await findKey(c.env.DB, c.req.header('x-api-key')?.trim() ?? '');
  if (!key || key.revokedAt !== null) {
    throw new AppError('forbidden', key ? 'the API key has been revoked' : 'the API key is not valid');
  }
  const admission = await admitRequest(c.env.DB, key);
  const headers = {
    'x-ratelimit-limit': String(admission.limit),
    'x-ratelimit-remaining': String(admission.remaining),
    'x-ratelimit-reset': String(admission.resetAt),
  };
  if (!admission.allowed) {
    const retryAfterSeconds = Math.max(1, admission.resetAt - Math.floor(Date.now() / 1000));
    const response = new AppError('rate_limited', 'too many requests for this API key; slow down', {
      retryAfterSeconds,
    }).toResponse(c.get('requestId'));
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  }
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  if (c.res.ok) c.executionCtx.waitUntil(countNativeRequest(c.env.DB, key.id));
};

export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Through the app proxy the shop is the client, limited once at the gate (routes/app-proxy.ts).
    if (c.get('appProxy')) return next();
    // A server-to-server client with an API key: the key's own limit instead of the shop's.
    if (c.req.header('x-api-key') !== undefined) return apiKeyLimit(c, next);
    // Unbound where wrangler.toml gives the environment no ratelimits.
    const limiter = c.env.RATE_LIMITER as RateLimit | undefined;
    if (!limiter) {
      if (!warnedMissingBinding) console.warn(JSON.stringify({ event: 'rate_limit_disabled' }));
      warnedMissingBinding = true;
      return next();
    }
    const headers = c.req.raw.headers;
    // The per-IP cap (a higher limit, its own binding) stops one client from escaping the
    // per-shop limit by naming a different shop on every request.
    const ipLimiter = c.env.RATE_LIMITER_IP as RateLimit | undefined;
    const [perShop, perIp] = await Promise.all([
      limiter.limit({ key: rateLimitKey(headers) }),
      ipLimiter ? ipLimiter.limit({ key: clientIp(headers) }) : { success: true },
    ]);
    if (!perShop.success || !perIp.success) {
      throw new AppError('rate_limited', 'too many requests from this client; slow down', {
        retryAfterSeconds: c.get('config').rateLimitRetryAfterSeconds,
      });
    }
    return next();
  };
}
