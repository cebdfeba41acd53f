import { createRoute, type RouteHandler } from '@hono/zod-openapi';
import { modelsResponseSchema, type ModelsResponse } from '@bgremove/shared';
import type { AppEnv } from '../app-env';
import { backendFetch } from '../backend-fetch';
import type { EdgeConfig } from '../config';

const STATUS_TIMEOUT_MS = 3_000;

export interface BackendStatus {
  reachable: boolean;
  ready: boolean;
  models: ModelsResponse['models'] | null;
  checked_at: string;
}

let cached: { at: number; status: BackendStatus } | undefined;

async function probeBackend(config: EdgeConfig): Promise<BackendStatus> {
  const checkedAt = new Date().toISOString();
  try {
    const [ready, models] = await Promise.all([
      backendFetch(config, { method: 'GET', pathAndQuery: '/readyz', timeoutMs: STATUS_TIMEOUT_MS }),
      backendFetch(config, { method: 'GET', pathAndQuery: '/v1/models', timeoutMs: STATUS_TIMEOUT_MS }),
    ]);
    await ready.body?.cancel();
    const parsed = models.ok ? modelsResponseSchema.safeParse(await models.json()) : undefined;
    if (!models.ok) await models.body?.cancel();
    return {
      reachable: true,
      ready: ready.ok,
      models: parsed?.success ? parsed.data.models : null,
      checked_at: checkedAt,
    };
  } catch (error) {
    console.warn(JSON.stringify({ event: 'status_probe_failed', error: String(error) }));
    return { reachable: false, ready: false, models: null, checked_at: checkedAt };
  }
}

export const statusRoute = createRoute({
  method: 'get',
  path: '/v1/status',
  summary: 'Edge models, backend readiness and models (cached for a few seconds).',
  responses: { 200: { description: 'Status.' } },
});

/**
 * GET /v1/status — the edge's models, and the backend's readiness and models, probed at most once
 * per STATUS_CACHE_SECONDS per isolate. Always 200: `backend.ready` says whether uploads will work now.
 */
export const status: RouteHandler<typeof statusRoute, AppEnv> = async (c) => {
  const config = c.get('config');
  const now = Date.now();
  if (!cached || now - cached.at >= config.statusCacheSeconds * 1000) {
    cached = { at: now, status: await probeBackend(config) };
  }
  const served = [...config.models.values()].map((model) => ({
    id: model.id,
    description: model.description,
    sha256: model.sha256,
    // Ready only with the pinned weights: results from others would not match their keys.
    backend_ready: Boolean(
      cached?.status.models?.some((m) => m.id === model.id && m.ready && m.sha256 === model.sha256),
    ),
  }));
  c.header('cache-control', 'no-store');
  return c.json({
    edge: { ok: true, default_model: config.defaultModel, models: served },
    backend: cached.status,
  });
};
