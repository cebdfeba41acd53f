import { Writable } from 'node:stream';
import { Admission } from '../../src/admission';
import { createApp } from '../../src/app';
import { parseConfig, type BackendConfig } from '../../src/config';
import { ModelRegistry } from '../../src/models/registry';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { ModelManifest } from '@bgremove/shared';

export interface TestBackend {
  app: ReturnType<typeof createApp>;
  registry: ModelRegistry;
  admission: Admission;
  config: BackendConfig;
  metrics: ReturnType<typeof createMetrics>;
  /** Parsed JSON log lines written so far. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The real app with the real registry (real weights from MODELS_DIR, default models/weights as
 * `npm run models` installs them), in process: requests go through app.request(), no socket.
 */
export async function createTestBackend(
  env: Record<string, string> = {},
  options: { load?: boolean; manifest?: ModelManifest } = {},
): Promise<TestBackend> {
  const config = parseConfig(
    { MODELS_DIR: process.env.MODELS_DIR, ...env, LOG_LEVEL: 'info' },
    options.manifest,
  );
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger('info', sink);
  const metrics = createMetrics();
  const registry = new ModelRegistry({ config, logger, metrics, retryDelayMs: () => 10 });
  const admission = new Admission({
    concurrency: config.MAX_CONCURRENCY,
    maxQueue: config.MAX_QUEUE,
    metrics,
  });
  const app = createApp({ config, registry, admission, metrics, logger });
  if (options.load !== false) await registry.loadAll();
  return { app, registry, admission, config, metrics, logs, close: () => registry.close() };
}

/** Reads a counter's value from the Prometheus text. */
export async function counterValue(backend: TestBackend, name: string, labels: string): Promise<number> {
  const text = await backend.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
