/**
 * The floor: the model alone. One ORT session created exactly as the server's session worker
 * creates it, fed a real photo already decoded and normalised to the model's input, timing only
 * `session.run` with the final output fetched. Nothing the server does can be faster than this.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findModel, type ModelSpec } from '@bgremove/shared';
import * as ort from 'onnxruntime-node';
import type { BackendConfig } from '../src/config';
import { sessionOptions } from '../src/inference/session-options';
import { decodeForModel } from '../src/pipeline/image-io';
import { toInputTensor } from '../src/inference/preprocess';
import { modelInputSize } from '../src/models/input-size';
import { makeBatchable } from '../scripts/make-batchable';
import { summarize, type Summary } from './stats';

export interface FloorRun {
  model: string;
  file: string;
  input: { name: string; width: number; height: number };
  output: string;
  createMs: number;
  warmupMs: number;
  samplesMs: number[];
  summary: Summary;
}

const serverSessionOptions = (config: BackendConfig) =>
  sessionOptions({
    providers: config.ORT_PROVIDERS,
    intraOpThreads: config.ORT_INTRA_OP_THREADS,
    memoryProfile: config.ORT_MEMORY_PROFILE,
  });

/**
 * The floor of one run: measured before the server starts and again after it stops (never while
 * it runs), so drift from other load on the machine shows as two different medians.
 */
export interface FloorResult {
  before: FloorRun;
  after: FloorRun;
  /** Both runs' samples together. */
  summary: Summary;
}

export function combineFloor(before: FloorRun, after: FloorRun): FloorResult {
  return { before, after, summary: summarize([...before.samplesMs, ...after.samplesMs]) };
}

interface PreparedModel {
  spec: ModelSpec;
  bytes: Buffer;
  size: { width: number; height: number };
  /** One image, decoded and normalised to the model's input (CHW float32). */
  input: Float32Array;
}

async function prepareModel(config: BackendConfig, photo: Buffer): Promise<PreparedModel> {
  const spec = findModel(config.MODELS[0]!, config.manifest);
  if (!spec) throw new Error(`model "${config.MODELS[0]}" is not in the manifest`);
  const bytes = await readFile(join(config.MODELS_DIR, spec.file));
  const size = modelInputSize(spec, { width: spec.input.width, height: spec.input.height });
  const rgb = await decodeForModel(photo, size, { maxPixels: config.MAX_INPUT_PIXELS });
  return { spec, bytes, size, input: toInputTensor(rgb, size, spec.normalize) };
}

/** Times one `session.run` of `batch` copies of the image, fetching only the final output. */
function batchRunner(session: ort.InferenceSession, model: PreparedModel, batch: number) {
  const inputName = model.spec.input.name ?? session.inputNames[0]!;
  const outputName = model.spec.output.name ?? session.outputNames[0]!;
  const { width, height } = model.size;
  const data = new Float32Array(batch * model.input.length);
  for (let i = 0; i < batch; i++) data.set(model.input, i * model.input.length);
  const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, 3, height, width]) };
  const runOnce = async (): Promise<number> => {
    const start = performance.now();
    const outputs = await session.run(feeds, [outputName]);
    const ms = performance.now() - start;
    outputs[outputName]?.dispose();
    return ms;
  };
  return { inputName, outputName, runOnce };
}

export async function measureFloor(config: BackendConfig, photo: Buffer, runs: number): Promise<FloorRun> {
  const model = await prepareModel(config, photo);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model.bytes, serverSessionOptions(config));
  const createMs = performance.now() - t0;
  try {
    const { inputName, outputName, runOnce } = batchRunner(session, model, 1);
    const warmupMs = await runOnce();
    const samplesMs: number[] = [];
    for (let i = 0; i < runs; i++) samplesMs.push(await runOnce());
    return {
      model: model.spec.id,
      file: model.spec.file,
      input: { name: inputName, ...model.size },
      output: outputName,
      createMs,
      warmupMs,
      samplesMs,
      summary: summarize(samplesMs),
    };
  } finally {
    await session.release();
  }
}

export interface BatchSizeRun {
  batch: number;
  /** One `session.run` over the whole batch, per round. */
  samplesMs: number[];
  summary: Summary;
  /** Median run time ÷ batch. */
  perImageMs: number;
  /** batch × 1000 ÷ median run time. */
  imagesPerSecond: number;
}

export interface BatchFloorResult {
  model: string;
  /** The model's file with a symbolic batch dimension (scripts/make-batchable.ts), in memory. */
  file: string;
  createMs: number;
  rounds: number;
  sizes: BatchSizeRun[];
}

/**
 * The floor per image at several batch sizes, on one session of the batchable graph. Every round
 * runs each size once, in an order rotated per round, so drift from other load on the machine
 * spreads over all sizes instead of landing on one.
 */
export async function measureBatchFloor(
  config: BackendConfig,
  photo: Buffer,
  batches: readonly number[],
  rounds: number,
): Promise<BatchFloorResult> {
  const model = await prepareModel(config, photo);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(makeBatchable(model.bytes), serverSessionOptions(config));
  const createMs = performance.now() - t0;
  try {
    const sizes = [...new Set([1, ...batches])].sort((a, b) => a - b);
    const runners = sizes.map((batch) => ({ batch, ...batchRunner(session, model, batch) }));
    for (const r of runners) await r.runOnce(); // warm-up per shape
    const samples = new Map<number, number[]>(sizes.map((b) => [b, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < runners.length; k++) {
        const r = runners[(round + k) % runners.length]!;
        samples.get(r.batch)!.push(await r.runOnce());
      }
    }
    return {
      model: model.spec.id,
      file: `${model.spec.file} via makeBatchable`,
      createMs,
      rounds,
      sizes: sizes.map((batch) => {
        const summary = summarize(samples.get(batch)!);
        return {
          batch,
          samplesMs: samples.get(batch)!,
          summary,
          perImageMs: summary.median / batch,
          imagesPerSecond: (batch * 1000) / summary.median,
        };
      }),
    };
  } finally {
    await session.release();
  }
}
