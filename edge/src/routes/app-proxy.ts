import { AppError } from '@bgremove/shared';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env';
import { verifyAppProxyParams } from '../shopify-signature';

/** What Shopify adds to a proxied request; not seen by the routes' strict query schemas. */
const SHOPIFY_PARAMS = ['shop', 'logged_in_customer_id', 'path_prefix', 'timestamp', 'signature'];

/** One shop's storefront visitors all arrive from Shopify's proxy servers: the shop is the client. */
async function limitShop(c: Context<AppEnv>, shop: string): Promise<void> {
  // Unbound where wrangler.toml gives the environment no ratelimits.
  const limiter = c.env.RATE_LIMITER as RateLimit | undefined;
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
 * the shop's rate limit, and then served by the storefront routes mounted under the prefix (the
 * same definitions and handlers as the public API; app.ts). Anything else is refused with 401
 * unauthorized before any work. Runs before CORS, which it turns off for the request: a proxied
 * request is same-origin for the storefront, whatever Origin header it carries.
 */
export function appProxyGate(): MiddlewareHandler<AppEnv> {
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
    c.set('appProxy', { shop: verdict.shop, prefix });
    // The routes validate the storefront's own parameters: Shopify's are checked and done with.
    const own = new URL(url);
    for (const name of SHOPIFY_PARAMS) own.searchParams.delete(name);
    if (own.search !== url.search) c.req.raw = new Request(own, c.req.raw);

    await next();

    // The storefront resolves a relative Content-Location against the shop's domain: make it the edge's.
    const location = c.res.headers.get('content-location');
    if (location?.startsWith('/')) {
      c.res.headers.set('content-location', `${config.publicBaseUrl ?? url.origin}${location}`);
    }
  };
}
