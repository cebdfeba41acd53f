import type { Context } from 'hono';
import type { AppEnv } from '../app-env';

/** GET /healthz — the Worker is up and its config parses; says nothing about the backend. */
export function healthRoute(c: Context<AppEnv>): Response {
  c.header('cache-control', 'no-store');
  return c.json({ ok: true });
}
