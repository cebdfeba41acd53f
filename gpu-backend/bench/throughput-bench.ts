/**
 * The GPU-throughput mode: the floor (batch 1, and batches on the batchable graph),
 * a concurrency sweep for a 12-MP and a 1-MP JPEG, a memory soak and the cold-start breakdown,
 * against one server child process started with the provider under test.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config';
import { describeColdStart, measureColdStart, type ColdStart } from './cold-start';
import {
  combineFloor,
  measureBatchFloor,
  measureFloor,
  type BatchFloorResult,
  type FloorResult,
} from './floor';
import { throughputInputs } from './inputs';
import { describeGpus, describeMachine, type MachineInfo } from './machine';
import type { BenchOptions, ThroughputOptions } from './options';
import { SERVER_ENTRY, ServerProcess } from './server-process';
import { measureSoak, type SoakResult } from './soak';
import { measureSweep, type SweepResult } from './sweep';

const progress = (message: string) =>
  process.stderr.write(`· ${message} (load avg ${loadavg()[0]!.toFixed(2)})\n`);

export interface ServerDiagnostics {
  requested?: unknown;
  inUse?: unknown;
  everyNodeOnFirstProvider?: unknown;
  available?: unknown;
  sessionsPerModel?: unknown;
  nodesByProvider?: unknown;
  limits?: unknown;
}

export interface ThroughputResults {
  mode: 'throughput';
  startedAt: string;
  options: ThroughputOptions & { runs: number };
  machine: MachineInfo;
  gpus: string[] | undefined;
  /** The environment the server got for what the GPU-throughput mode varies. */
  serverEnv: Record<string, string | undefined>;
  serverCommand: string;
  floor: (FloorResult & { imagesPerSecond: number }) | undefined;
  batchFloor: BatchFloorResult | undefined;
  diagnostics: ServerDiagnostics | undefined;
  sweeps: SweepResult[];
  soak: SoakResult | undefined;
  coldStarts: ColdStart[];
  loadAverageAtEnd: number[];
  wallSeconds: number;
}

const SERVER_KNOBS = [
  'ORT_PROVIDERS',
  'SESSIONS_PER_MODEL',
  'MAX_CONCURRENCY',
  'MAX_QUEUE',
  'ORT_MEMORY_PROFILE',
  'ORT_INTRA_OP_THREADS',
] as const;

/** The server's environment: the caller's, with MAX_CONCURRENCY and MAX_QUEUE fitting the load. */
export function throughputServerEnv(options: BenchOptions, t: ThroughputOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.BACKEND_SHARED_SECRET; // unsigned requests; the signature check is not what is measured
  if (options.providerGiven || !env.ORT_PROVIDERS) env.ORT_PROVIDERS = options.provider;
  const highest = Math.max(...t.levels, t.soak > 0 ? t.soakConcurrency : 1);
  env.MAX_CONCURRENCY ??= String(highest);
  env.MAX_QUEUE ??= String(Math.max(16, highest));
  return env;
}

async function diagnosticsOf(server: ServerProcess): Promise<ServerDiagnostics> {
  const d = (await server.getJson('/v1/diagnostics')) as {
    providers?: Record<string, unknown>;
    models?: { placement?: { nodesByProvider?: unknown } }[];
    limits?: unknown;
  };
  return {
    requested: d.providers?.requested,
    inUse: d.providers?.inUse,
    everyNodeOnFirstProvider: d.providers?.everyNodeOnFirstProvider,
    available: d.providers?.available,
    sessionsPerModel: d.providers?.sessionsPerModel,
    nodesByProvider: d.models?.[0]?.placement?.nodesByProvider,
    limits: d.limits,
  };
}

export async function runThroughputBench(
  options: BenchOptions,
  t: ThroughputOptions,
): Promise<ThroughputResults> {
  const started = performance.now();
  const env = throughputServerEnv(options, t);
  const config = parseConfig(env);
  env.MODELS_DIR = config.MODELS_DIR;
  const entry = options.server ?? SERVER_ENTRY;
  const machine = describeMachine(config.ORT_PROVIDERS[0]!, config.ORT_INTRA_OP_THREADS);
  const gpus = describeGpus();
  const { small, twelveMegapixel: large, oneMegapixel: oneMp } = await throughputInputs(t.photo);

  let floorBefore;
  if (t.sweep) {
    progress(`floor (before the server): ${options.runs} runs of session.run after a warm-up`);
    floorBefore = await measureFloor(config, small.body, options.runs);
  }
  let batchFloor;
  if (t.batches.length > 0) {
    progress(
      `batch floor: batch 1,${t.batches.join(',')} on the batchable graph, ${options.runs} interleaved rounds`,
    );
    batchFloor = await measureBatchFloor(config, small.body, t.batches, options.runs);
  }
  // The floor's images/s for the sweep's ratios: the before-run now, the combined median at the end.
  const floorIps = floorBefore ? 1000 / floorBefore.summary.median : Number.NaN;

  let diagnostics;
  const sweeps: SweepResult[] = [];
  let soak;
  const coldStarts: ColdStart[] = [];
  if (t.sweep || t.soak > 0) {
    progress(`server: node ${entry} (${SERVER_KNOBS.map((k) => `${k}=${env[k] ?? ''}`).join(' ')})`);
    const { server, startup } = await ServerProcess.start(env, entry);
    try {
      coldStarts.push(await describeColdStart(server, startup));
      diagnostics = await diagnosticsOf(server);
      if (t.sweep) {
        for (const input of [large, oneMp])
          sweeps.push(await measureSweep(server, input, t.levels, t.requests, floorIps));
      }
      if (t.soak > 0) {
        progress(`soak: ${t.soak} requests (12-MP matte) at concurrency ${t.soakConcurrency}`);
        soak = await measureSoak(server, large, t.soak, t.soakConcurrency);
      }
    } finally {
      await server.stop();
    }
  }
  while (coldStarts.length < t.coldStarts) {
    progress(`cold start ${coldStarts.length + 1}/${t.coldStarts}`);
    coldStarts.push(await measureColdStart(env, entry));
  }

  let floor;
  if (floorBefore) {
    progress(`floor (after the server): ${options.runs} runs of session.run after a warm-up`);
    const combined = combineFloor(floorBefore, await measureFloor(config, small.body, options.runs));
    const imagesPerSecond = 1000 / combined.summary.median;
    for (const sweep of sweeps)
      for (const level of sweep.levels) level.toFloor = level.imagesPerSecond / imagesPerSecond;
    floor = { ...combined, imagesPerSecond };
  }
  return {
    mode: 'throughput',
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    options: { ...t, runs: options.runs },
    machine,
    gpus,
    serverEnv: Object.fromEntries(SERVER_KNOBS.map((k) => [k, env[k]])),
    serverCommand: `node ${entry}`,
    floor,
    batchFloor,
    diagnostics,
    sweeps,
    soak,
    coldStarts,
    loadAverageAtEnd: loadavg(),
    wallSeconds: (performance.now() - started) / 1000,
  };
}
