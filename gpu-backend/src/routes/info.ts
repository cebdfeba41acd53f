import { Hono } from 'hono';
import sharp from 'sharp';
import { PIPELINE_VERSION, type ModelsResponse } from '@bgremove/shared';
import type { AppDeps, AppEnv } from '../http/context';
import { residentBytesOf } from '../observability/process-memory';

/** Models, diagnostics and Prometheus metrics. */
export function infoRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, engine, metrics, admission } = deps;
  const app = new Hono<AppEnv>();
  const versions = {
    node: process.version,
    pipeline: PIPELINE_VERSION,
    'onnxruntime-node': engine.runtime().version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
  };

  // The shared contract (what the edge reads), with every other status field on top.
  app.get('/v1/models', (c) =>
    c.json({ default: engine.defaultModelId, models: engine.status() } satisfies ModelsResponse, 200, {
      'cache-control': 'no-store',
    }),
  );

  app.get('/v1/diagnostics', async (c) => {
    // Each session process's RSS (the model's memory is there, not in this process).
    const sessions = engine.sessions?.() ?? {};
    const processes = Object.values(sessions).flatMap((s) => s.processes);
    await Promise.all(
      processes.map(async (p) => {
        const rss = p.pid === undefined ? undefined : await residentBytesOf(p.pid);
        if (rss !== undefined) p.rssBytes = rss;
      }),
    );
    const rssBytes = process.memoryUsage().rss;
    const sessionsRssBytes = processes.reduce((sum, p) => sum + (p.rssBytes ?? 0), 0);
    return c.json(
      {
        versions,
        providers: {
          // What actually ran the nodes of the warm-up run (ORT's profiler), per model: a provider
          // that fails to load fails the model, and nodes a GPU provider cannot take show up here.
          ...engine.runtime().providers,
          intraOpThreads: config.ORT_INTRA_OP_THREADS,
          sessionsPerModel: config.SESSIONS_PER_MODEL,
        },
        models: engine.status(),
        // Each model's session processes: pid, RSS, busy/idle, or waiting out a crash back-off.
        sessions,
        limits: {
          maxBodyBytes: config.MAX_BODY_BYTES,
          maxInputPixels: config.MAX_INPUT_PIXELS,
          maxConcurrency: config.MAX_CONCURRENCY,
          maxQueue: config.MAX_QUEUE,
          requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        },
        queue: {
          running: admission.running,
          waiting: admission.waiting,
          atSessions: engine.queued,
          // How long the queue expects a request to take (deadline admission), and its seed.
          ...admission.estimate(),
        },
        auth: { signatureRequired: config.BACKEND_SHARED_SECRET !== undefined },
        process: {
          uptimeSeconds: process.uptime(),
          // This process; its session processes; both (what the instance's memory limit sees).
          rssBytes,
          sessionsRssBytes,
          totalRssBytes: rssBytes + sessionsRssBytes,
          readyAtMs: Math.max(0, ...engine.status().map((m) => m.coldStart?.readyAtMs ?? 0)),
        },
      },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, {
      'content-type': metrics.registry.contentType,
      'cache-control': 'no-store',
    }),
  );

  return app;
}
