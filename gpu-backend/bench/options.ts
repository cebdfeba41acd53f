import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProviderName } from '../src/config';

const PROVIDERS: readonly ProviderName[] = ['cpu', 'webgpu', 'cuda'];

/** Sized so the whole run stays under ~5 minutes on a 2-core machine at ~2.3 s per inference. */
export const DEFAULT_RUNS = 5;

export interface BenchOptions {
  provider: ProviderName;
  /** Timed repetitions of each measurement (after one warm-up). */
  runs: number;
  /** Absolute path to write the results as JSON, if asked. */
  json: string | undefined;
  /** The server entry to spawn: this package's dist/server.js, or another build to compare. */
  server: string | undefined;
}

export const USAGE = `usage: npm run bench -w gpu-backend -- [--provider cpu|webgpu|cuda] [--runs N] [--json out.json]
  --provider  execution provider for the floor and the server (default cpu)
  --runs      timed runs per measurement, after one warm-up (default ${DEFAULT_RUNS})
  --json      also write the results to this file (relative to where npm was run)
  --server    server entry to spawn instead of this package's dist/server.js (to compare builds)`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        provider: { type: 'string', default: 'cpu' },
        runs: { type: 'string', default: String(DEFAULT_RUNS) },
        json: { type: 'string' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const provider = PROVIDERS.find((p) => p === values.provider);
  if (!provider) {
    throw new UsageError(`--provider: expected one of ${PROVIDERS.join(', ')}; got "${values.provider}"`);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
    throw new UsageError(`--runs: expected an integer from 1 to 1000; got "${values.runs}"`);
  }
  // npm -w runs scripts in the workspace folder; a relative path means relative to where npm was run.
  const base = process.env.INIT_CWD ?? process.cwd();
  const fromBase = (path: string | undefined) =>
    path === undefined ? undefined : isAbsolute(path) ? path : resolve(base, path);
  return { provider, runs, json: fromBase(values.json), server: fromBase(values.server) };
}
