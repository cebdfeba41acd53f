import { availableParallelism } from 'node:os';
import type { BackendConfig } from './config';
import { assertProvidersAvailable } from './inference/providers';
import { ModelRegistry } from './models/registry';
import { createLogger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { configureSharp } from './pipeline/image-io';

/**
 * The model registry of a command-line tool (the CLI, the eval harness), from `toolConfig`'s
 * config: the providers checked, libvips sized to the machine, logs and metrics of its own.
 */
export function toolRegistry(config: BackendConfig): ModelRegistry {
  assertProvidersAvailable(config.ORT_PROVIDERS);
  configureSharp(availableParallelism());
  return new ModelRegistry({
    config,
    logger: createLogger(config.LOG_LEVEL),
    metrics: createMetrics(),
  });
}
