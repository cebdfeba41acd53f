import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, findModel, type ModelSpec } from '@bgremove/shared';
import type { BackendConfig } from '../config';
import { ModelSession, SessionWorkerLost } from '../inference/model-session';
import { providerNameOf, runtimeInfo } from '../inference/providers';
import type { LoadedInfo, NodePlacement } from '../inference/worker-protocol';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Engine, ModelRun, ModelState, ModelStatus, RuntimeStatus, SessionsStatus } from './engine';

export type { ModelState, ModelStatus } from './engine';

interface Entry {
  spec: ModelSpec;
  session: ModelSession;
  state: ModelState;
  info?: LoadedInfo;
  error?: string;
  coldStart?: ModelStatus['coldStart'];
  placement?: NodePlacement;
}

export interface ModelRegistryOptions {
  config: BackendConfig;
  logger: Logger;
  metrics: Metrics;
  /** Delay before retry n (1-based) of a failed load. */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * The Engine of this process: the models it serves, one ModelSession each (ONNX Runtime in child
 * processes), loaded and warmed before /readyz says so.
 */
export class ModelRegistry implements Engine {
  private readonly entries = new Map<string, Entry>();
  private loadingAll: Promise<void> | undefined;
  private readonly options: Required<ModelRegistryOptions>;

  constructor(options: ModelRegistryOptions) {
    this.options = { retryDelayMs: (n) => Math.min(1000 * 2 ** (n - 1), 10_000), ...options };
    const { config } = options;
    for (const id of config.MODELS) {
      const spec = findModel(id, config.manifest)!;
      const modelPath = join(config.MODELS_DIR, spec.file);
      if (!existsSync(modelPath)) {
        // A model with no source of its own (its file comes only from a mirror) needs MODELS_MIRROR.
        const mirror = spec.sources.length === 0 ? ` MODELS_MIRROR=<folder with ${spec.file}>` : '';
        throw new Error(
          `model "${id}": ${modelPath} does not exist; install it with \`MODELS=${id}${mirror} npm run models\` or set MODELS_DIR`,
        );
      }
      const session = new ModelSession({
        spec,
        modelPath,
        providers: config.ORT_PROVIDERS,
        intraOpThreads: config.ORT_INTRA_OP_THREADS,
        memoryProfile: config.ORT_MEMORY_PROFILE,
        sessions: config.SESSIONS_PER_MODEL,
      });
      const entry: Entry = { spec, session, state: 'pending' };
      this.entries.set(id, entry);
      session.onWorkerLost((error) => this.replaceSession(entry, error));
      options.metrics.modelReady.set({ model: id }, 0);
    }
  }

  get defaultModelId(): string {
    return this.options.config.MODELS[0]!;
  }

  get ready(): boolean {
    return [...this.entries.values()].every((e) => e.state === 'ready');
  }

  /** The model to use for a request, or the error to answer with. */
  resolve(id: string | undefined): ModelSpec {
    const entry = this.entries.get(id ?? this.defaultModelId);
    if (!entry) {
      throw new AppError(
        'unknown_model',
        `model "${id}" is not installed on this deployment; available: ${[...this.entries.keys()].join(', ')}`,
      );
    }
    if (entry.state !== 'ready') {
      throw new AppError('backend_unavailable', `model "${entry.spec.id}" is still loading`, {
        retryAfterSeconds: 5,
      });
    }
    return entry.spec;
  }

