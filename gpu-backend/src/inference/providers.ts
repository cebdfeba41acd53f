import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { listSupportedBackends } from 'onnxruntime-node';

type ProviderConfig = InferenceSession.ExecutionProviderConfig;

/** The execution providers ORT_PROVIDERS may name, in our words. */
export const PROVIDERS = ['cpu', 'webgpu', 'cuda'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** ONNX Runtime's provider names, as its profiler reports them, to ours. */
const ORT_PROVIDER_NAMES: Record<string, ProviderName> = {
  CPUExecutionProvider: 'cpu',
  WebGpuExecutionProvider: 'webgpu',
  CUDAExecutionProvider: 'cuda',
};

/** Our name for an ONNX Runtime execution provider (its own name when we have none). */
export function providerNameOf(executionProvider: string): string {
  return ORT_PROVIDER_NAMES[executionProvider] ?? executionProvider;
}

/** The inference runtime: its package version and the execution providers this build has. */
export function runtimeInfo(): { version: string; available: ReturnType<typeof listSupportedBackends> } {
  const require = createRequire(import.meta.url);
  const { version } = require('onnxruntime-node/package.json') as { version: string };
  return { version, available: listSupportedBackends() };
}

/** The one place that maps our provider names to ONNX Runtime execution providers. */
export function executionProviders(names: readonly ProviderName[]): ProviderConfig[] {
  return names.map((name): ProviderConfig => {
    switch (name) {
      case 'cpu':
        return 'cpu';
      case 'webgpu':
        return { name: 'webgpu' };
      case 'cuda':
        return { name: 'cuda', deviceId: 0 };
    }
  });
}

function cudaProviderInstalled(): boolean {
  const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return existsSync(
    join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
  );
}

/**
 * Refuse, before any model loads, a provider this onnxruntime-node build does not have. There is
 * no silent fallback to CPU: asking for a GPU and not getting one stops the process.
 */
export function assertProvidersAvailable(names: readonly ProviderName[]): void {
  const backends = listSupportedBackends();
  for (const name of names) {
    if (name === 'cpu') continue;
    const backend = backends.find((b) => b.name === name);
    const available =
      name === 'cuda'
        ? backend !== undefined && (backend.bundled || cudaProviderInstalled())
        : backend?.bundled;
    if (!available) {
      const have = backends
        .filter((b) => b.bundled || (b.name === 'cuda' && cudaProviderInstalled()))
        .map((b) => b.name)
        .join(', ');
      const hint =
        name === 'cuda'
          ? ' (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12, as Dockerfile.gpu does)'
          : '';
      throw new Error(
        `ORT_PROVIDERS asks for "${name}", which this onnxruntime-node cannot load${hint}; available: ${have}`,
      );
    }
  }
}
