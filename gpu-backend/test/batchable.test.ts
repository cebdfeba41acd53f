import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODELS_DIR } from '../src/config';
import { makeBatchable } from '../scripts/make-batchable';

describe('make-batchable (graph edit for a symbolic batch dimension)', () => {
  it('IS-Net with batch 2 gives each image exactly what batch 1 gives', async () => {
    const original = await readFile(join(process.env.MODELS_DIR ?? DEFAULT_MODELS_DIR, 'isnet_fp16.onnx'));
    const session = await ort.InferenceSession.create(makeBatchable(original), { intraOpNumThreads: 2 });
    const dims = (session.inputMetadata[0] as unknown as { shape: readonly (number | string)[] }).shape;
    expect(dims).toEqual(['batch', 3, 1024, 1024]);
    const n = 3 * 1024 * 1024;
    const a = new Float32Array(n).map((_, i) => Math.sin(i * 0.001) * 0.5);
    const b = new Float32Array(n).map((_, i) => Math.cos(i * 0.0003) * 0.5);
    const run = async (data: Float32Array, batch: number) =>
      (await session.run({ input: new ort.Tensor('float32', data, [batch, 3, 1024, 1024]) }, ['output']))
        .output!;
    const [oa, ob] = [await run(a, 1), await run(b, 1)];
    const both = new Float32Array(2 * n);
    both.set(a);
    both.set(b, n);
    const oab = await run(both, 2);
    expect(oab.dims).toEqual([2, 1, 1024, 1024]);
    const plane = 1024 * 1024;
    const [da, db, dab] = [oa.data as Float32Array, ob.data as Float32Array, oab.data as Float32Array];
    let worst = 0;
    for (let i = 0; i < plane; i++)
      worst = Math.max(worst, Math.abs(dab[i]! - da[i]!), Math.abs(dab[plane + i]! - db[i]!));
    expect(worst).toBeLessThan(1e-4);
    // The two images really differ, so the comparison can tell them apart.
    let apart = 0;
    for (let i = 0; i < plane; i++) apart = Math.max(apart, Math.abs(da[i]! - db[i]!));
    expect(apart).toBeGreaterThan(0.1);
    await session.release();
  });

  it('refuses what is not a model', () => {
    expect(() => makeBatchable(new Uint8Array([1, 2, 3]))).toThrow();
  });
});
