import {
  DEFAULT_LIMITS,
  envInt as int,
  envList,
  findModel,
  MODEL_MANIFEST,
  modelIdSchema,
  parseVars,
} from '@bgremove/shared';
import { z } from 'zod';
import { parseOriginPatterns, type OriginMatcher } from './origins';
import { parseWarmupWindow, type WarmupWindow } from './warmup-window';

export const DEFAULT_APP_PROXY_PREFIX = '/apps/bgremove';

/**
 * Every var and secret the Worker reads, with its default (documented in edge/README.md).
 * Empty strings count as unset, so a var can be blanked in an environment.
 */
export const envSchema = z.object({
  BACKEND_URL: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL' })
    .transform((url) => url.replace(/\/+$/, '')),
  BACKEND_SHARED_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  GCP_SERVICE_ACCOUNT_KEY: z.string().optional(),
  MODELS: envList.pipe(z.array(modelIdSchema).min(1)).default([MODEL_MANIFEST.default]),
  DEFAULT_MODEL: modelIdSchema.optional(),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(DEFAULT_LIMITS.maxBodyBytes),
  MAX_INPUT_PIXELS: int(1, 1_000_000_000).default(DEFAULT_LIMITS.maxInputPixels),
  BACKEND_TIMEOUT_MS: int(100, 600_000).default(60_000),
  BACKEND_RETRY_BUDGET_MS: int(0, 300_000).default(20_000),
  BACKEND_RETRY_BASE_MS: int(1, 10_000).default(200),
  STATUS_CACHE_SECONDS: int(0, 3600).default(5),
  COALESCE_LINGER_MS: int(0, 120_000).default(10_000),
  HOT_CACHE_BYTES: int(0, 64 * 1024 * 1024).default(16 * 1024 * 1024),
  CORS_ORIGINS: z.string().default(''),
  RATE_LIMIT_RETRY_AFTER_SECONDS: int(1, 3600).default(60),
  WARMUP_TIMEZONE: z.string().default('UTC'),
  WARMUP_DAYS: z.string().default('mon-fri'),
  WARMUP_HOURS: z.string().default('08-20'),
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** Shopify App Proxy path on this Worker (the app's proxy URL path); see routes/app-proxy.ts. */
  APP_PROXY_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a path like /apps/bgremove (no trailing slash)')
    .default(DEFAULT_APP_PROXY_PREFIX),
  SHOPIFY_APP_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Bearer token of the admin API (routes/admin.ts); unset: the admin API is off. */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** remove.bg's image_url / bg_image_url downloads (removebg/fetch-image.ts). */
  IMAGE_URL_TIMEOUT_MS: int(100, 120_000).default(15_000),
  /** Unset: MAX_BODY_BYTES. */
  IMAGE_URL_MAX_BYTES: int(1024, 100 * 1024 * 1024).optional(),
  /** Development and tests only: host:port list fetched over http and without the public-host check. */
  IMAGE_URL_DEV_HOSTS: envList
    .pipe(z.array(z.string().regex(/^[a-z0-9.-]+:\d{1,5}$|^\[[0-9a-f:.]+\]:\d{1,5}$/i, 'host:port')))
    .default([]),
});

export interface ServedModel {
  id: string;
  /** Pinned weights checksum from the manifest: part of every result key. */
  sha256: string;
  /** One line from the manifest: what the model is good for (the page's model picker shows it). */
  description: string;
}

export interface EdgeConfig {
  backendUrl: string;
  sharedSecret: string | undefined;
  serviceAccountKey: string | undefined;
  models: ReadonlyMap<string, ServedModel>;
  defaultModel: string;
  maxBodyBytes: number;
  maxInputPixels: number;
  backendTimeoutMs: number;
  retryBudgetMs: number;
  retryBaseMs: number;
  statusCacheSeconds: number;
  coalesceLingerMs: number;
  hotCacheBytes: number;
  corsOrigins: OriginMatcher;
  rateLimitRetryAfterSeconds: number;
  warmup: WarmupWindow | null;
  publicBaseUrl: string | undefined;
  appProxyPrefix: string;
  /** Unset: requests under appProxyPrefix are refused (the proxy is off). */
  shopifyAppSecret: string | undefined;
  /** Unset: the admin API (/admin/v1) refuses everything. */
  adminToken: string | undefined;
  imageUrl: { timeoutMs: number; maxBytes: number; devHosts: ReadonlySet<string> };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function servedModels(ids: string[]): Map<string, ServedModel> {
  const models = new Map<string, ServedModel>();
  for (const id of ids) {
    const spec = findModel(id);
    if (!spec) throw new ConfigError(`MODELS: "${id}" is not in the model manifest`);
    if (!spec.sha256) throw new ConfigError(`MODELS: "${id}" has no pinned sha256 in the manifest`);
    models.set(id, { id, sha256: spec.sha256, description: spec.description });
  }
  return models;
}

/** Parses the Worker env into a frozen config, or throws ConfigError naming every bad var. */
export function parseConfig(env: object): EdgeConfig {
  const parsed = parseVars(envSchema, env);
  if (!parsed.ok) throw new ConfigError(`invalid edge configuration: ${parsed.issues.join('; ')}`);
  const e = parsed.vars;
  const models = servedModels(e.MODELS);
  const defaultModel =
    e.DEFAULT_MODEL ?? (models.has(MODEL_MANIFEST.default) ? MODEL_MANIFEST.default : e.MODELS[0]!);
  if (!models.has(defaultModel)) {
    throw new ConfigError(`DEFAULT_MODEL: "${defaultModel}" is not one of MODELS (${e.MODELS.join(', ')})`);
  }
  let corsOrigins: OriginMatcher;
  let warmup: WarmupWindow | null;
  try {
    corsOrigins = parseOriginPatterns(e.CORS_ORIGINS);
    warmup = parseWarmupWindow(e.WARMUP_TIMEZONE, e.WARMUP_DAYS, e.WARMUP_HOURS);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return Object.freeze({
    backendUrl: e.BACKEND_URL,
    sharedSecret: e.BACKEND_SHARED_SECRET,
    serviceAccountKey: e.GCP_SERVICE_ACCOUNT_KEY,
    models,
    defaultModel,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    backendTimeoutMs: e.BACKEND_TIMEOUT_MS,
    retryBudgetMs: e.BACKEND_RETRY_BUDGET_MS,
    retryBaseMs: e.BACKEND_RETRY_BASE_MS,
    statusCacheSeconds: e.STATUS_CACHE_SECONDS,
    coalesceLingerMs: e.COALESCE_LINGER_MS,
    hotCacheBytes: e.HOT_CACHE_BYTES,
    corsOrigins,
    rateLimitRetryAfterSeconds: e.RATE_LIMIT_RETRY_AFTER_SECONDS,
    warmup,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    appProxyPrefix: e.APP_PROXY_PREFIX,
    shopifyAppSecret: e.SHOPIFY_APP_SECRET,
    adminToken: e.ADMIN_TOKEN,
    imageUrl: {
      timeoutMs: e.IMAGE_URL_TIMEOUT_MS,
      maxBytes: e.IMAGE_URL_MAX_BYTES ?? e.MAX_BODY_BYTES,
      devHosts: new Set(e.IMAGE_URL_DEV_HOSTS.map((host) => host.toLowerCase())),
    },
  });
}

const parsedConfigs = new WeakMap<object, EdgeConfig>();

/** The config for this env object, parsed on first use and then reused for the isolate's life. */
export function configFor(env: object): EdgeConfig {
  let config = parsedConfigs.get(env);
  if (!config) {
    config = parseConfig(env);
    parsedConfigs.set(env, config);
  }
  return config;
}
