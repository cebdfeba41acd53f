import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env';
import { configFor } from './config';
import { corsMiddleware } from './cors';
import type { EdgeEnv } from './env';
import { registerOpenApi } from './openapi';
import { renderError, renderNotFound, requestContext } from './problem';
import { rateLimit } from './rate-limit';
import { appProxy } from './routes/app-proxy';
import { healthRoute } from './routes/health';
import { lookupRoute } from './routes/lookup';
import { removeBackgroundRoute } from './routes/remove-background';
import { resultsRoute } from './routes/results';
import { statusRoute } from './routes/status';
import { isWithinWarmupWindow, warmBackend } from './warmup';

export { ResultCoalescer } from './coalescer';

/** Builds the edge app: one onError, CORS and request ids for all, rate limits where work starts. */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.onError(renderError);
  app.notFound(renderNotFound);
  // The Shopify App Proxy (APP_PROXY_PREFIX) answers its own requests, signed by Shopify, before CORS.
  app.use('*', requestContext(), appProxy(), corsMiddleware());
  app.get('/healthz', healthRoute);
  app.get('/v1/status', statusRoute);
  app.post('/v1/remove-background', rateLimit(), removeBackgroundRoute);
  app.get('/v1/lookup', rateLimit(), lookupRoute);
  app.get('/v1/results/:key', resultsRoute);
  registerOpenApi(app);
  return app;
}

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron trigger: warm the backend during WARMUP_DAYS/WARMUP_HOURS, do nothing outside them. */
  async scheduled(controller, env, ctx) {
    const config = configFor(env);
    if (!isWithinWarmupWindow(new Date(controller.scheduledTime), config.warmup)) return;
    ctx.waitUntil(warmBackend(config));
  },
} satisfies ExportedHandler<EdgeEnv>;
