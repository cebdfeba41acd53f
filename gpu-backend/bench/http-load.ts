/** Requests to the running backend: timed one at a time, in concurrent loops, and a liveness probe. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEADERS, parseServerTiming, type OutputKind } from '@bgremove/shared';

export const STAGES = ['decode', 'preprocess', 'inference', 'postprocess', 'refine', 'encode'] as const;
export type Stage = (typeof STAGES)[number];

export interface RequestSample {
  /** Client-side: from sending the request to having read the whole body. */
  totalMs: number;
  /** The server's Server-Timing entries in ms (the stages, and `total` for the handler). */
  serverTiming: Record<string, number>;
  bytes: number;
}

export async function postImage(baseUrl: string, body: Buffer, output: OutputKind): Promise<RequestSample> {
  const start = performance.now();
  const response = await fetch(`${baseUrl}/v1/remove-background?output=${output}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
  const bytes = (await response.arrayBuffer()).byteLength;
  const totalMs = performance.now() - start;
  if (response.status !== 200) {
    throw new Error(`POST ${output}: expected 200, got ${response.status}`);
  }
  return { totalMs, serverTiming: parseServerTiming(response.headers.get(HEADERS.serverTiming)), bytes };
}

/** One warm-up request, then `runs` sequential requests. */
export async function measureLatency(
  baseUrl: string,
  body: Buffer,
  output: OutputKind,
  runs: number,
): Promise<RequestSample[]> {
  await postImage(baseUrl, body, output);
  const samples: RequestSample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await postImage(baseUrl, body, output));
  return samples;
}

export interface ThroughputResult {
  concurrency: number;
  images: number;
  wallMs: number;
  imagesPerSecond: number;
  samples: RequestSample[];
}

/** `concurrency` loops, each sending `perLoop` requests back to back; images/s over the wall time. */
export async function measureThroughput(
  baseUrl: string,
  body: Buffer,
  output: OutputKind,
  concurrency: number,
  perLoop: number,
): Promise<ThroughputResult> {
  const samples: RequestSample[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < perLoop; i++) samples.push(await postImage(baseUrl, body, output));
    }),
  );
  const wallMs = performance.now() - start;
  return {
    concurrency,
    images: samples.length,
    wallMs,
    imagesPerSecond: samples.length / (wallMs / 1000),
    samples,
  };
}

/**
 * Polls /healthz every `intervalMs` while work runs: the slowest answer bounds, from outside, how
 * long the server's event loop was unable to serve a trivial request.
 */
export function startLivenessProbe(baseUrl: string, intervalMs = 100): { stop: () => Promise<number> } {
  const stopped = new AbortController();
  let maxMs = 0;
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const start = performance.now();
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        await response.arrayBuffer();
        maxMs = Math.max(maxMs, performance.now() - start);
      } catch {
        // A probe that fails is not a latency sample; the requests under test report failures.
      }
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      stopped.abort();
      await loop;
      return maxMs;
    },
  };
}
