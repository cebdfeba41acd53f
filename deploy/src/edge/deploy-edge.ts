import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_readConfig, type Unstable_Config } from 'wrangler';
import { z } from 'zod';
import { parseFlags, UsageError } from '../cli/args';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WRANGLER_CONFIG = join(REPO_ROOT, 'wrangler.toml');
export const EDGE_ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type EdgeEnvironment = (typeof EDGE_ENVIRONMENTS)[number];

/** Worker secrets each environment needs (set with `wrangler secret put`; see wrangler.toml). */
export const EDGE_SECRETS = [
  'BACKEND_SHARED_SECRET',
  'GCP_SERVICE_ACCOUNT_KEY',
  'SHOPIFY_APP_SECRET',
  'ADMIN_TOKEN',
] as const;

export const DEPLOY_EDGE_USAGE = `Usage: npm run deploy:edge -- --env dev|staging|production [--dry-run [--outdir DIR]]

Checks the environment's vars with the Worker's own config schema, then runs
\`wrangler deploy --env <env>\` with the root wrangler.toml. --dry-run bundles without uploading
(offline; the bundle goes to --outdir). A real deploy refuses placeholder values (replace-me,
example.com) and needs CLOUDFLARE_API_TOKEN (or \`wrangler login\`).`;

export interface DeployEdgeOptions {
  env: EdgeEnvironment;
  dryRun: boolean;
  outdir: string | undefined;
}

export function parseDeployEdgeArgs(argv: readonly string[]): DeployEdgeOptions | null {
  if (argv.includes('--help') || argv.includes('-h')) return null;
  const v = parseFlags(
    argv,
    { env: { type: 'string' }, 'dry-run': { type: 'boolean' }, outdir: { type: 'string' } },
    z
      .object({
        env: z.enum(EDGE_ENVIRONMENTS, { error: `required: one of ${EDGE_ENVIRONMENTS.join(', ')}` }),
        'dry-run': z.boolean().default(false),
        outdir: z.string().min(1).optional(),
      })
      .refine((o) => o.outdir === undefined || o['dry-run'], {
        path: ['outdir'],
        message: 'only with --dry-run',
      }),
  );
  return { env: v.env, dryRun: v['dry-run'], outdir: v.outdir === undefined ? undefined : resolve(v.outdir) };
}

export interface EdgeEnvironmentCheck {
  name: string;
  vars: Record<string, string>;
  routes: string[];
  placeholders: string[];
}

/**
 * The Worker's own config parser (edge/src/config/index.ts), loaded at run time: its module graph is typed
 * for workerd, not for this Node project, so it stays out of this project's type check.
 */
const EDGE_CONFIG_MODULE = new URL('../../../edge/src/config/index.ts', import.meta.url).href;

/**
 * wrangler's reader of wrangler.toml, with its return type named: the inferred one reaches into
 * miniflare's declarations, which do not resolve here, and would be an unchecked error type.
 */
export const readWranglerConfig: (
  args: { config: string; env?: string },
  options: { hideWarnings: boolean },
) => Unstable_Config = unstable_readConfig;

/** Reads the environment from wrangler.toml as wrangler does and parses its vars like the Worker. */
export async function checkEdgeEnvironment(env: EdgeEnvironment): Promise<EdgeEnvironmentCheck> {
  const { parseConfig } = (await import(EDGE_CONFIG_MODULE)) as { parseConfig: (env: object) => unknown };
  const config = readWranglerConfig({ config: WRANGLER_CONFIG, env }, { hideWarnings: true });
  const vars = Object.fromEntries(
    Object.entries(config.vars).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  try {
    parseConfig(vars);
  } catch (error) {
    throw new UsageError(`--env ${env}: wrangler.toml [env.${env}.vars] ${(error as Error).message}`);
  }
  const routes = (config.routes ?? []).map((route: string | { pattern: string }) =>
    typeof route === 'string' ? route : route.pattern,
  );
  const placeholders = [...Object.values(vars), ...routes].filter((value) =>
    /replace-me|example\.com/i.test(value),
  );
  return { name: config.name ?? '?', vars, routes, placeholders };
}

/** `wrangler deploy` for the environment; resolves with its exit status. */
export function runWranglerDeploy(
  options: DeployEdgeOptions,
  io: { env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const require = createRequire(import.meta.url);
  const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin/wrangler.js');
  const args = ['deploy', '--config', WRANGLER_CONFIG, '--env', options.env];
  if (options.dryRun) args.push('--dry-run', ...(options.outdir ? ['--outdir', options.outdir] : []));
  const child = spawn(process.execPath, [wrangler, ...args], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: {
      ...(io.env ?? process.env),
      // wrangler would otherwise phone home (metrics, cf request data) on every run.
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_HIDE_BANNER: 'true',
    },
  });
  return new Promise((resolveExit) => child.on('exit', (code) => resolveExit(code ?? 1)));
}
