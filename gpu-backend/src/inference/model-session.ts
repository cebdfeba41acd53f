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

/** One model's ONNX sessions, each on its own worker thread, fed through piscina's queue. */
export class ModelSession {
  readonly spec: ModelSpec;
  private readonly pool: Piscina<SessionTask, LoadedInfo | RunResult | NodePlacement>;
  private readonly sessions: number;

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
  }

  /** Loads (or confirms) the session on every worker; rejects with the load error, which is not cached. */
  async load(): Promise<LoadedInfo> {
    const results = await Promise.all(
      Array.from({ length: this.sessions }, () => this.pool.run({ kind: 'load' }) as Promise<LoadedInfo>),
    );
    return results[0]!;
  }

  run(rgb: Uint8Array, width: number, height: number): Promise<RunResult> {
    return this.pool.run({ kind: 'run', rgb, width, height }) as Promise<RunResult>;
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
    await this.pool.close({ force: false });
    await this.pool.destroy();
  }
}
