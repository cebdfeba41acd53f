import { declaredLength, payloadTooLarge } from '@bgremove/shared';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppDeps, AppEnv } from './http/context';
import { handleError, handleNotFound, problem } from './http/errors';
import { requestLog } from './http/request-log';
import { signatureAuth } from './http/signature-auth';
import { healthRoutes } from './routes/health';
import { infoRoutes } from './routes/info';
import { removeBackgroundRoutes } from './routes/remove-background';

/** Paths that answer without a signature, so probes work (docs/API.md, "Request signatures"). */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/** Builds the backend's HTTP app from its dependencies; no globals, no process.env. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config } = deps;
  const app = new Hono<AppEnv>();
  app.use('*', requestLog(deps.logger, deps.metrics, config.GOOGLE_CLOUD_PROJECT));
  // Checked against Content-Length first, then while streaming: an oversized body is never read whole.
  app.use(
    '*',
    bodyLimit({
      maxSize: config.MAX_BODY_BYTES,
      onError: (c: Context<AppEnv>) => {
        c.set('outcome', 'payload_too_large');
        // The declared size when Content-Length gave it away; a stream cut off at the limit has none.
        const declared = declaredLength(c.req.header('content-length'));
        const seen = declared !== undefined && declared > config.MAX_BODY_BYTES ? declared : undefined;
        return problem(c, payloadTooLarge('the body', config.MAX_BODY_BYTES, seen));
      },
    }),
  );
  const secret = config.BACKEND_SHARED_SECRET;
  if (secret !== undefined) {
    const auth = signatureAuth(secret);
    app.use('*', (c: Context<AppEnv, string>, next) => (OPEN_PATHS.has(c.req.path) ? next() : auth(c, next)));
  }
  app.route('/', healthRoutes(deps));
  app.route('/', infoRoutes(deps));
  app.route('/', removeBackgroundRoutes(deps));
  app.onError(handleError);
  app.notFound(handleNotFound);
  return app;
}
