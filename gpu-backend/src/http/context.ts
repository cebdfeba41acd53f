import type { Admission } from '../admission';
import type { BackendConfig } from '../config';
import type { Engine } from '../models/engine';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** Everything the app needs, passed in: the app never reads process.env. */
export interface AppDeps {
  config: BackendConfig;
  /** The models: resolve, run, readiness, status (the real ModelRegistry, or a fake in tests). */
  engine: Engine;
  admission: Admission;
  metrics: Metrics;
  logger: Logger;
  /** Set once SIGTERM arrives: readiness turns 503 so no new work is routed here. */
  draining?: () => boolean;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    /** Error code of the answer, for the access log and metrics. */
    outcome?: string;
  };
}
