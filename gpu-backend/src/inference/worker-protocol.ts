import type { ModelSpec } from '@bgremove/shared';
import type { ProviderName } from './providers';
import type { MemoryProfile } from './session-options';

/** What each session worker is started with (piscina workerData). */
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
 * One image: interleaved 8-bit RGB at the model's input size. Posted to the worker by structured
 * clone, so it is copied (3 MB at 1024², about a millisecond) and the caller keeps its buffer.
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
