/**
 * The two services of the local stack as processes: the built backend (node dist/server.js, CPU)
 * and the edge in workerd (wrangler dev), wired by BACKEND_URL and a shared secret. Used by
 * `npm start` (scripts/start.ts) and by the end-to-end tests (test/e2e/).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit, runToCompletion, spawnManaged, StartError, type ManagedProcess } from './processes';
import { pollUntilOk } from './readiness';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BACKEND_DIR = join(REPO_ROOT, 'gpu-backend');
export const WRANGLER = join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');

/** A fresh secret per run: 32 random bytes as hex, never written anywhere but a 0600 temp file. */
export const generateSecret = (): string => randomBytes(32).toString('hex');

/** Keeps wrangler off the network (TOOLCHAIN.md) and quiet about itself. */
export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
} as const;

export interface BackendOptions {
  port: number;
  secret: string;
  /** Extra environment (MODELS, LOG_LEVEL, ...); the parent's environment is passed through. */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
}

/** Starts the built backend (run `buildBackend` first) listening on 127.0.0.1:port. */
export function startBackend(options: BackendOptions): ManagedProcess {
  return spawnManaged('backend', process.execPath, ['--enable-source-maps', 'dist/server.js'], {
    cwd: BACKEND_DIR,
    env: {
      ...process.env,
      ORT_DISABLE_TELEMETRY: '1',
      ...options.env,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      BACKEND_SHARED_SECRET: options.secret,
    },
    onLine: options.onLine,
    // Orphaned, it still gets to drain (SHUTDOWN_GRACE_MS defaults to 8 s).
    orphanGraceMs: 15_000,
  });
}

/**
 * Applies the repo's D1 migrations (edge/migrations/) to the local database under `persistTo`
 * (the same folder `wrangler dev --persist-to` uses); already applied ones are skipped.
 */
export async function applyLocalMigrations(
  persistTo: string,
  onLine?: (line: string) => void,
): Promise<void> {
  await runToCompletion(
    'the D1 migrations (wrangler d1 migrations apply --local)',
    WRANGLER,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo, '--config', 'wrangler.toml'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...WRANGLER_OFFLINE_ENV, FORCE_COLOR: '0', CI: 'true' },
      onLine: onLine ?? (() => {}),
    },
  );
}

export interface EdgeOptions {
  port: number;
  backendUrl: string;
  secret: string;
  /** Where wrangler keeps local R2, KV, Cache and Durable Object state (`--persist-to`). */
  persistTo: string;
  /** Folder for the run's env file (holds the secret; mode 0600, removed by `stop`). */
  runDir: string;
  /** More Worker vars (e.g. BACKEND_RETRY_BUDGET_MS for tests). */
  vars?: Record<string, string>;
  /**
   * Port of wrangler's inspector (Chrome DevTools Protocol to the Worker's isolate, at
   * ws://127.0.0.1:<port>/ws); 0 (default) lets wrangler pick one nobody is told about.
   */
  inspectorPort?: number;
  onLine?: (line: string) => void;
}

export interface EdgeProcess extends ManagedProcess {
  url: string;
}

/**
 * CORS_ORIGINS for the local edge: both of its local names (the edge allows the origin a request
 * was made to by itself; the other name is a different origin), then the configured origins
 * (default: Shopify storefronts).
 */
export function localCorsOrigins(port: number, configured?: string): string {
  const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  const rest = (configured ?? 'https://*.myshopify.com').split(',').map((s) => s.trim());
  return [...new Set([...own, ...rest.filter(Boolean)])].join(',');
}

/** Starts `wrangler dev` (local workerd) on 127.0.0.1:port with the given vars and secret. */
export async function startEdge(options: EdgeOptions): Promise<EdgeProcess> {
  await mkdir(options.runDir, { recursive: true });
  const envFile = join(options.runDir, `edge-${options.port}.env`);
  const vars: Record<string, string> = {
    BACKEND_URL: options.backendUrl,
    BACKEND_SHARED_SECRET: options.secret,
    ...options.vars,
    CORS_ORIGINS: localCorsOrigins(options.port, options.vars?.CORS_ORIGINS),
  };
  const lines = Object.entries(vars).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  await writeFile(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(envFile, 0o600);
  const forgetEnvFile = onExit(() => rmSync(envFile, { force: true }));
  const managed = spawnManaged(
    'edge',
    WRANGLER,
    [
      'dev',
      '--config',
      'wrangler.toml',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--persist-to',
      options.persistTo,
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--inspector-port',
      String(options.inspectorPort ?? 0),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...WRANGLER_OFFLINE_ENV, FORCE_COLOR: '0' },
      onLine: options.onLine,
      orphanGraceMs: 5_000,
      removeOnExit: [envFile],
    },
  );
  const stop = managed.stop.bind(managed);
  return Object.assign(managed, {
    url: `http://127.0.0.1:${options.port}`,
    stop: async (graceMs?: number) => {
      await stop(graceMs);
      await rm(envFile, { force: true });
      forgetEnvFile();
    },
  });
}

/**
 * Polls `url` until it answers 200. Fails early, with the process's last output, when the
 * process exits first, and after `timeoutMs` otherwise.
 */
export async function waitUntilReady(
  managed: ManagedProcess,
  url: string,
  timeoutMs: number,
): Promise<number> {
  const result = await pollUntilOk(url, {
    timeoutMs,
    gaveUp: async () => {
      if (!managed.hasExited()) return undefined;
      const { code, signal } = await managed.exited;
      return `exited before it was ready (${signal ?? `exit code ${code}`})`;
    },
  });
  if (result.ok) return result.ms;
  const reason = result.reason.startsWith('not ready') ? `was ${result.reason}` : result.reason;
  throw new StartError(`the ${managed.name} ${reason}. Its last output:\n${managed.tail()}`);
}
