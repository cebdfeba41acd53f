/**
 * U²-Netp, the second real model: its mattes through the real pipeline against rembg's own
 * `u2netp` outputs (MAE and IoU, never bytes), and both models served by one backend.
 *
 * The u2netp weights have no npm-registry source: they are taken from MODELS_DIR, or copied there
 * from MODELS_MIRROR (`.ci/run` installs them); the comparison needs rembg's fixtures under
 * EVAL_DIR. Without either the tests are skipped with one line saying why (under EVAL_REQUIRED=1
 * they fail instead).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findModel } from '@bgremove/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS_DIR } from '../src/config';
import { removeBackground } from '../src/pipeline/remove-background';
import { channel, iou, mae } from './support/compare';
import { createTestBackend, type TestBackend } from './support/backend';
import { hasEvalData, photo, reference } from './support/eval';
import { mirrorOnlyWeights } from './support/weights';

const U2NETP = findModel('u2netp')!;
const ISNET = findModel('isnet-general-use')!;
const modelsDir = process.env.MODELS_DIR || DEFAULT_MODELS_DIR;

const noWeights = await mirrorOnlyWeights('u2netp');
const noFixtures = hasEvalData('rembg-fixtures', "u2netp parity (mattes against rembg's u2netp outputs)")
  ? undefined
  : 'no rembg fixtures under EVAL_DIR';

const PICTURES = ['car-1', 'anime-girl-1', 'cloth-1', 'plants-1'] as const;

describe('u2netp mattes against rembg references', () => {
  const skipReason = noWeights ?? noFixtures;
  let backend: TestBackend | undefined;
  beforeAll(async () => {
    if (skipReason === undefined) backend = await createTestBackend({ MODELS: 'u2netp' });
  });
  afterAll(() => backend?.close());

  it.for(PICTURES)('%s (refine=none): MAE <= 0.01 and IoU >= 0.96', async (name, context) => {
    if (skipReason !== undefined || backend === undefined) return context.skip(skipReason);
    const result = await removeBackground(
      photo(name),
      { model: 'u2netp', output: 'matte', format: 'png', refine: 'none' },
      backend.registry,
      { maxPixels: 50_000_000, pngCompressionLevel: 3 },
    );
    expect(result.model.id).toBe('u2netp');
    const ours = await channel(result.bytes, 'first');
    const theirs = await channel(reference(name, 'u2netp'), 'alpha');
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    const m = mae(ours.data, theirs.data);
    const i = iou(ours.data, theirs.data);
    console.log(`u2netp ${name}: MAE ${m.toFixed(4)}, IoU ${i.toFixed(4)}`);
    expect(m).toBeLessThanOrEqual(0.01);
    expect(i).toBeGreaterThanOrEqual(0.96);
  });
});

describe('MODELS=isnet-general-use,u2netp serves both', () => {
  // IS-Net's weights are the tests' default ones (installed by the globalSetup).
  const skipReason =
    noWeights ??
    (existsSync(join(modelsDir, ISNET.file))
      ? undefined
      : `no IS-Net weights at ${join(modelsDir, ISNET.file)}`);
  let backend: TestBackend | undefined;
  beforeAll(async () => {
    if (skipReason === undefined) backend = await createTestBackend({ MODELS: 'isnet-general-use,u2netp' });
  });
  afterAll(() => backend?.close());

  // A small photo made here: the point is which model answers, not the matte.
  const image = async () => {
    const { default: sharp } = await import('sharp');
    return sharp({ create: { width: 96, height: 64, channels: 3, background: '#3366aa' } })
      .composite([
        {
          input: { create: { width: 40, height: 30, channels: 3, background: '#f0d020' } },
          left: 28,
          top: 17,
        },
      ])
      .jpeg()
      .toBuffer();
  };

  it('lists both, ready, with their pinned checksums and descriptions', async (context) => {
    if (skipReason !== undefined || backend === undefined) return context.skip(skipReason);
    const body = (await (await backend.app.request('/v1/models')).json()) as {
      default: string;
      models: { id: string; sha256: string; ready: boolean; description: string }[];
    };
    expect(body.default).toBe('isnet-general-use');
    expect(body.models.map((m) => [m.id, m.sha256, m.ready])).toEqual([
      ['isnet-general-use', ISNET.sha256, true],
      ['u2netp', U2NETP.sha256, true],
    ]);
    for (const model of body.models) expect(model.description).toBe(findModel(model.id)!.description);
  });

  it.for([
    ['', ISNET],
    ['?model=u2netp', U2NETP],
    ['?model=isnet-general-use', ISNET],
  ] as const)('POST /v1/remove-background%s is answered by that model', async ([query, spec], context) => {
    if (skipReason !== undefined || backend === undefined) return context.skip(skipReason);
    const response = await backend.app.request(`/v1/remove-background${query}`, {
      method: 'POST',
      body: new Uint8Array(await image()),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-model')).toBe(spec.id);
    expect(response.headers.get('x-model-sha256')).toBe(spec.sha256);
    const matte = await channel(Buffer.from(await response.arrayBuffer()), 'first');
    expect([matte.width, matte.height]).toEqual([96, 64]);
  });
});
