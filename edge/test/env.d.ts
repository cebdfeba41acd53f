// Test-only bindings set in vitest.config.ts.
declare namespace Cloudflare {
  interface Env {
    TEST_CONTROL_URL: string;
    TEST_SECRET: string;
  }
}
