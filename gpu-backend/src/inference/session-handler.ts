/**
 * What a session does with its tasks, whatever hosts it. The weights are read once, verified
 * against the manifest and handed to ORT from memory, so what was checked is exactly what is
 * loaded. A failed load is forgotten and retried on the next task.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { digestMismatch } from './checksum';
import { float16ToFloat32, toMatte } from './postprocess';
import { toInputTensor } from './preprocess';
import { sessionOptions } from './session-options';
import type {
  LoadedInfo,
  NodePlacement,
  RunResult,
  SessionResult,
  SessionTask,
  SessionWorkerData,
} from './worker-protocol';

interface Loaded {
  session: ort.InferenceSession;
  info: Omit<LoadedInfo, 'timings'>;
}

/**
 * One ONNX Runtime session's tasks (load, run, placement) for whatever hosts it: the session
 * process in production (session-worker.ts), a worker thread in the benchmark that compares the
 * two. `tag` makes its profiler files unique within the temp dir.
 */
export function createSessionHandler(
  data: SessionWorkerData,
  tag: string,
): (task: SessionTask) => Promise<SessionResult> {
  let loading: Promise<Loaded> | undefined;
  let placement: NodePlacement | undefined;
  // ORT's profiler records, per node, the provider that ran it; it is on only until the warm-up
  // run is done, and writes under the temp dir (the one writable place on a read-only image).
  const PROFILE_PREFIX = join(tmpdir(), `bgremove-ort-${data.spec.id}-${tag}`);
  const tensorBuffers = new Map<string, Float32Array<ArrayBuffer>>();

  async function load(): Promise<{ loaded: Loaded; timings: LoadedInfo['timings'] }> {
    const t0 = performance.now();
    const bytes = await readFile(data.modelPath);
    const t1 = performance.now();
    const refuse = (why: string) =>
      new Error(`refusing to load ${data.modelPath} for model ${data.spec.id}: ${why}`);
    if (data.spec.bytes !== null && bytes.length !== data.spec.bytes) {
      throw refuse(`size is ${bytes.length} bytes, the manifest pins ${data.spec.bytes}`);
    }
    // ORT builds the session off this thread while the bytes it was given are hashed here; the
    // session is used only if they match the manifest (a servable model always pins its SHA-256,
    // so md5 is checked only where it is all the manifest has).
    const creating = ort.InferenceSession.create(bytes, {
      ...sessionOptions({
        providers: data.providers,
        intraOpThreads: data.intraOpThreads,
        memoryProfile: data.memoryProfile,
      }),
      enableProfiling: true,
      profileFilePrefix: PROFILE_PREFIX,
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const checkMd5 = data.spec.sha256 === null && data.spec.md5 !== null;
    const md5 = checkMd5 ? createHash('md5').update(bytes).digest('hex') : '';
    const mismatch = digestMismatch(
      { sha256, md5, bytes: bytes.length },
      { sha256: data.spec.sha256, md5: checkMd5 ? data.spec.md5 : null, bytes: data.spec.bytes },
    );
    const t2 = performance.now();
    if (mismatch) {
      await creating.then((session) => session.release()).catch(() => {});
      throw refuse(mismatch);
    }
    const session = await creating;
    const t3 = performance.now();
    const inputName = data.spec.input.name ?? session.inputNames[0];
    const outputName = data.spec.output.name ?? session.outputNames[0];
    if (!inputName || !session.inputNames.includes(inputName)) {
      throw new Error(
        `model ${data.spec.id}: manifest input "${inputName}" not in the graph's inputs ${session.inputNames.join(', ')}`,
      );
    }
    if (!outputName || !session.outputNames.includes(outputName)) {
      throw new Error(
        `model ${data.spec.id}: manifest output "${outputName}" not in the graph's outputs ${session.outputNames.join(', ')}`,
      );
    }
    const info = {
      kind: 'loaded' as const,
      sha256,
      bytes: bytes.length,
      inputName,
      outputName,
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
      providers: data.providers,
    };
    // hashMs overlaps createMs: createMs is from the end of the hash to the session being ready.
    return { loaded: { session, info }, timings: { readMs: t1 - t0, hashMs: t2 - t1, createMs: t3 - t2 } };
  }

  async function ensureLoaded(): Promise<{ loaded: Loaded; timings: LoadedInfo['timings'] }> {
    if (loading) return { loaded: await loading, timings: { readMs: 0, hashMs: 0, createMs: 0 } };
    const attempt = load();
    loading = attempt.then((r) => r.loaded);
    // The caller handles the rejection through `attempt`; this copy must not count as unhandled.
    loading.catch(() => {});
    try {
      return await attempt;
    } catch (error) {
      loading = undefined;
      throw error;
    }
  }

  function tensorBuffer(width: number, height: number): Float32Array<ArrayBuffer> {
    const key = `${width}x${height}`;
    let buffer = tensorBuffers.get(key);
    if (!buffer) {
      buffer = new Float32Array(3 * width * height);
      tensorBuffers.set(key, buffer);
    }
    return buffer;
  }

  async function run(task: Extract<SessionTask, { kind: 'run' }>): Promise<RunResult> {
    const { session, info } = (await ensureLoaded()).loaded;
    const t0 = performance.now();
    const size = { width: task.width, height: task.height };
    const input = toInputTensor(task.rgb, size, data.spec.normalize, tensorBuffer(task.width, task.height));
    const tensor = new ort.Tensor('float32', input, [1, 3, task.height, task.width]);
    const t1 = performance.now();
    const outputs = await session.run({ [info.inputName]: tensor }, [info.outputName]);
    const t2 = performance.now();
    const output = outputs[info.outputName]!;
    const values =
      output.type === 'float16'
        ? float16ToFloat32(output.data as Uint16Array)
        : (output.data as Float32Array);
    const dims = output.dims;
    const outHeight = Number(dims[dims.length - 2]);
    const outWidth = Number(dims[dims.length - 1]);
    if (outWidth !== task.width || outHeight !== task.height) {
      throw new Error(
        `model ${data.spec.id}: output is ${outWidth}x${outHeight}, input was ${task.width}x${task.height}`,
      );
    }
    const matte = toMatte(values, task.width * task.height, data.spec.output);
    const t3 = performance.now();
    return {
      kind: 'ran',
      matte,
      timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  interface ProfileEvent {
    cat?: string;
    name?: string;
    args?: { provider?: string; node_index?: string };
  }

  /** Stops the profiler and counts the distinct nodes each provider ran. */
  async function nodePlacement(session: ort.InferenceSession): Promise<NodePlacement> {
    session.endProfiling();
    const dir = dirname(PROFILE_PREFIX);
    const files = (await readdir(dir)).filter((f) => f.startsWith(basename(PROFILE_PREFIX)));
    const nodes = new Map<string, string>();
    for (const file of files) {
      const path = join(dir, file);
      const events = JSON.parse(await readFile(path, 'utf8')) as ProfileEvent[];
      await unlink(path).catch(() => {});
      for (const e of events) {
        if (e.cat === 'Node' && e.args?.provider && e.name)
          nodes.set(e.name.replace(/_kernel_time$|_fence_(before|after)$/, ''), e.args.provider);
      }
    }
    if (nodes.size === 0)
      return { kind: 'placement', nodesByProvider: {}, unavailable: 'the profiler wrote no node events' };
    const nodesByProvider: Record<string, number> = {};
    for (const provider of nodes.values()) nodesByProvider[provider] = (nodesByProvider[provider] ?? 0) + 1;
    return { kind: 'placement', nodesByProvider };
  }

  return async function handle(task: SessionTask): Promise<SessionResult> {
    if (task.kind === 'placement') {
      const { session } = (await ensureLoaded()).loaded;
      placement ??= await nodePlacement(session).catch((error: unknown) => ({
        kind: 'placement' as const,
        nodesByProvider: {},
        unavailable: `profiling failed: ${error instanceof Error ? error.message : String(error)}`,
      }));
      return placement;
    }
    if (task.kind === 'load') {
      const { loaded, timings } = await ensureLoaded();
      return { ...loaded.info, timings };
    }
    return run(task);
  };
}
