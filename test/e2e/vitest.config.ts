import { defineConfig } from 'vitest/config';

/**
 * One stack for all files (global-setup.ts: the real backend and the edge in wrangler dev), so
 * files run one at a time; the model runs on CPU, so timeouts are generous.
 */
export default defineConfig({
  test: {
    include: ['*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
