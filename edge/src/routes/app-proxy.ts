import { AppError } from '@bgremove/shared';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env';
import { renderError, renderNotFound, requestContext } from '../problem';
import { verifyAppProxyParams } from '../shopify-signature';
import { lookupRoute } from './lookup';
import { removeBackgroundRoute } from './remove-background';
import { resultsRoute } from './results';

/** What Shopify adds to a proxied request; removed before the query reaches the strict handlers. */
const SHOPIFY_PARAMS = new Set(['shop', 'logged_in_customer_id', 'path_prefix', 'timestamp', 'signature']);

/** The public routes a storefront may reach through its app proxy. No CORS: it is same-origin there. */
function createProxiedRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(renderError);
  app.notFound(renderNotFound);
  app.use('*', requestContext());
  app.post('/v1/remove-background', removeBackgroundRoute);
  app.get('/v1/lookup', lookupRoute);
  app.get('/v1/results/:key', resultsRoute);
  return app;
}

/** One shop's storefront visitors all arrive from Shopify's proxy servers: the shop is the client. */
async function limitShop(c: Context<AppEnv>, shop: string): Promise<void> {
  const limiter = c.env.RATE_LIMITER;
  if (!limiter) return;
  const { success } = await limiter.limit({ key: `app-proxy|${shop}` });
  if (!success) {
    throw new AppError('rate_limited', 'too many requests from this shop; slow down', {
      retryAfterSeconds: c.get('config').rateLimitRetryAfterSeconds,
    });
  }
}

/**
 * Shopify App Proxy: `APP_PROXY_PREFIX/v1/...` (e.g. /apps/bgremove/v1/lookup) is accepted only
 * with a valid Shopify `signature` (SHOPIFY_APP_SECRET) and a fresh `timestamp`, counted against
 * the shop's rate limit, and then served by the same upload, lookup and results handlers.
 * Anything else is refused with 401 unauthorized before any work. Runs before CORS: a proxied
 * request is same-origin for the storefront, whatever Origin header it carries.
 */
export function appProxy(): MiddlewareHandler<AppEnv> {
  const proxied = createProxiedRoutes();
  return async (c, next) => {
    const config = c.get('config');
    const url = new URL(c.req.url);
    const prefix = config.appProxyPrefix;
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return next();
    if (!config.shopifyAppSecret) {
      console.warn(JSON.stringify({ event: 'app_proxy_refused', reason: 'SHOPIFY_APP_SECRET is not set' }));
      throw new AppError('unauthorized', 'the app proxy is not enabled on this deployment');
    }
    const verdict = await verifyAppProxyParams(url.searchParams, config.shopifyAppSecret);
    if (!verdict.ok) {
      console.warn(JSON.stringify({ event: 'app_proxy_refused', reason: verdict.reason }));
      throw new AppError('unauthorized', 'a valid Shopify app proxy signature is required');
    }
    await limitShop(c, verdict.shop);

    const target = new URL(url.pathname.slice(prefix.length) || '/', url.origin);
    for (const [key, value] of url.searchParams) {
      if (!SHOPIFY_PARAMS.has(key)) target.searchParams.append(key, value);
    }
    const headers = new Headers(c.req.raw.headers);
    headers.delete('origin');
    headers.set('x-request-id', c.get('requestId'));
    headers.set('x-shop-domain', verdict.shop);
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? null : c.req.raw.body;
    const response = await proxied.fetch(
      new Request(target, { method, headers, body }),
      c.env,
      c.executionCtx,
    );

    // The storefront resolves a relative Content-Location against the shop's domain: make it the edge's.
    const location = response.headers.get('content-location');
    if (!location?.startsWith('/')) return response;
    const rewritten = new Response(response.body, response);
    rewritten.headers.set('content-location', `${config.publicBaseUrl ?? url.origin}${location}`);
    return rewritten;
  };
}
