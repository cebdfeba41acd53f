import { Writable } from 'node:stream';
import { Admission } from '../../src/admission';
import { createApp } from '../../src/app';
import { parseConfig, type BackendConfig } from '../../src/config';
import type { Engine } from '../../src/models/engine';
import { ModelRegistry } from '../../src/models/registry';
import { createLogger, type Logger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import type { ModelManifest } from '@bgremove/shared';
import { FakeEngine, type FakeEngineOptions } from './fake-engine';

export interface AppUnderTest<E extends Engine = Engine> {
  app: ReturnType<typeof createApp>;
  engine: E;
  admission: Admission;
  config: BackendConfig;
  metrics: ReturnType<typeof createMetrics>;
  /** Parsed JSON log lines written so far. */
  logs: Record<string, unknown>[];
  logger: Logger;
  close(): Promise<void>;
}

export interface TestBackend extends AppUnderTest<ModelRegistry> {
  registry: ModelRegistry;
}

function build<E extends Engine>(
  env: Record<string, string | undefined>,
  manifest: ModelManifest | undefined,
  makeEngine: (deps: { config: BackendConfig; logger: Logger; metrics: Metrics }) => E,
): AppUnderTest<E> {
  const config = parseConfig({ ...env, LOG_LEVEL: 'info' }, manifest);
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
  const engine = makeEngine({ config, logger, metrics });
  const admission = new Admission({
    concurrency: config.MAX_CONCURRENCY,
    maxQueue: config.MAX_QUEUE,
    metrics,
  });
  const app = createApp({ config, engine, admission, metrics, logger });
  return { app, engine, admission, config, metrics, logs, logger, close: () => engine.close() };
}

/**
 * The real app with the real registry (real weights from MODELS_DIR, default models/weights as
 * `npm run models` installs them), in process: requests go through app.request(), no socket.
 */
export async function createTestBackend(
  env: Record<string, string> = {},
  options: { load?: boolean; manifest?: ModelManifest } = {},
): Promise<TestBackend> {
  const built = build({ MODELS_DIR: process.env.MODELS_DIR, ...env }, options.manifest, (deps) => {
    return new ModelRegistry({ ...deps, retryDelayMs: () => 10 });
  });
  if (options.load !== false) await built.engine.loadAll();
  return { ...built, registry: built.engine };
}

/**
 * The real app in front of a FakeEngine: every route, the real decode and encode, no weights.
 * For what the HTTP layer does (validation, bad inputs, queue, deadline, readiness, signatures,
 * metrics); what the model answers is tested with the real registry.
 */
export async function createFakeBackend(
  env: Record<string, string> = {},
  options: { load?: boolean } & Omit<FakeEngineOptions, 'config' | 'metrics'> = {},
): Promise<AppUnderTest<FakeEngine>> {
  const { load, ...fake } = options;
  const built = build(env, undefined, (deps) => new FakeEngine({ ...deps, ...fake }));
  if (load !== false) await built.engine.loadAll();
  return built;
}

/** Reads a counter's value from the Prometheus text. */
export async function counterValue(
  backend: Pick<AppUnderTest, 'metrics'>,
  name: string,
  labels: string,
): Promise<number> {
  const text = await backend.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
