import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LIMITS,
  envInt as int,
  envList,
  findModel,
  MODEL_MANIFEST,
  parseVars,
  type ModelManifest,
} from '@bgremove/shared';
import { z } from 'zod';
import { PROVIDERS } from './inference/providers';
import { MEMORY_PROFILES } from './inference/session-options';

/** Where `npm run models` installs weights when MODELS_DIR is not set. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/weights', import.meta.url));

/**
 * Every environment variable the backend reads, with its default. Parsed once at start; a bad
 * value stops the process with a message naming the variable. Documented in the README.
 */
export const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  MODELS_DIR: z.string().default(DEFAULT_MODELS_DIR),
  /** Models to load and serve, comma-separated; the first is the default. */
  MODELS: envList.pipe(z.array(z.string()).min(1)).default([MODEL_MANIFEST.default]),
  ORT_PROVIDERS: envList.pipe(z.array(z.enum(PROVIDERS)).min(1)).default(['cpu']),
  /** Intra-op threads per ONNX session; 0 = one per core. */
  ORT_INTRA_OP_THREADS: int(0, 1024).default(0),
  /** ONNX Runtime memory/speed trade-off on the CPU: fast, balanced or lean. */
  ORT_MEMORY_PROFILE: z.enum(MEMORY_PROFILES).default('balanced'),
  /** Sessions (child processes, one ONNX session each) per model; more than 1 only pays on a GPU. */
  SESSIONS_PER_MODEL: int(1, 16).default(1),
  BACKEND_SHARED_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  MAX_BODY_BYTES: int(1024, 512 * 1024 * 1024).default(DEFAULT_LIMITS.maxBodyBytes),
  MAX_INPUT_PIXELS: int(1, 1_000_000_000).default(DEFAULT_LIMITS.maxInputPixels),
  /** Requests processed at once (decode, inference, encode overlap across them). */
  MAX_CONCURRENCY: int(1, 256).default(2),
  /** Requests allowed to wait; beyond this, 503 overloaded. */
  MAX_QUEUE: int(0, 10_000).default(16),
  REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(120_000),
  /** A client must send its request headers within this (408 otherwise, connection closed). */
  HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** ... and the whole request, body included, within this (a client trickling bytes: 408). */
  UPLOAD_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  /** Cloud Run kills an instance 10 s after SIGTERM: finish in-flight work within that. */
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(8_000),
  /** Attempts to load each model before the process gives up. */
  MODEL_LOAD_ATTEMPTS: int(1, 100).default(3),
  PNG_COMPRESSION_LEVEL: int(0, 9).default(3),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
});

export type BackendConfig = Readonly<
  Omit<z.infer<typeof envSchema>, 'ORT_INTRA_OP_THREADS'> & {
    ORT_INTRA_OP_THREADS: number;
    manifest: ModelManifest;
  }
>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse the environment (or any record, for tests) into a frozen config, or throw ConfigError. */
export function parseConfig(
  env: Record<string, string | undefined>,
  manifest: ModelManifest = MODEL_MANIFEST,
): BackendConfig {
  const parsed = parseVars(envSchema, env);
  if (!parsed.ok) {
    throw new ConfigError(`invalid configuration:\n${parsed.issues.map((line) => `  ${line}`).join('\n')}`);
  }
  const config = parsed.vars;
  for (const id of config.MODELS) {
    const spec = findModel(id, manifest);
    if (!spec) {
      throw new ConfigError(
        `MODELS: unknown model "${id}"; the manifest has: ${manifest.models.map((m) => m.id).join(', ')}`,
      );
    }
    if (spec.sha256 === null) {
      throw new ConfigError(
        `MODELS: model "${id}" has no pinned sha256 in models/manifest.json; pin it (npm run models prints it) to serve it`,
      );
    }
  }
  const threads = config.ORT_INTRA_OP_THREADS || availableParallelism();
  return Object.freeze({ ...config, ORT_INTRA_OP_THREADS: threads, manifest });
}

/**
 * The config of a command-line tool (the CLI, the eval harness): the environment, with the model,
 * providers and weights folder its flags give, and quiet logs unless LOG_LEVEL says otherwise.
 */
export function toolConfig(flags: {
  model: string;
  providers: string;
  modelsDir?: string | undefined;
}): BackendConfig {
  return parseConfig({
    ...process.env,
    MODELS: flags.model,
    ORT_PROVIDERS: flags.providers,
    ...(flags.modelsDir && { MODELS_DIR: flags.modelsDir }),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
}
