/**
 * The floor: the model alone. One ORT session created exactly as the server's session worker
 * creates it, fed a real photo already decoded and normalised to the model's input, timing only
 * `session.run` with the final output fetched. Nothing the server does can be faster than this.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findModel } from '@bgremove/shared';
import * as ort from 'onnxruntime-node';
import type { BackendConfig } from '../src/config';
import { sessionOptions } from '../src/inference/session-options';
import { decodeForModel } from '../src/pipeline/image-io';
import { modelInputSize, toInputTensor } from '../src/pipeline/preprocess';
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

export async function measureFloor(config: BackendConfig, photo: Buffer, runs: number): Promise<FloorRun> {
  const spec = findModel(config.MODELS[0]!, config.manifest);
  if (!spec) throw new Error(`model "${config.MODELS[0]}" is not in the manifest`);
  const bytes = await readFile(join(config.MODELS_DIR, spec.file));
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, serverSessionOptions(config));
  const createMs = performance.now() - t0;
  try {
    const inputName = spec.input.name ?? session.inputNames[0]!;
    const outputName = spec.output.name ?? session.outputNames[0]!;
    const size = modelInputSize(spec, { width: spec.input.width, height: spec.input.height });
    const rgb = await decodeForModel(photo, size, { maxPixels: config.MAX_INPUT_PIXELS });
    const input = toInputTensor(rgb, size, spec.normalize);
    const feeds = { [inputName]: new ort.Tensor('float32', input, [1, 3, size.height, size.width]) };
    const runOnce = async (): Promise<number> => {
      const start = performance.now();
      const outputs = await session.run(feeds, [outputName]);
      const ms = performance.now() - start;
      outputs[outputName]?.dispose();
      return ms;
    };
    const warmupMs = await runOnce();
    const samplesMs: number[] = [];
    for (let i = 0; i < runs; i++) samplesMs.push(await runOnce());
    return {
      model: spec.id,
      file: spec.file,
      input: { name: inputName, ...size },
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
