import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ForegroundRequest } from './foreground';
import type { PixelTask } from './pixel-worker';
import type { RefineRequest, RefineResult } from './refine';

// From source (tests, tsx) the worker is TypeScript and needs tsx's loader; from the bundle in
// dist/ it sits next to server.js.
const fromSource = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(fromSource ? './pixel-worker.ts' : './pixel-worker.js', import.meta.url);

let pool: Piscina<PixelTask, RefineResult | Uint8Array> | undefined;

/**
 * One process-wide pool of worker threads for per-pixel work (refinement, colour estimation):
 * up to one thread per core (at most 4), started on first use; one stays (unreferenced, so it never
 * keeps a process alive), the others stop after a minute idle.
 */
function pixelPool(): Piscina<PixelTask, RefineResult | Uint8Array> {
  pool ??= new Piscina({
    filename: WORKER_URL.href,
    minThreads: 1,
    maxThreads: Math.max(1, Math.min(4, availableParallelism())),
    idleTimeout: 60_000,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  });
  return pool;
}

export function refineOnPool(request: RefineRequest): Promise<RefineResult> {
  return pixelPool().run({ kind: 'refine', ...request }) as Promise<RefineResult>;
}

export function foregroundOnPool(request: ForegroundRequest): Promise<Uint8Array> {
  return pixelPool().run({ kind: 'foreground', ...request }) as Promise<Uint8Array>;
}

/** Stops the pool's threads (on shutdown); a later task starts a new pool. */
export async function closePixelPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  if (current) await current.destroy();
}
