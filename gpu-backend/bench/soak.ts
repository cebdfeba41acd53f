/**
 * The memory soak of the GPU-throughput mode: many requests through one server, its resident set sampled from
 * /proc as they complete. Growth compares the median RSS of the first quarter of the samples
 * with that of the last quarter, so one allocation spike does not decide it.
 */
import { loadavg } from 'node:os';
import type { BenchImage } from './results';
import type { BenchInput } from './inputs';
import { closedLoop } from './load-loop';
import { gpuMemoryOfPid } from './machine';
import type { ServerProcess } from './server-process';
import { percentile, summarize } from './stats';

/** At most this much growth from the first to the last quarter passes. */
export const SOAK_MAX_GROWTH = 0.05;

export interface RssSample {
  afterRequests: number;
  rssBytes: number;
  /** nvidia-smi's figure for the server process, where it reports one. */
  gpuMemoryMiB?: number;
}

export interface SoakResult {
  image: BenchImage;
  requests: number;
  concurrency: number;
  sampleEvery: number;
  errorCount: number;
  errors: Record<string, number>;
  wallMs: number;
  imagesPerSecond: number;
  latencyMs: { p50: number; p99: number };
  samples: RssSample[];
  firstQuartileMedianBytes: number;
  lastQuartileMedianBytes: number;
  /** last ÷ first − 1. */
  growth: number;
  peakRssBytes: number;
  loadAverage: number[];
}

/** Every 100 requests, or more often for short soaks so there are about 20 samples. */
export const sampleInterval = (requests: number): number =>
  Math.min(100, Math.max(1, Math.floor(requests / 20)));

/** Median RSS of the first and the last quarter of the samples (at least one each). */
export function quartileGrowth(samples: readonly number[]): { first: number; last: number; growth: number } {
  if (samples.length === 0) throw new RangeError('quartileGrowth: expected at least one sample; got none');
  const quarter = Math.max(1, Math.ceil(samples.length / 4));
  const first = summarize(samples.slice(0, quarter)).median;
  const last = summarize(samples.slice(samples.length - quarter)).median;
  return { first, last, growth: last / first - 1 };
}

export async function measureSoak(
  server: ServerProcess,
  input: BenchInput,
  requests: number,
  concurrency: number,
): Promise<SoakResult> {
  const every = sampleInterval(requests);
  // Warm the server at this concurrency first: the first requests grow arenas by design.
  await closedLoop(server.baseUrl, input.body, 'matte', concurrency, concurrency);
  const sample = (afterRequests: number): RssSample => {
    const gpuMemoryMiB = gpuMemoryOfPid(server.pid);
    return {
      afterRequests,
      rssBytes: server.rssBytes(),
      ...(gpuMemoryMiB !== undefined && { gpuMemoryMiB }),
    };
  };
  const samples: RssSample[] = [sample(0)];
  const result = await closedLoop(server.baseUrl, input.body, 'matte', concurrency, requests, (done) => {
    if (done % every === 0) {
      samples.push(sample(done));
      if (done % (every * 5) === 0)
        process.stderr.write(
          `· soak: ${done}/${requests}, RSS ${(samples.at(-1)!.rssBytes / 1e6).toFixed(0)} MB (load avg ${loadavg()[0]!.toFixed(2)})\n`,
        );
    }
  });
  const { first, last, growth } = quartileGrowth(samples.slice(1).map((s) => s.rssBytes));
  const latencies = result.samples.map((s) => s.totalMs);
  return {
    image: input.image,
    requests,
    concurrency,
    sampleEvery: every,
    errorCount: result.errorCount,
    errors: result.errors,
    wallMs: result.wallMs,
    imagesPerSecond: result.imagesPerSecond,
    latencyMs: {
      p50: latencies.length ? percentile(latencies, 50) : Number.NaN,
      p99: latencies.length ? percentile(latencies, 99) : Number.NaN,
    },
    samples,
    firstQuartileMedianBytes: first,
    lastQuartileMedianBytes: last,
    growth,
    peakRssBytes: server.peakRssBytes(),
    loadAverage: loadavg(),
  };
}
