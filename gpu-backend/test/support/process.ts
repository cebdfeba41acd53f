import { fileURLToPath } from 'node:url';
import {
  startServer as startServerIn,
  waitForReady as waitForReadyOf,
  type ServerProcess,
} from '../../../scripts/lib/backend-server';

export type { ServerProcess };
export const BACKEND_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `node dist/server.js` (build first) on a free port and resolves once it listens. */
export const startServer = (env: Record<string, string>, listenTimeoutMs = 30_000): Promise<ServerProcess> =>
  startServerIn({ cwd: BACKEND_DIR, env, listenTimeoutMs });

/** Model load plus warm-up: seconds on a quiet machine, much longer on a loaded one (a deadline, not a timing). */
export const waitForReady = (server: ServerProcess, timeoutMs = 180_000): Promise<number> =>
  waitForReadyOf(server, timeoutMs);
