import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { AppEnv } from './app-env';
import { configFor, DEFAULT_APP_PROXY_PREFIX } from './config';
import { corsMiddleware } from './cors';
import { renderError, renderNotFound, requestContext } from './problem';
import { appProxyGate } from './routes/app-proxy';
import { serviceRoutes, storefrontRoutes } from './routes/index';
import { serveOpenApi } from './routes/openapi';

/**
 * Builds the edge app: one onError and notFound, request ids and the config for all, then the
 * Shopify App Proxy gate and CORS, then the route table (routes/index.ts): the storefront routes
 * on the public API and under `appProxyPrefix`, the service routes on the public API only.
 */
export function createApp(appProxyPrefix: string): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.onError(renderError);
  app.notFound(renderNotFound);
  app.use('*', requestContext(), appProxyGate(), corsMiddleware());
  const storefront = storefrontRoutes();
  app.route('/', storefront);
  app.route('/', serviceRoutes());
  // Mounted through a plain Hono so that /openapi.json documents the public paths only.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- storefront is an OpenAPIHono, a subclass of Hono
  app.route(appProxyPrefix, new Hono<AppEnv>().route('/', storefront));
  serveOpenApi(app);
  return app;
}

const apps = new Map<string, OpenAPIHono<AppEnv>>();

/** The app for this env's APP_PROXY_PREFIX, built once per prefix for the isolate's life. */
export function appFor(env: Env): OpenAPIHono<AppEnv> {
  let prefix = DEFAULT_APP_PROXY_PREFIX;
  try {
    prefix = configFor(env).appProxyPrefix;
  } catch {
    // A bad config: requestContext() throws the same ConfigError again and renders it.
  }
  let app = apps.get(prefix);
  if (!app) {
    app = createApp(prefix);
    apps.set(prefix, app);
  }
  return app;
}
