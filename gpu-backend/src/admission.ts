import { AppError } from '@bgremove/shared';
import PQueue from 'p-queue';
import type { Metrics } from './observability/metrics';

export interface AdmissionOptions {
  concurrency: number;
  maxQueue: number;
  metrics: Metrics;
}

/**
 * A bounded work queue in front of the pipeline: `concurrency` requests run at once (so decode and
 * encode of one overlap inference of another), at most `maxQueue` wait, and the rest are refused
 * at once with 503 overloaded and an honest Retry-After, never left to pile up.
 */
export class Admission {
  private readonly queue: PQueue;
  private readonly options: AdmissionOptions;
  /** Smoothed seconds per request, for Retry-After. */
  private averageSeconds = 3;

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

  retryAfterSeconds(): number {
    const ahead = this.queue.size + this.queue.pending;
    return Math.max(1, Math.ceil((this.averageSeconds * ahead) / this.options.concurrency));
  }

  /** Runs `task` when a slot frees up; rejects with `overloaded` when the queue is full. */
  async run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.queue.size >= this.options.maxQueue && this.queue.pending >= this.options.concurrency) {
      throw new AppError('overloaded', 'the backend is at capacity; retry after the indicated delay', {
        retryAfterSeconds: this.retryAfterSeconds(),
      });
    }
    return this.queue.add(
      async () => {
        const started = performance.now();
        try {
          return await task();
        } finally {
          const seconds = (performance.now() - started) / 1000;
          this.averageSeconds = 0.8 * this.averageSeconds + 0.2 * seconds;
        }
      },
      { signal },
    );
  }

  /** Resolves when nothing runs or waits (for graceful shutdown). */
  onIdle(): Promise<void> {
    return this.queue.onIdle();
  }
}
