import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Every test file starts with the repo's migrations applied to the local D1 (idempotent).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
