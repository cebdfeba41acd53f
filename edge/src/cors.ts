import { AppError } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';

export interface OriginMatcher {
  readonly patterns: readonly string[];
  matches(origin: string): boolean;
}

const PATTERN = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/;

/**
 * CORS_ORIGINS: a comma list of exact origins (`https://shop.example.com`, `http://localhost:8787`)
 * and single-label wildcards (`https://*.myshopify.com` matches `https://a-shop.myshopify.com`,
 * not `https://myshopify.com` nor `https://a.b.myshopify.com`).
 */
export function parseOriginPatterns(list: string): OriginMatcher {
  const patterns = list
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/\/+$/, ''))
    .filter(Boolean);
  const matchers = patterns.map((pattern) => {
    const m = PATTERN.exec(pattern);
    if (!m) {
      throw new Error(
        `CORS_ORIGINS: "${pattern}" is not an origin like https://shop.example or https://*.example`,
      );
    }
    const [, scheme, wildcard, host, port] = m;
    const suffix = `${host}${port ? `:${port}` : ''}`;
    if (!wildcard) return (origin: string) => origin === `${scheme}://${suffix}`;
    const re = new RegExp(`^${scheme}://[a-z0-9-]+\\.${suffix.replace(/\./g, '\\.')}$`);
    return (origin: string) => re.test(origin);
  });
  return {
    patterns,
    matches: (origin) => matchers.some((match) => match(origin.toLowerCase())),
  };
}

const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOWED_HEADERS = 'Content-Type, If-None-Match, X-Request-Id, X-Shop-Domain';
export const EXPOSED_HEADERS =
  'X-Result-Key, X-Cache, Content-Location, X-Source-SHA256, X-Request-Id, ETag, Server-Timing, Retry-After';

/**
 * Browsers from allowed origins get CORS headers; other origins are refused before any work:
 * preflights and unsafe methods with 403 forbidden naming the origin. GET/HEAD from them are
 * answered without CORS headers (the results are public; the browser keeps the body from the page).
 */
export function corsMiddleware(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    // Through the app proxy a request is same-origin for the storefront (routes/app-proxy.ts).
    if (!origin || c.get('appProxy')) return next();
    // The edge's own page (same origin) is always allowed; others must be in CORS_ORIGINS.
    const allowed = origin === new URL(c.req.url).origin || c.get('config').corsOrigins.matches(origin);
    const isPreflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method');
    if (!allowed && (isPreflight || !['GET', 'HEAD'].includes(c.req.method))) {
      throw new AppError('forbidden', `origin ${origin} is not allowed (CORS_ORIGINS)`);
    }
    if (isPreflight) {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '86400',
          vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        },
      });
    }
    await next();
    if (!allowed) return;
    c.res.headers.set('access-control-allow-origin', origin);
    c.res.headers.set('access-control-expose-headers', EXPOSED_HEADERS);
    c.res.headers.append('vary', 'Origin');
  };
}
