import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import './test/image-server-context';

// wrangler/miniflare would otherwise try the network (TOOLCHAIN.md).
process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
process.env.WRANGLER_HIDE_BANNER ??= 'true';

const TEST_SECRET = 'test-shared-secret-0123456789';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
// The repo's D1 migrations, applied to the local database by test/apply-migrations.ts.
const migrations = await readD1Migrations(new URL('./migrations', import.meta.url).pathname);

/**
 * Tests run inside workerd with the real local R2, Cache API, Durable Objects and ratelimits from
 * ../wrangler.toml. The backend is a Node HTTP server on 127.0.0.1 (test/fake-backend.ts) started
 * by the global setup; test files run one at a time because they share it.
 */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: './src/index.ts',
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          BACKEND_URL: `http://127.0.0.1:${inject('backendPort')}`,
          BACKEND_SHARED_SECRET: TEST_SECRET,
          BACKEND_TIMEOUT_MS: '1500',
          BACKEND_RETRY_BUDGET_MS: '1000',
          BACKEND_RETRY_BASE_MS: '50',
          STATUS_CACHE_SECONDS: '0',
          // Off, so that the Cache API and R2 tiers are what the tests see; the memory tier has its own test.
          HOT_CACHE_BYTES: '0',
          CORS_ORIGINS: 'https://shop.example.com,https://*.myshopify.com',
          MODELS: 'isnet-general-use,isnet-general-use-quint8,u2netp',
          WARMUP_TIMEZONE: 'Europe/Berlin',
          WARMUP_DAYS: 'mon-fri',
          WARMUP_HOURS: '07-21',
          TEST_CONTROL_URL: `http://127.0.0.1:${inject('controlPort')}`,
          TEST_SECRET,
          ADMIN_TOKEN,
          TEST_MIGRATIONS: migrations,
          // image_url tests: only the local image server is fetched over http (test/image-server.ts).
          IMAGE_URL_DEV_HOSTS: `127.0.0.1:${inject('imagePort')}`,
          IMAGE_URL_MAX_BYTES: String(1024 * 1024),
          IMAGE_URL_TIMEOUT_MS: '1500',
        },
        ratelimits: {
          RATE_LIMITER: { simple: { limit: 20, period: 60 } },
          RATE_LIMITER_IP: { simple: { limit: 40, period: 60 } },
        },
      },
    })),
  ],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts', './test/token-endpoint-setup.ts', './test/image-server-setup.ts'],
    setupFiles: ['./test/apply-migrations.ts'],
    fileParallelism: false,
    testTimeout: 20_000,
  },
});
