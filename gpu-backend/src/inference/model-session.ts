import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ModelSpec } from '@bgremove/shared';
import type { ProviderName } from './providers';
import type { MemoryProfile } from './session-options';
import type { LoadedInfo, NodePlacement, RunResult, SessionTask, SessionWorkerData } from './worker-protocol';

export interface ModelSessionOptions {
  spec: ModelSpec;
  modelPath: string;
  providers: ProviderName[];
  intraOpThreads: number;
  memoryProfile: MemoryProfile;
  /** Worker threads, each with its own session. */
  sessions: number;
}

// From source (tests, tsx) the worker is TypeScript and needs tsx's loader; from the bundle in
// dist/ it sits next to server.js.
const fromSource = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(fromSource ? './session-worker.ts' : './session-worker.js', import.meta.url);

/** A task's worker thread died under it (the session is being replaced). */
export class SessionWorkerLost extends Error {
  constructor(cause: unknown) {
    super('the session worker running this task died', { cause });
  }
}

/**
 * One model's ONNX sessions, each on its own worker thread, fed through piscina's queue. A worker
 * that dies (a native crash in a thread, an out-of-memory kill of the thread) is replaced by
 * piscina with a fresh one whose session loads on its first task; `onWorkerLost` is told so the
 * owner can say it is not ready meanwhile, and the task it was running rejects with
 * SessionWorkerLost.
 */
export class ModelSession {
  readonly spec: ModelSpec;
  private readonly pool: Piscina<SessionTask, LoadedInfo | RunResult | NodePlacement>;
  private readonly sessions: number;
  private closing = false;
  private lost = 0;
  private lostListener: ((error?: unknown) => void) | undefined;
  private lastError: unknown;

  constructor(options: ModelSessionOptions) {
    this.spec = options.spec;
    this.sessions = options.sessions;
    const workerData: SessionWorkerData = {
      modelPath: options.modelPath,
      spec: options.spec,
      providers: options.providers,
      intraOpThreads: options.intraOpThreads,
      memoryProfile: options.memoryProfile,
    };
    this.pool = new Piscina({
      filename: WORKER_URL.href,
      workerData,
      minThreads: options.sessions,
      maxThreads: options.sessions,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      // The handler awaits ORT's promise; Atomics.wait between tasks would stall it.
      atomics: 'disabled',
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    });
    this.pool.on('workerDestroy', () => {
      if (this.closing) return;
      this.lost++;
      // piscina destroys the worker before emitting its error: report on the next tick, with it.
      setImmediate(() => {
        this.lostListener?.(this.lastError);
        this.lastError = undefined;
      });
    });
    // An error in an idle worker: piscina emits it on the pool, which would otherwise throw it
    // (an 'error' event with no listener) and end the whole process. The worker is destroyed and
    // replaced (workerDestroy above reports it); the error goes with the report.
    this.pool.on('error', (error: unknown) => {
      this.lastError = error;
    });
  }

  /** Called when a worker dies unexpectedly (it is being replaced). */
  onWorkerLost(listener: (error?: unknown) => void): void {
    this.lostListener = listener;
  }

  /** The worker threads (diagnostics, and tests that need a thread to die). */
  get threads(): readonly Worker[] {
    return this.pool.threads;
  }

  /** Loads (or confirms) the session on every worker; rejects with the load error, which is not cached. */
  async load(): Promise<LoadedInfo> {
    const results = await Promise.all(
      Array.from({ length: this.sessions }, () => this.pool.run({ kind: 'load' }) as Promise<LoadedInfo>),
    );
    return results[0]!;
  }

  async run(rgb: Uint8Array, width: number, height: number): Promise<RunResult> {
    const lostBefore = this.lost;
    try {
      return (await this.pool.run({ kind: 'run', rgb, width, height })) as RunResult;
    } catch (error) {
      if (this.lost > lostBefore) throw new SessionWorkerLost(error);
      throw error;
    }
  }

  /** Where the first session placed the graph's nodes (call after a run). */
  placement(): Promise<NodePlacement> {
    return this.pool.run({ kind: 'placement' }) as Promise<NodePlacement>;
  }

  /** Tasks waiting for a free session. */
  get queued(): number {
    return this.pool.queueSize;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool.close({ force: false });
    await this.pool.destroy();
  }
}
