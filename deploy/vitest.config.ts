import { defineConfig } from 'vitest/config';

// wrangler (deploy:edge dry run) would otherwise try the network (TOOLCHAIN.md).
process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
process.env.WRANGLER_HIDE_BANNER ??= 'true';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The image-contents test copies the checkout's weights: installed once (verified) when missing.
    globalSetup: ['../gpu-backend/test/support/weights.ts'],
    // The image-contents test copies production dependencies and loads the real model on CPU;
    // the wrangler dry run bundles the Worker.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
