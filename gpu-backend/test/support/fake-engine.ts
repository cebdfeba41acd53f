import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, findModel, type ModelSpec } from '@bgremove/shared';
import type { BackendConfig } from '../../src/config';
import type { Engine, ModelRun, ModelState, ModelStatus, RuntimeStatus } from '../../src/models/engine';
import type { Metrics } from '../../src/observability/metrics';

export interface FakeEngineOptions {
  config: BackendConfig;
  metrics: Metrics;
  /** Milliseconds each run takes (the runs do not block the event loop). */
  runMs?: number;
  /** Milliseconds loadAll() takes. */
  loadMs?: number;
}

/**
 * An Engine without weights, for the route tests: it resolves the configured models from the
 * manifest like the real registry, and "runs" one by answering the luminance of the RGB it was
 * given as the matte (so the output depends on the input), after `runMs`. It counts runs in the
 * same metric as the real registry, one warm-up run per model included.
 */
export class FakeEngine implements Engine {
  private readonly options: Required<FakeEngineOptions>;
  private readonly specs: ModelSpec[];
  private state: ModelState = 'pending';
  private loading: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Runs started and not yet finished. */
  running = 0;
  /** How long the warm-up run of loadAll() took (as the registry reports in coldStart). */
  private warmupMs: number | undefined;

  constructor(options: FakeEngineOptions) {
    this.options = { runMs: 0, loadMs: 0, ...options };
    this.specs = options.config.MODELS.map((id) => findModel(id, options.config.manifest)!);
  }

  get defaultModelId(): string {
    return this.specs[0]!.id;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get queued(): number {
    return 0;
  }

  resolve(id: string | undefined): ModelSpec {
    const spec = this.specs.find((s) => s.id === (id ?? this.defaultModelId));
    if (!spec) {
      throw new AppError(
        'unknown_model',
        `model "${id}" is not installed on this deployment; available: ${this.specs.map((s) => s.id).join(', ')}`,
      );
    }
    if (!this.ready) {
      throw new AppError('backend_unavailable', `model "${spec.id}" is still loading`, {
        retryAfterSeconds: 5,
      });
    }
    return spec;
  }

  run(id: string, rgb: Uint8Array, width: number, height: number): Promise<ModelRun> {
    const work = this.runNow(id, rgb, width, height);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => {});
    return work;
  }

  private async runNow(id: string, rgb: Uint8Array, width: number, height: number): Promise<ModelRun> {
    this.running++;
    try {
      if (rgb.length !== width * height * 3) {
        throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
      }
      const t0 = performance.now();
      if (this.options.runMs > 0) await sleep(this.options.runMs);
      const matte = new Uint8Array(width * height);
      for (let i = 0, j = 0; i < matte.length; i++, j += 3) {
        matte[i] = Math.round(0.299 * rgb[j]! + 0.587 * rgb[j + 1]! + 0.114 * rgb[j + 2]!);
      }
      this.options.metrics.inferences.inc({ model: id, outcome: 'ok' });
      return {
        matte,
        timings: { preprocessMs: 0, inferenceMs: performance.now() - t0, postprocessMs: 0 },
      };
    } finally {
      this.running--;
    }
  }

  loadAll(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.loading ??= (async () => {
      this.state = 'loading';
      if (this.options.loadMs > 0) await sleep(this.options.loadMs);
      for (const spec of this.specs) {
        const { width, height } = spec.input;
        const t0 = performance.now();
        await this.runNow(spec.id, new Uint8Array(width * height * 3), width, height);
        this.warmupMs = Math.max(this.warmupMs ?? 0, performance.now() - t0);
      }
      this.state = 'ready';
      for (const spec of this.specs) this.options.metrics.modelReady.set({ model: spec.id }, 1);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  status(): ModelStatus[] {
    return this.specs.map((spec) => ({
      id: spec.id,
      family: spec.family,
      description: spec.description,
      file: spec.file,
      sha256: spec.sha256,
      input: { width: spec.input.width, height: spec.input.height, resize: spec.input.resize },
      state: this.state,
      loaded: this.ready,
      ready: this.ready,
      ...(this.warmupMs !== undefined && {
        coldStart: { readMs: 0, hashMs: 0, createMs: 0, warmupMs: this.warmupMs, readyAtMs: 0 },
      }),
    }));
  }

  runtime(): RuntimeStatus {
    const requested = this.options.config.ORT_PROVIDERS;
    return {
      version: 'fake',
      providers: {
        requested,
        inUse: [],
        everyNodeOnFirstProvider: Object.fromEntries(this.specs.map((s) => [s.id, false])),
        available: [],
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
