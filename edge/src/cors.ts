import { AppError } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';

const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOWED_HEADERS = 'Content-Type, If-None-Match, X-Request-Id, X-Shop-Domain';
export const EXPOSED_HEADERS =
  'X-Result-Key, X-Cache, Content-Location, X-Source-SHA256, X-Request-Id, ETag, Server-Timing, Retry-After, X-Foreground-Box, X-Subject-Confidence';

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
