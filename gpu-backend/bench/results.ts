/** The shape of one benchmark run (printed, and written with --json), and how samples become it. */
import type { OutputKind } from '@bgremove/shared';
import type { FloorResult } from './floor';
import { STAGES, type RequestSample, type ThroughputResult } from './http-load';
import type { MachineInfo } from './machine';
import type { StartupTimes } from './server-process';
import { summarize, type Summary } from './stats';
import type { PixelWork } from './pixel-work';
import type { TargetCheck } from './targets';

export interface BenchImage {
  label: string;
  width: number;
  height: number;
  bytes: number;
}

/** Median ms per Server-Timing stage, plus `server` (handler total), `other` and `http`. */
export type StageMedians = Record<string, number>;

export interface PhaseObservations {
  /** Server-reported max event-loop delay during the phase (prom-client, 10 ms resolution). */
  eventLoopMaxMs: number;
  /** Slowest /healthz answer seen by a probe polling during the phase. */
  probeMaxMs: number;
  /** Server VmHWM after the phase. */
  peakRssBytes: number;
}

export interface LatencyCase extends PhaseObservations {
  name: string;
  image: BenchImage;
  output: OutputKind;
  samplesMs: number[];
  summary: Summary;
  /** Median over the floor's median, p90 over the floor's p90. */
  ratioToFloor: { median: number; p90: number };
  /** Median over the median Server-Timing inference of the same requests: immune to drift. */
  ratioToServerInference: number;
  stages: StageMedians;
  outputBytes: number;
}

export interface ThroughputCase extends PhaseObservations {
  name: string;
  image: BenchImage;
  output: OutputKind;
  concurrency: number;
  images: number;
  wallMs: number;
  imagesPerSecond: number;
  latency: Summary;
}

export interface BenchResults {
  startedAt: string;
  runs: number;
  machine: MachineInfo;
  floor: FloorResult;
  server: {
    command: string;
    startup: StartupTimes;
    startupEventLoopMaxMs: number;
    providersInUse: unknown;
    coldStart: unknown;
  };
  latency: LatencyCase[];
  throughput: ThroughputCase[];
  memory: { peakRssBytes: number; rssAtEndBytes: number; peakRssAfterReadyBytes: number };
  eventLoop: { maxMs: number; probeMaxMs: number; source: string };
  /** The refinement's own CPU time in process (pixel-work.ts). */
  pixelWork: PixelWork;
  targets: TargetCheck[];
  loadAverageAtEnd: number[];
  wallSeconds: number;
}

const median = (values: number[]) => summarize(values).median;

/** Stage medians; `other` is the handler's time outside the stages, `http` the client's beyond it. */
export function stageMedians(samples: readonly RequestSample[]): StageMedians {
  const stages: StageMedians = {};
  for (const stage of STAGES) stages[stage] = median(samples.map((s) => s.serverTiming[stage] ?? 0));
  const server = samples.map((s) => s.serverTiming.total ?? 0);
  stages.server = median(server);
  stages.other = median(
    samples.map((s, i) => server[i]! - STAGES.reduce((sum, st) => sum + (s.serverTiming[st] ?? 0), 0)),
  );
  stages.http = median(samples.map((s, i) => s.totalMs - server[i]!));
  return stages;
}

export function latencyCase(
  name: string,
  image: BenchImage,
  output: OutputKind,
  samples: readonly RequestSample[],
  floor: Summary,
  observed: PhaseObservations,
): LatencyCase {
  const samplesMs = samples.map((s) => s.totalMs);
  const summary = summarize(samplesMs);
  const stages = stageMedians(samples);
  return {
    name,
    image,
    output,
    samplesMs,
    summary,
    ratioToFloor: { median: summary.median / floor.median, p90: summary.p90 / floor.p90 },
    ratioToServerInference: summary.median / stages.inference!,
    stages,
    outputBytes: median(samples.map((s) => s.bytes)),
    ...observed,
  };
}

export function throughputCase(
  name: string,
  image: BenchImage,
  output: OutputKind,
  result: ThroughputResult,
  observed: PhaseObservations,
): ThroughputCase {
  return {
    name,
    image,
    output,
    concurrency: result.concurrency,
    images: result.images,
    wallMs: result.wallMs,
    imagesPerSecond: result.imagesPerSecond,
    latency: summarize(result.samples.map((s) => s.totalMs)),
    ...observed,
  };
}
