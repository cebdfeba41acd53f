import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProviderName } from '../src/inference/providers';

const PROVIDERS: readonly ProviderName[] = ['cpu', 'webgpu', 'cuda'];

/** Sized so the whole run stays under ~5 minutes on a 2-core machine at ~2.3 s per inference. */
export const DEFAULT_RUNS = 5;
/** Issue 6's concurrency levels. */
export const DEFAULT_LEVELS = [1, 4, 16, 32] as const;
/** Timed requests per concurrency level and image in the sweep (at least twice the level). */
export const DEFAULT_REQUESTS = 100;

/** The GPU-throughput mode: entered with --sweep, --soak, --batch or --cold-starts. */
export interface ThroughputOptions {
  /** Concurrency sweep over `levels` for the 12-MP and 1-MP JPEGs, against the floor. */
  sweep: boolean;
  levels: number[];
  /** Timed requests per level and image (after `level` warm-up requests). */
  requests: number;
  /** Batch sizes for the batchable-graph floor (batch 1 always runs beside them); empty: none. */
  batches: number[];
  /** Requests in the memory soak; 0: no soak. */
  soak: number;
  /** Concurrent loops in the soak (default: the highest sweep level). */
  soakConcurrency: number;
  /** Server starts for the cold-start breakdown (the fastest is reported); 0: none. */
  coldStarts: number;
  /** A JPEG to use instead of the kit's car-1 (absolute path), for machines without the kit. */
  photo: string | undefined;
}

export interface BenchOptions {
  provider: ProviderName;
  /** Whether --provider was given (the throughput mode otherwise passes ORT_PROVIDERS through). */
  providerGiven: boolean;
  /** Timed repetitions of each measurement (after one warm-up). */
  runs: number;
  /** Absolute path to write the results as JSON, if asked. */
  json: string | undefined;
  /** The server entry to spawn: this package's dist/server.js, or another build to compare. */
  server: string | undefined;
  /**
   * Models to bench one after another in this run (floor, server with MODELS=<id>, floor again),
   * then compared; undefined: the first of MODELS (the backend's default).
   */
  models: string[] | undefined;
  /** Set in the throughput mode; undefined for the default bench. */
  throughput: ThroughputOptions | undefined;
}

export const USAGE = `usage: npm run bench -w gpu-backend -- [--provider cpu|webgpu|cuda] [--runs N] [--json out.json]
  --provider  execution provider for the floor and the server (default cpu)
  --runs      timed runs per measurement, after one warm-up (default ${DEFAULT_RUNS})
  --json      also write the results to this file (relative to where npm was run)
  --server    server entry to spawn instead of this package's dist/server.js (to compare builds)
  --models    comma-separated model ids benched one after another in this run, each with its own
              floor and server (MODELS=<id>), then compared side by side with ratios to the first
              (default: the first of MODELS), e.g. --models isnet-general-use,u2netp

GPU-throughput mode, entered by any of --sweep, --soak, --batch, --cold-starts:
  npm run bench -w gpu-backend -- --provider webgpu --sweep --batch 2,4,8 --soak 2000 --cold-starts 3
  --sweep          throughput, p50/p99 at each --concurrency level for a 12-MP and a 1-MP JPEG
                   (matte), against the floor (back-to-back session.run, batch 1, --runs runs
                   before and after the server); the knee, end-to-end/floor ≥ 80 %, p99 ≤ 3 × p50
  --concurrency    comma-separated levels (default ${DEFAULT_LEVELS.join(',')})
  --requests       timed requests per level and image, at least 2 × the level (default ${DEFAULT_REQUESTS})
  --batch          comma-separated batch sizes for the floor on the batchable graph (makeBatchable),
                   interleaved with batch 1, --runs rounds (e.g. 2,4)
  --soak           requests in a memory soak (12-MP matte); server RSS sampled every
                   min(100, N/20) requests; PASS if the last-quartile median RSS is ≤ 5 % above
                   the first-quartile median
  --soak-concurrency  concurrent loops in the soak (default: the highest --concurrency level)
  --cold-starts    server starts for the cold-start breakdown, fastest reported (default 1 when a
                   server runs anyway, else 0): spawn, listening, read, hash, create, warm-up
  --photo          a JPEG to start from instead of the kit's rembg car-1 (for a machine without
                   ../shared/eval); the 12-MP and 1-MP inputs are made from it the same way
  In this mode the server gets the environment's ORT_PROVIDERS (unless --provider is given),
  SESSIONS_PER_MODEL, ORT_MEMORY_PROFILE and MAX_QUEUE; MAX_CONCURRENCY defaults to the highest
  level and MAX_QUEUE to at least that level, so the sweep never sees 503s.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `1,4,16` to [1, 4, 16]; each an integer from `min` to `max`. */
function intList(flag: string, value: string, min: number, max: number): number[] {
  const items = value.split(',').map((s) => s.trim());
  const numbers = items.map(Number);
  if (items.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < min || n > max)) {
    throw new UsageError(
      `--${flag}: expected comma-separated integers from ${min} to ${max}; got "${value}"`,
    );
  }
  return [...new Set(numbers)].sort((a, b) => a - b);
}

function intFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}; got "${value}"`);
  }
  return n;
}

