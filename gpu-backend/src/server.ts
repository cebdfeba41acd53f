/**
 * Process entry: parse config, check providers and weights, listen at once (so /healthz answers
 * and /readyz says 503 while models load), load and warm the models, drain on SIGTERM.
 */
import { Admission, loadAndSeed } from './admission';
import { createApp } from './app';
import { ConfigError, parseConfig } from './config';
import { listen } from './http/server';
import { assertProvidersAvailable } from './inference/providers';
import type { Engine } from './models/engine';
import { ModelRegistry } from './models/registry';
import { createLogger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { configureSharp } from './pipeline/image-io';
import { availableParallelism } from 'node:os';
import { closePixelPool } from './matte/pixel-pool';

function fail(message: string, error?: unknown): never {
  // One JSON line Cloud Logging understands, then a non-zero exit so the platform sees the failure.
  process.stderr.write(
    `${JSON.stringify({ severity: 'CRITICAL', message, error: error instanceof Error ? error.message : undefined })}\n`,
  );
  process.exit(1);
}

function main(): void {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : 'invalid configuration', error);
  }
  const logger = createLogger(config.LOG_LEVEL);
  configureSharp(availableParallelism());
  const metrics = createMetrics();
  let engine: Engine;
  try {
    assertProvidersAvailable(config.ORT_PROVIDERS);
    engine = new ModelRegistry({ config, logger, metrics });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), error);
  }
  const admission = new Admission({
    concurrency: config.MAX_CONCURRENCY,
    maxQueue: config.MAX_QUEUE,
    metrics,
  });
  let draining = false;
  const app = createApp({ config, engine, admission, metrics, logger, draining: () => draining });

  const server = listen({
    fetch: app.fetch,
    config,
    logger,
    onListening: (port) =>
      logger.info(
        {
          port,
          models: config.MODELS,
          providers: config.ORT_PROVIDERS,
          startupMs: performance.now(),
        },
        `listening on ${config.HOST}:${port}; loading models`,
      ),
  });

  loadAndSeed(engine, admission).then(
    () => logger.info({ readyAtMs: Math.round(performance.now()), admission: admission.estimate() }, 'ready'),
    (error: unknown) => {
      logger.fatal({ error }, 'models failed to load; exiting');
      process.exit(1);
    },
  );

  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info({ signal }, 'draining: refusing new connections, finishing in-flight work');
    server.close();
    const grace = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), config.SHUTDOWN_GRACE_MS),
    );
    const outcome = await Promise.race([admission.onIdle().then(() => 'drained' as const), grace]);
    logger.info({ outcome }, 'shutting down');
    await engine.close().catch(() => {});
    await closePixelPool().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main();
