import type { ModelSpec } from '@bgremove/shared';
import type {
  LoadedInfo,
  NodePlacement,
  RunResult,
  SessionProcessStatus,
} from '../inference/worker-protocol';

export type ModelState = 'pending' | 'loading' | 'ready' | 'failed';

/** One model's public status (GET /v1/models, /readyz, /v1/diagnostics). */
export interface ModelStatus {
  id: string;
  family: ModelSpec['family'];
  description: string;
  file: string;
  sha256: string | null;
  input: { width: number; height: number; resize: string };
  state: ModelState;
  loaded: boolean;
  ready: boolean;
  error?: string;
  /** Milliseconds spent reading, hashing, creating the session and running the warm-up. */
  coldStart?: LoadedInfo['timings'] & { warmupMs: number; readyAtMs: number };
  graph?: { input: string; output: string; outputs: string[] };
  /** Graph nodes per execution provider, from ONNX Runtime's profiler during the warm-up run. */
  placement?: Omit<NodePlacement, 'kind'>;
}

/** One model's session processes (GET /v1/diagnostics). */
export interface SessionsStatus {
  processes: SessionProcessStatus[];
  /** Processes that died unexpectedly since start (each was replaced). */
  lost: number;
}

/** One model run: the 8-bit matte at the model's input size, and where the time went. */
export type ModelRun = Omit<RunResult, 'kind'>;

/** The inference runtime and the execution providers it uses (GET /v1/diagnostics). */
export interface RuntimeStatus {
  /** The runtime package's version (onnxruntime-node). */
  version: string;
  providers: ProviderStatus;
}

export interface ProviderStatus {
  /** Providers asked for, in order of preference. */
  requested: readonly string[];
  /** Providers that actually ran the graph's nodes during the warm-up runs, over all models. */
  inUse: string[];
  /** Per model: whether every node ran on the first requested provider. */
  everyNodeOnFirstProvider: Record<string, boolean>;
  /** The execution providers this build of the runtime has. */
  available: { name: string; bundled: boolean }[];
}

/**
 * The one seam between the HTTP app / pipeline and the models: resolve a model, run it, say
 * whether everything is ready and report status. ModelRegistry implements it with real ONNX
 * sessions in child processes; tests can put a small fake in its place.
 */
export interface Engine {
  /** The model used when a request names none. */
  readonly defaultModelId: string;
  /** Every configured model is loaded and has run once. */
  readonly ready: boolean;
  /** Images waiting for a free session, over all models. */
  readonly queued: number;
  /** The model to use for a request (the default when `id` is undefined), or the AppError to answer with. */
  resolve(id: string | undefined): ModelSpec;
  /** Runs one interleaved 8-bit RGB image, already at the model's input size, through a ready model. */
  run(id: string, rgb: Uint8Array, width: number, height: number): Promise<ModelRun>;
  /** Starts (or joins) loading and warming every model; rejects when one cannot be loaded. */
  loadAll(): Promise<void>;
  status(): ModelStatus[];
  runtime(): RuntimeStatus;
  /** Per model, its session processes, where there are any. */
  sessions?(): Record<string, SessionsStatus>;
  /** Finishes queued runs and releases the sessions. */
  close(): Promise<void>;
}