type Values = Partial<Record<string, string | boolean>>;

function throughputOptions(
  values: Values,
  fromBase: (path: string | undefined) => string | undefined,
): ThroughputOptions | undefined {
  const entered = ['sweep', 'soak', 'batch', 'cold-starts'].some((f) => values[f] !== undefined);
  const tuning = ['concurrency', 'requests', 'soak-concurrency', 'photo'].find(
    (f) => values[f] !== undefined,
  );
  if (!entered) {
    if (tuning) throw new UsageError(`--${tuning}: only with --sweep, --soak, --batch or --cold-starts`);
    return undefined;
  }
  const str = (flag: string) => values[flag] as string | undefined;
  const levels = intList('concurrency', str('concurrency') ?? DEFAULT_LEVELS.join(','), 1, 256);
  const maxLevel = levels[levels.length - 1]!;
  const sweep = values.sweep === true;
  const soak = intFlag('soak', str('soak') ?? '0', 0, 1_000_000);
  const coldDefault = sweep || soak > 0 ? '1' : '0';
  return {
    sweep,
    levels,
    requests: intFlag('requests', str('requests') ?? String(DEFAULT_REQUESTS), 1, 1_000_000),
    batches: str('batch') === undefined ? [] : intList('batch', str('batch')!, 2, 64),
    soak,
    soakConcurrency: intFlag('soak-concurrency', str('soak-concurrency') ?? String(maxLevel), 1, 256),
    coldStarts: intFlag('cold-starts', str('cold-starts') ?? coldDefault, 0, 20),
    photo: fromBase(str('photo')),
  };
}

function modelList(value: string | undefined, values: Values): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = [...new Set(value.split(',').map((s) => s.trim()))].filter(Boolean);
  if (ids.length === 0) throw new UsageError('--models: expected comma-separated model ids');
  if (['sweep', 'soak', 'batch', 'cold-starts'].some((f) => values[f] !== undefined)) {
    throw new UsageError('--models: only in the default bench (the throughput mode uses MODELS)');
  }
  return ids;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        provider: { type: 'string' },
        runs: { type: 'string', default: String(DEFAULT_RUNS) },
        json: { type: 'string' },
        server: { type: 'string' },
        models: { type: 'string' },
        sweep: { type: 'boolean' },
        concurrency: { type: 'string' },
        requests: { type: 'string' },
        batch: { type: 'string' },
        soak: { type: 'string' },
        'soak-concurrency': { type: 'string' },
        'cold-starts': { type: 'string' },
        photo: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const providerGiven = values.provider !== undefined;
  const provider = PROVIDERS.find((p) => p === (values.provider ?? 'cpu'));
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
  return {
    provider,
    providerGiven,
    runs,
    json: fromBase(values.json as string | undefined),
    server: fromBase(values.server as string | undefined),
    models: modelList(values.models as string | undefined, values),
    throughput: throughputOptions(values, fromBase),
  };
}
