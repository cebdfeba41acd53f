import { AppError } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * Who a request counts against: the shop (X-Shop-Domain, else the Origin's host) and the client IP
 * (CF-Connecting-IP), so one busy storefront cannot starve the others, nor one visitor a storefront.
 */
export function rateLimitKey(headers: Headers): string {
  const shopHeader = headers.get('x-shop-domain')?.trim().toLowerCase();
  let shop = shopHeader && HOSTNAME.test(shopHeader) ? shopHeader : undefined;
  if (!shop) {
    try {
      shop = new URL(headers.get('origin') ?? '').host;
    } catch {
      shop = '-';
    }
  }
  return `${shop}|${headers.get('cf-connecting-ip') ?? '-'}`;
}

let warnedMissingBinding = false;

/** The Workers ratelimits binding (RATE_LIMITER); over the limit is 429 rate_limited with Retry-After. */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limiter = c.env.RATE_LIMITER;
    if (!limiter) {
      if (!warnedMissingBinding) console.warn(JSON.stringify({ event: 'rate_limit_disabled' }));
      warnedMissingBinding = true;
      return next();
    }
    const { success } = await limiter.limit({ key: rateLimitKey(c.req.raw.headers) });
    if (!success) {
      throw new AppError('rate_limited', 'too many requests from this client; slow down', {
        retryAfterSeconds: c.get('config').rateLimitRetryAfterSeconds,
      });
    }
    return next();
  };
}
