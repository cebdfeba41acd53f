/**
 * The concurrency sweep of the GPU-throughput mode: for one image, throughput and latency percentiles at each
 * level, the knee, and how close the server comes to the model's own throughput (the floor).
 */
import { loadavg } from 'node:os';
import type { BenchInput } from './inputs';
import { closedLoop } from './load-loop';
import { observed } from './observe';
import { stageMedians, type BenchImage, type PhaseObservations, type StageMedians } from './results';
import type { ServerProcess } from './server-process';
import { percentile } from './stats';

/** Issue 6's targets for the sweep. */
export const SWEEP_TARGETS = {
  /** End-to-end images/s at the best level ≥ this × the floor's images/s. */
  toFloor: 0.8,
  /** p99 ≤ this × p50 at the knee. */
  p99ToP50: 3,
  /** The knee: the lowest level reaching this fraction of the highest throughput. */
  kneeFraction: 0.95,
} as const;

export interface LevelResult extends PhaseObservations {
  concurrency: number;
  /** Timed requests sent (after `concurrency` warm-up requests). */
  requests: number;
  errorCount: number;
  errors: Record<string, number>;
  wallMs: number;
  imagesPerSecond: number;
  /** imagesPerSecond ÷ the floor's images/s. */
  toFloor: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  /** Server-Timing medians; `other` is time in the handler outside the stages (mostly queueing). */
  stages: StageMedians;
  rssBytes: number;
  loadAverage: number[];
}

export interface SweepResult {
  image: BenchImage;
  output: 'matte';
  levels: LevelResult[];
  /** The lowest level with ≥ 95 % of the highest images/s. */
  knee: LevelResult;
  best: LevelResult;
}

export function findKnee<T extends { concurrency: number; imagesPerSecond: number }>(
  levels: readonly T[],
  fraction: number = SWEEP_TARGETS.kneeFraction,
): { knee: T; best: T } {
  if (levels.length === 0) throw new RangeError('findKnee: expected at least one level; got none');
  const byLevel = [...levels].sort((a, b) => a.concurrency - b.concurrency);
  const best = byLevel.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const knee = byLevel.find((l) => l.imagesPerSecond >= fraction * best.imagesPerSecond)!;
  return { knee, best };
}

const progress = (message: string) =>
  process.stderr.write(`· ${message} (load avg ${loadavg()[0]!.toFixed(2)})\n`);

export async function measureSweep(
  server: ServerProcess,
  input: BenchInput,
  levels: readonly number[],
  requests: number,
  floorImagesPerSecond: number,
): Promise<SweepResult> {
  const results: LevelResult[] = [];
  for (const concurrency of levels) {
    const total = Math.max(requests, 2 * concurrency);
    progress(
      `sweep ${input.image.label}: concurrency ${concurrency}, ${concurrency} warm-up + ${total} timed`,
    );
    await closedLoop(server.baseUrl, input.body, 'matte', concurrency, concurrency);
    const { result, observations } = await observed(server, () =>
      closedLoop(server.baseUrl, input.body, 'matte', concurrency, total),
    );
    const latencies = result.samples.map((s) => s.totalMs);
    const any = latencies.length > 0;
    results.push({
      concurrency,
      requests: total,
      errorCount: result.errorCount,
      errors: result.errors,
      wallMs: result.wallMs,
      imagesPerSecond: result.imagesPerSecond,
      toFloor: result.imagesPerSecond / floorImagesPerSecond,
      latencyMs: {
        p50: any ? percentile(latencies, 50) : Number.NaN,
        p99: any ? percentile(latencies, 99) : Number.NaN,
        mean: any ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
        max: any ? Math.max(...latencies) : Number.NaN,
      },
      stages: any ? stageMedians(result.samples) : {},
      rssBytes: server.rssBytes(),
      loadAverage: loadavg(),
      ...observations,
    });
  }
  return { image: input.image, output: 'matte', levels: results, ...findKnee(results) };
}
