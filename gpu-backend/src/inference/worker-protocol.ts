import type { ModelSpec } from '@bgremove/shared';
import type { ProviderName } from './providers';
import type { MemoryProfile } from './session-options';

/** What each session process is started with (its one command-line argument, as JSON). */
export interface SessionWorkerData {
  modelPath: string;
  spec: ModelSpec;
  providers: ProviderName[];
  intraOpThreads: number;
  memoryProfile: MemoryProfile;
}

export interface LoadTask {
  kind: 'load';
}

/**
 * One image: interleaved 8-bit RGB at the model's input size. Sent to the session process over
 * its IPC channel with V8 serialization, so the bytes are copied as bytes (3 MB at 1024²; the
 * cost is in docs/PERFORMANCE.md) and the caller keeps its buffer.
 */
export interface RunTask {
  kind: 'run';
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** After the warm-up run: where ONNX Runtime placed the graph's nodes (from its profiler). */
export interface PlacementTask {
  kind: 'placement';
}

export type SessionTask = LoadTask | RunTask | PlacementTask;

export interface NodePlacement {
  kind: 'placement';
  /** Distinct graph nodes that ran, per execution provider (e.g. CPUExecutionProvider: 475). */
  nodesByProvider: Record<string, number>;
  /** Why the placement is unknown, when it is. */
  unavailable?: string;
}

export interface LoadedInfo {
  kind: 'loaded';
  sha256: string;
  bytes: number;
  inputName: string;
  outputName: string;
  inputNames: string[];
  outputNames: string[];
  providers: ProviderName[];
  /** Milliseconds: reading the file, hashing it, creating the session. Zero when already loaded. */
  timings: { readMs: number; hashMs: number; createMs: number };
}

export interface RunResult {
  kind: 'ran';
  /** 8-bit matte at the model's input size. */
  matte: Uint8Array;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

export type SessionResult = LoadedInfo | RunResult | NodePlacement;

/** Parent → session process: one task at a time, numbered. */
export interface SessionRequest {
  id: number;
  task: SessionTask;
}

/**
 * Session process → parent: `ready` once it listens for tasks (sent before any task, which the
 * parent holds back until then), then the answer to each request `id`.
 */
export type SessionReply =
  | { ready: true }
  | { id: number; ok: true; result: SessionResult }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

/** One session process as /v1/diagnostics shows it. */
export interface SessionProcessStatus {
  /** The child's pid; absent while a replacement waits to start. */
  pid?: number;
  state: 'idle' | 'busy' | 'restarting';
  /** Deaths since this process's slot last completed a task (a crash loop while it keeps growing). */
  consecutiveDeaths: number;
  /** Milliseconds until the replacement starts, while it waits out the back-off. */
  restartInMs?: number;
  /** Its resident set (GET /v1/diagnostics reads it from /proc, on Linux). */
  rssBytes?: number;
}
