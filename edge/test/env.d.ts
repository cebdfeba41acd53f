// Test-only bindings set in vitest.config.ts.
declare namespace Cloudflare {
  interface Env {
    TEST_CONTROL_URL: string;
    TEST_SECRET: string;
    ADMIN_TOKEN: string;
    /** The repo's D1 migrations (readD1Migrations), as applyD1Migrations takes them. */
    TEST_MIGRATIONS: { name: string; queries: string[] }[];
  }
}