  /** Runs one image through a ready model, counting it. */
  async run(id: string, rgb: Uint8Array, width: number, height: number): Promise<ModelRun> {
    const entry = this.entries.get(id)!;
    try {
      const { matte, timings } = await entry.session.run(rgb, width, height);
      this.options.metrics.inferences.inc({ model: id, outcome: 'ok' });
      return { matte, timings };
    } catch (error) {
      this.options.metrics.inferences.inc({ model: id, outcome: 'error' });
      if (error instanceof SessionWorkerLost) {
        // Not the image's fault: the caller (the edge) retries a 503 with Retry-After.
        throw new AppError('backend_unavailable', `model "${id}" is restarting; retry shortly`, {
          retryAfterSeconds: 2,
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * A session process died: ModelSession starts a new one (after a back-off when they keep
   * dying). Until it has loaded and run once more, the model is `loading` (so /readyz says 503
   * and new requests get 503 backend_unavailable), then ready again. A reload that fails every
   * attempt leaves it `failed` (not ready; POST /warmup tries again) and is logged.
   */
  private replaceSession(entry: Entry, error: unknown): void {
    const { logger, metrics } = this.options;
    logger.error(
      { model: entry.spec.id, error, processes: entry.session.processes() },
      `a session process of ${entry.spec.id} died; replacing it`,
    );
    metrics.sessionWorkersLost.inc({ model: entry.spec.id });
    if (entry.state !== 'ready') return; // loading already: the load covers the new worker
    metrics.modelReady.set({ model: entry.spec.id }, 0);
    entry.state = 'loading';
    this.loadOne(entry).catch((loadError: unknown) =>
      logger.error({ model: entry.spec.id, error: loadError }, `${entry.spec.id} did not come back`),
    );
  }

  /** Images waiting for a session, over all models. */
  get queued(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.session.queued;
    return n;
  }

  /** Loads and warms every model; idempotent while in progress; a failure is retried, then thrown. */
  loadAll(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.loadingAll ??= Promise.all([...this.entries.values()].map((e) => this.loadOne(e)))
      .then(() => undefined)
      .finally(() => {
        this.loadingAll = undefined;
      });
    return this.loadingAll;
  }

  private async loadOne(entry: Entry): Promise<void> {
    if (entry.state === 'ready') return;
    const { config, logger, metrics } = this.options;
    const id = entry.spec.id;
    for (let attempt = 1; attempt <= config.MODEL_LOAD_ATTEMPTS; attempt++) {
      entry.state = 'loading';
      try {
        const info = await entry.session.load();
        const t0 = performance.now();
        const { width, height } = entry.spec.input;
        await this.run(id, warmupImage(width, height), width, height);
        const warmupMs = performance.now() - t0;
        entry.placement = await entry.session.placement();
        entry.info = info;
        entry.coldStart = { ...info.timings, warmupMs, readyAtMs: performance.now() };
        entry.state = 'ready';
        delete entry.error;
        metrics.modelReady.set({ model: id }, 1);
        logger.info(
          { model: id, providers: info.providers, coldStart: entry.coldStart, placement: entry.placement },
          `model ${id} ready`,
        );
        return;
      } catch (error) {
        entry.state = 'failed';
        entry.error = error instanceof Error ? error.message : String(error);
        logger.error({ model: id, attempt, error }, `model ${id} failed to load (attempt ${attempt})`);
        if (attempt < config.MODEL_LOAD_ATTEMPTS) await sleep(this.options.retryDelayMs(attempt));
      }
    }
    throw new Error(
      `model ${id} failed to load after ${config.MODEL_LOAD_ATTEMPTS} attempt(s): ${entry.error}`,
    );
  }

  status(): ModelStatus[] {
    return [...this.entries.values()].map((e) => ({
      id: e.spec.id,
      family: e.spec.family,
      description: e.spec.description,
      file: e.spec.file,
      sha256: e.spec.sha256,
      input: { width: e.spec.input.width, height: e.spec.input.height, resize: e.spec.input.resize },
      state: e.state,
      loaded: e.info !== undefined,
      ready: e.state === 'ready',
      ...(e.error !== undefined && { error: 'the model failed to load; see the logs' }),
      ...(e.coldStart && { coldStart: e.coldStart }),
      ...(e.info && {
        graph: { input: e.info.inputName, output: e.info.outputName, outputs: e.info.outputNames },
      }),
      ...(e.placement && {
        placement: {
          nodesByProvider: e.placement.nodesByProvider,
          ...(e.placement.unavailable !== undefined && { unavailable: e.placement.unavailable }),
        },
      }),
    }));
  }

  runtime(): RuntimeStatus {
    const { version, available } = runtimeInfo();
    const requested = this.options.config.ORT_PROVIDERS;
    const placed = (e: Entry) =>
      Object.keys(e.placement?.nodesByProvider ?? {}).map((ep) => providerNameOf(ep));
    const entries = [...this.entries.values()];
    return {
      version,
      providers: {
        requested,
        inUse: [...new Set(entries.flatMap(placed))],
        everyNodeOnFirstProvider: Object.fromEntries(
          entries.map((e) => {
            const used = placed(e);
            return [e.spec.id, used.length === 1 && used[0] === requested[0]];
          }),
        ),
        available,
      },
    };
  }

  sessions(): Record<string, SessionsStatus> {
    return Object.fromEntries(
      [...this.entries.values()].map((e) => [
        e.spec.id,
        { processes: e.session.processes(), lost: e.session.lost },
      ]),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.session.close()));
  }
}

/** A smooth synthetic RGB image for the warm-up run: exercises every kernel, needs no file. */
function warmupImage(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      rgb[i] = (x * 255) / width;
      rgb[i + 1] = (y * 255) / height;
      rgb[i + 2] = 128;
    }
  }
  return rgb;
}
