import { AppError } from '@bgremove/shared';
import PQueue from 'p-queue';
import type { Engine } from './models/engine';
import type { Metrics } from './observability/metrics';

export interface AdmissionOptions {
  concurrency: number;
  maxQueue: number;
  metrics: Metrics;
}

export interface RunOptions {
  /** The client went away: the work leaves the queue (once running, it finishes and is discarded). */
  signal: AbortSignal;
  /**
   * When the caller stops waiting (a `performance.now()` time). Work that could not finish by then
   * is refused at admission, or dropped from the queue, with 503 `overloaded` and Retry-After.
   */
  deadline?: number;
}

/** Where a deadline refusal happened, for the metric and the message. */
type RefusedAt = 'admission' | 'queue';

/**
 * A bounded work queue in front of the pipeline: `concurrency` requests run at once (so decode and
 * encode of one overlap inference of another), at most `maxQueue` wait, and the rest are refused
 * at once with 503 overloaded and an honest Retry-After, never left to pile up.
 *
 * Deadlines: each request may say when its caller stops waiting. The queue keeps a running
 * estimate of how long a request takes (a smoothed mean plus two smoothed mean deviations, the way
 * TCP estimates its retransmission timeout, less cautious), and starts nothing it expects to finish after the
 * deadline: such work is refused when it arrives (the queue ahead of it is too long), or dropped
 * while it waits (the moment it could no longer finish in time), so the model never runs for a
 * caller who is gone. What starts, finishes.
 */
export class Admission {
  private readonly queue: PQueue;
  private readonly options: AdmissionOptions;
  /** Smoothed milliseconds per request, and the smoothed deviation from it (a prior until measured). */
  private meanMs = 3_000;
  private deviationMs = 500;
  private measured = false;
  /** The warm-up run's duration the estimate was seeded with, if it was. */
  private seededMs: number | undefined;

  constructor(options: AdmissionOptions) {
    this.options = options;
    this.queue = new PQueue({ concurrency: options.concurrency });
    const update = () => {
      options.metrics.queueDepth.set(this.queue.size);
      options.metrics.inFlight.set(this.queue.pending);
    };
    this.queue.on('add', update);
    this.queue.on('active', update);
    this.queue.on('next', update);
  }

  get waiting(): number {
    return this.queue.size;
  }

  get running(): number {
    return this.queue.pending;
  }

  /**
   * Seeds the estimate with a measured duration (the model's warm-up run at start), so the first
   * requests are admitted on this machine's speed rather than on the prior. It counts as the first
   * measurement: later requests smooth it. Ignored once requests have been measured.
   */
  seed(ms: number): void {
    if (this.measured || !(ms > 0)) return;
    this.observe(ms);
    this.seededMs = ms;
  }

  /** What the estimate is based on, for /v1/diagnostics. */
  estimate(): { serviceEstimateMs: number; meanMs: number; seededFromWarmupMs: number | null } {
    return {
      serviceEstimateMs: Math.round(this.serviceEstimateMs()),
      meanMs: Math.round(this.meanMs),
      seededFromWarmupMs: this.seededMs === undefined ? null : Math.round(this.seededMs),
    };
  }

  /** How long one request is expected to take, with room for variation (mean + 2 deviations). */
  serviceEstimateMs(): number {
    return this.meanMs + 2 * this.deviationMs;
  }

  /** How long a request arriving now would wait for a slot. */
  expectedWaitMs(): number {
    if (this.queue.pending < this.options.concurrency) return 0;
    return (this.meanMs * (this.queue.size + 1)) / this.options.concurrency;
  }

  retryAfterSeconds(): number {
    const ahead = this.queue.size + this.queue.pending;
    return Math.max(1, Math.ceil((this.meanMs * ahead) / this.options.concurrency / 1000));
  }

  private refuse(at: RefusedAt, leftMs: number): AppError {
    this.options.metrics.deadlineRefusals.inc({ at });
    const needed = Math.round((at === 'admission' ? this.expectedWaitMs() : 0) + this.serviceEstimateMs());
    return new AppError(
      'overloaded',
      at === 'admission'
        ? `the backend cannot finish this before the caller's deadline (${Math.max(0, Math.round(leftMs))} ms left, about ${needed} ms needed); retry after the indicated delay`
        : `dropped from the queue: it could no longer finish before the caller's deadline; retry after the indicated delay`,
      { retryAfterSeconds: this.retryAfterSeconds() },
    );
  }

  /**
   * Runs `task` when a slot frees up. Rejects with `overloaded` when the queue is full or when the
   * task cannot finish before `deadline`, and with the signal's reason when the client leaves
   * while it waits.
   */
  async run<T>(task: () => Promise<T>, options: RunOptions): Promise<T> {
    const { signal, deadline } = options;
    signal.throwIfAborted();
    if (this.queue.size >= this.options.maxQueue && this.queue.pending >= this.options.concurrency) {
      throw new AppError('overloaded', 'the backend is at capacity; retry after the indicated delay', {
        retryAfterSeconds: this.retryAfterSeconds(),
      });
    }
    const arrived = performance.now();
    // Once measured, an idle queue admits whatever the estimate says (a probe): refused work is
    // never measured, so an estimate above every deadline (after one slow run) would otherwise
    // refuse everything, forever.
    const probe = this.measured && this.queue.size === 0 && this.queue.pending === 0;
    if (
      !probe &&
      deadline !== undefined &&
      arrived + this.expectedWaitMs() + this.serviceEstimateMs() > deadline
    ) {
      throw this.refuse('admission', deadline - arrived);
    }
    // Aborted only while the task waits: a running task is never abandoned (it holds its slot
    // until it really ends, so the queue never runs more than `concurrency` at once).
    const waiting = new AbortController();
    const onClientGone = () => waiting.abort(signal.reason);
    signal.addEventListener('abort', onClientGone, { once: true });
    const dropAt = deadline === undefined || probe ? undefined : deadline - this.serviceEstimateMs();
    const timer =
      dropAt === undefined
        ? undefined
        : setTimeout(
            () => waiting.abort(this.refuse('queue', deadline! - performance.now())),
            dropAt - arrived,
          );
    const stopWatching = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onClientGone);
    };
    try {
      return await this.queue.add(
        async () => {
          stopWatching();
          const started = performance.now();
          if (!probe && deadline !== undefined && started + this.serviceEstimateMs() > deadline) {
            throw this.refuse('queue', deadline - started);
          }
          try {
            return await task();
          } finally {
            this.observe(performance.now() - started);
          }
        },
        { signal: waiting.signal },
      );
    } finally {
      stopWatching();
    }
  }

  private observe(ms: number): void {
    if (!this.measured) {
      // The first measurement replaces the prior (TCP does the same with its first RTT sample).
      this.measured = true;
      this.meanMs = ms;
      this.deviationMs = ms / 4;
      return;
    }
    this.deviationMs = 0.75 * this.deviationMs + 0.25 * Math.abs(ms - this.meanMs);
    this.meanMs = 0.8 * this.meanMs + 0.2 * ms;
  }

  /** Resolves when nothing runs or waits (for graceful shutdown). */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}

/**
 * Loads and warms every model, then seeds the queue's estimate with the slowest warm-up run (on
 * this machine, now), so the first requests after start are admitted on a measured speed.
 */
export async function loadAndSeed(engine: Engine, admission: Admission): Promise<void> {
  await engine.loadAll();
  const warmups = engine.status().map((m) => m.coldStart?.warmupMs ?? 0);
  admission.seed(Math.max(0, ...warmups));
}
