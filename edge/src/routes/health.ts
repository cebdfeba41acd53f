import { createRoute, type RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env';

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Edge liveness.',
  responses: { 200: { description: 'Alive.' } },
});

/** GET /healthz — the Worker is up and its config parses; says nothing about the backend. */
export const health: RouteHandler<typeof healthRoute, AppEnv> = (c) => {
  c.header('cache-control', 'no-store');
  return c.json({ ok: true });
};
