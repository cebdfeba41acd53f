import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel } from '@bgremove/shared';
import { digestFile, digestMismatch } from '../src/inference/checksum';
import {
  INTERFACE_MODEL_KINDS,
  INTERFACE_SHAPES,
  writeInterfaceManifest,
  writeInterfaceModel,
  type InterfaceModelKind,
} from './fixtures/interface-models';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'interface-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic NCHW image-like tensor whose channels differ, so the channel mean is not trivial. */
function knownInput(height: number, width: number): Float32Array {
  const plane = height * width;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c += 1) {
    for (let i = 0; i < plane; i += 1)
      data[c * plane + i] = Math.sin(i * 0.0137 + c * 1.9) * (1.5 + c) - 0.2 * c;
  }
  return data;
}

/** The expected final mask, computed in float64: mean over channels, then sigmoid if the family has one. */
function expectedMask(input: Float32Array, plane: number, sigmoid: boolean): Float64Array {
  const out = new Float64Array(plane);
  for (let i = 0; i < plane; i += 1) {
    const mean = (input[i]! + input[plane + i]! + input[2 * plane + i]!) / 3;
    out[i] = sigmoid ? 1 / (1 + Math.exp(-mean)) : mean;
  }
  return out;
}

function maxAbsDifference(actual: Float32Array, expected: Float64Array): number {
  let max = 0;
  for (let i = 0; i < expected.length; i += 1) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

function range(values: Float32Array): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  return [low, high];
}

const cases: [InterfaceModelKind, string, number, number][] = [
  ['u2net', 'u2net', 320, 320],
  ['inspyrenet-dynamic', 'inspyrenet-dynamic', 96, 160], // any size: the dims are symbolic
  ['inspyrenet', 'inspyrenet', 1024, 1024],
  ['birefnet', 'birefnet-general', 1024, 1024],
];

describe.each(cases)('the %s interface model', (kind, manifestId, height, width) => {
  const shape = INTERFACE_SHAPES[kind];

  it('is described by a spec from its manifest entry that verifies against the file', async () => {
    const file = await writeInterfaceModel(kind, dir);
    const entry = findModel(manifestId)!;
    expect(file.spec).toEqual({
      ...entry,
      file: `${manifestId}.interface.onnx`,
      sha256: file.sha256,
      md5: expect.stringMatching(/^[0-9a-f]{32}$/),
      bytes: file.bytes,
      sources: [],
    });
    expect(digestMismatch(await digestFile(file.path), file.spec)).toBeUndefined();
  });

  it('loads in onnxruntime-node with the family interface and computes the expected mask', async () => {
    const { path } = await writeInterfaceModel(kind, dir);
    const session = await ort.InferenceSession.create(path);
    try {
      expect(session.inputNames).toEqual([shape.input]);
      expect(session.outputNames).toEqual(shape.outputs);
      const [input] = session.inputMetadata;
      expect(input).toMatchObject({
        name: shape.input,
        isTensor: true,
        type: 'float32',
        shape: shape.inputDims,
      });

      const data = knownInput(height, width);
      const results = await session.run({
        [shape.input]: new ort.Tensor('float32', data, [1, 3, height, width]),
      });
      const final = results[shape.outputs[0]!]!;
      expect(final.dims).toEqual([1, 1, height, width]);
      const expected = expectedMask(data, height * width, shape.sigmoid);
      expect(maxAbsDifference(final.data as Float32Array, expected)).toBeLessThan(1e-5);
      const finalValues = Float64Array.from(final.data as Float32Array);
      for (const side of shape.outputs.slice(1)) {
        expect(maxAbsDifference(results[side]!.data as Float32Array, finalValues), side).toBe(0);
      }
      const [low, high] = range(final.data as Float32Array);
      if (shape.sigmoid) {
        expect(low).toBeGreaterThanOrEqual(0);
        expect(high).toBeLessThanOrEqual(1);
      } else {
        expect(low).toBeLessThan(0); // logits, not probabilities
      }
    } finally {
      await session.release();
    }
  });
});

describe('writeInterfaceManifest', () => {
  it('writes every interface and a valid manifest listing them', async () => {
    const { manifest, files } = await writeInterfaceManifest(dir);
    expect(manifest.models.map((model) => model.id)).toEqual(
      INTERFACE_MODEL_KINDS.map((k) => INTERFACE_SHAPES[k].manifestId),
    );
    expect(manifest.default).toBe('u2net');
    expect(files['inspyrenet-dynamic']!.spec.input).toEqual({
      name: null,
      width: 1024,
      height: 1024,
      resize: 'keep-aspect',
      multiple: 32,
    });
    expect(files.birefnet!.spec.output.activation).toBe('sigmoid');
  });
});
