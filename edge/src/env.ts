import type { ResultCoalescer } from './coalescer';

/**
 * The Worker's bindings: what `wrangler types` generates from wrangler.toml (worker-configuration.d.ts),
 * plus the secrets (never in wrangler.toml) and the Durable Object namespace typed for RPC.
 */
export type EdgeEnv = Omit<Env, 'COALESCER' | 'RATE_LIMITER' | 'RATE_LIMITER_IP'> & {
  COALESCER: DurableObjectNamespace<ResultCoalescer>;
  /** Optional: without it no per-client limit is applied (logged once). */
  RATE_LIMITER?: RateLimit;
  /** Optional: a per-IP cap across shops (a higher limit than RATE_LIMITER). */
  RATE_LIMITER_IP?: RateLimit;
  BACKEND_SHARED_SECRET?: string;
  GCP_SERVICE_ACCOUNT_KEY?: string;
};
