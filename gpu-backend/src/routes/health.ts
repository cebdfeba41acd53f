import { Hono } from 'hono';
import { loadAndSeed } from '../admission';
import type { AppDeps, AppEnv } from '../http/context';

/** Liveness, readiness and warm-up. */
export function healthRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine, logger, admission } = deps;
  const app = new Hono<AppEnv>();
  const noStore = { 'cache-control': 'no-store' };

  // Alive as long as the event loop answers; says nothing about models.
  app.get('/healthz', (c) => c.json({ status: 'ok' }, 200, noStore));

  // Ready once every configured model is loaded and has run once; not while draining.
  app.get('/readyz', (c) => {
    const draining = deps.draining?.() ?? false;
    const ready = engine.ready && !draining;
    const models = Object.fromEntries(engine.status().map((m) => [m.id, m.state]));
    return c.json({ ready, draining, models }, ready ? 200 : 503, noStore);
  });

  // Idempotent: starts loading what is not loaded yet and says whether everything is ready.
  app.post('/warmup', (c) => {
    if (engine.ready) return c.json({ ready: true }, 200, noStore);
    loadAndSeed(engine, admission).catch((error: unknown) => logger.error({ error }, 'warm-up load failed'));
    return c.json({ ready: false }, 202, noStore);
  });

  return app;
}
