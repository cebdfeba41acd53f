import type { InferenceSession } from 'onnxruntime-node';
import { executionProviders, type ProviderName } from './providers';

export const MEMORY_PROFILES = ['fast', 'balanced', 'lean'] as const;
export type MemoryProfile = (typeof MEMORY_PROFILES)[number];

export interface SessionOptionsInput {
  providers: readonly ProviderName[];
  intraOpThreads: number;
  memoryProfile: MemoryProfile;
}

/**
 * The one definition of how sessions are created (the server's workers and the benchmark's floor
 * use it). Memory profiles, peak RSS of the whole server with IS-Net fp16 at 1024² on 2 cores
 * (docs/PERFORMANCE.md):
 * - fast: CPU arena + memory pattern: about 2.6 GB;
 * - balanced: arena without the memory pattern: about 1.7 GB, the same speed once warm;
 * - lean: basic graph optimisations, no arena, no pattern: about 1.2 GB, roughly 45% slower.
 */
export function sessionOptions(input: SessionOptionsInput): InferenceSession.SessionOptions {
  const lean = input.memoryProfile === 'lean';
  return {
    executionProviders: executionProviders(input.providers),
    intraOpNumThreads: input.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: lean ? 'basic' : 'all',
    enableMemPattern: input.memoryProfile === 'fast',
    enableCpuMemArena: !lean,
  };
}
