import { describe, expect, it } from 'vitest';
import { assertProvidersAvailable, executionProviders } from './providers';

describe('execution providers', () => {
  it('maps our names to ONNX Runtime providers', () => {
    expect(executionProviders(['cpu'])).toEqual(['cpu']);
    expect(executionProviders(['webgpu', 'cpu'])).toEqual([{ name: 'webgpu' }, 'cpu']);
    expect(executionProviders(['cuda'])).toEqual([{ name: 'cuda', deviceId: 0 }]);
  });

  it('accepts cpu and refuses a CUDA provider that is not installed, listing what is', () => {
    expect(() => assertProvidersAvailable(['cpu'])).not.toThrow();
    // The npm install here skips the CUDA download (ONNXRUNTIME_NODE_INSTALL=skip), so cuda is absent.
    expect(() => assertProvidersAvailable(['cuda'])).toThrow(
      /"cuda".*ONNXRUNTIME_NODE_INSTALL=cuda12.*available: cpu/,
    );
  });
});
