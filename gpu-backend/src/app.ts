import { AppError } from '@bgremove/shared';
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
        return problem(
          c,
          new AppError('payload_too_large', `the body is over the limit of ${config.MAX_BODY_BYTES} bytes`),
        );
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
