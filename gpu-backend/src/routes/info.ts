import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { listSupportedBackends } from 'onnxruntime-node';
import sharp from 'sharp';
import { PIPELINE_VERSION, type ModelsResponse } from '@bgremove/shared';
import type { AppDeps, AppEnv } from '../http/context';

const require = createRequire(import.meta.url);

/** ONNX Runtime's provider names, as its profiler reports them, to ours. */
const PROVIDER_NAMES: Record<string, string> = {
  CPUExecutionProvider: 'cpu',
  WebGpuExecutionProvider: 'webgpu',
  CUDAExecutionProvider: 'cuda',
};
const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;

/** Models, diagnostics and Prometheus metrics. */
export function infoRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, registry, metrics, admission } = deps;
  const app = new Hono<AppEnv>();
  const versions = {
    node: process.version,
    pipeline: PIPELINE_VERSION,
    'onnxruntime-node': versionOf('onnxruntime-node'),
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
  };

  // The shared contract (what the edge reads), with every other status field on top.
  app.get('/v1/models', (c) =>
    c.json({ default: registry.defaultModelId, models: registry.status() } satisfies ModelsResponse, 200, {
      'cache-control': 'no-store',
    }),
  );

  app.get('/v1/diagnostics', (c) =>
    c.json(
      {
        versions,
        providers: {
          requested: config.ORT_PROVIDERS,
          // What actually ran the nodes of the warm-up run (ORT's profiler), per model: a provider
          // that fails to load fails the model, and nodes a GPU provider cannot take show up here.
          inUse: [
            ...new Set(
              registry
                .status()
                .flatMap((m) => Object.keys(m.placement?.nodesByProvider ?? {}))
                .map((ep) => PROVIDER_NAMES[ep] ?? ep),
            ),
          ],
          everyNodeOnFirstProvider: Object.fromEntries(
            registry.status().map((m) => {
              const placed = Object.keys(m.placement?.nodesByProvider ?? {}).map(
                (ep) => PROVIDER_NAMES[ep] ?? ep,
              );
              return [m.id, placed.length === 1 && placed[0] === config.ORT_PROVIDERS[0]];
            }),
          ),
          available: listSupportedBackends(),
          intraOpThreads: config.ORT_INTRA_OP_THREADS,
          sessionsPerModel: config.SESSIONS_PER_MODEL,
        },
        models: registry.status(),
        limits: {
          maxBodyBytes: config.MAX_BODY_BYTES,
          maxInputPixels: config.MAX_INPUT_PIXELS,
          maxConcurrency: config.MAX_CONCURRENCY,
          maxQueue: config.MAX_QUEUE,
          requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        },
        queue: { running: admission.running, waiting: admission.waiting, atSessions: registry.queued },
        auth: { signatureRequired: config.BACKEND_SHARED_SECRET !== undefined },
        process: {
          uptimeSeconds: process.uptime(),
          rssBytes: process.memoryUsage().rss,
          readyAtMs: Math.max(0, ...registry.status().map((m) => m.coldStart?.readyAtMs ?? 0)),
        },
      },
      200,
      { 'cache-control': 'no-store' },
    ),
  );

  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, {
      'content-type': metrics.registry.contentType,
      'cache-control': 'no-store',
    }),
  );

  return app;
}
