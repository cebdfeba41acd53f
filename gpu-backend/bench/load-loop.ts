/** A closed-loop load: `concurrency` clients sharing a fixed number of requests. */
import { performance } from 'node:perf_hooks';
import type { OutputKind } from '@bgremove/shared';
import { postImage, type RequestSample } from './http-load';

export interface LoadResult {
  concurrency: number;
  samples: RequestSample[];
  /** Failed requests (non-200 or network), by message. */
  errors: Record<string, number>;
  errorCount: number;
  wallMs: number;
  /** Successful images per second of wall time. */
  imagesPerSecond: number;
}

/**
 * `concurrency` loops take requests from one shared count of `total` until none are left, so the
 * total is exact at every level; each loop sends its next request as soon as the previous is
 * read. `afterEach` sees the number of requests completed so far (successful or not).
 */
export async function closedLoop(
  baseUrl: string,
  body: Buffer,
  output: OutputKind,
  concurrency: number,
  total: number,
  afterEach?: (completed: number) => void,
): Promise<LoadResult> {
  const samples: RequestSample[] = [];
  const errors: Record<string, number> = {};
  let errorCount = 0;
  let started = 0;
  let completed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (started < total) {
        started++;
        try {
          samples.push(await postImage(baseUrl, body, output));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          errors[message] = (errors[message] ?? 0) + 1;
          errorCount++;
        }
        completed++;
        afterEach?.(completed);
      }
    }),
  );
  const wallMs = performance.now() - start;
  return {
    concurrency,
    samples,
    errors,
    errorCount,
    wallMs,
    imagesPerSecond: samples.length / (wallMs / 1000),
  };
}
