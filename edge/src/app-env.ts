import type { EdgeConfig } from './config';

/** Hono's generics for this app: the bindings and what middleware puts on the context. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: EdgeConfig;
    /** Date.now() when the request arrived, for Server-Timing. */
    startedAt: number;
    /** Set when the request came in through the Shopify App Proxy with a valid signature. */
    appProxy?: { shop: string; prefix: string };
  };
}
