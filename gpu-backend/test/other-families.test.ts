/**
 * The families we cannot download here (U²-Net, InSPyReNet static and dynamic, BiRefNet) run
 * through the same server pipeline as generated ONNX files with their exact interfaces. Each
 * graph outputs a squashed channel mean, so a correct pipeline gives a matte that follows the
 * photo's brightness, at the photo's size and orientation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeInterfaceManifest } from './fixtures/interface-models';
import { channel } from './support/compare';
import { createTestBackend, type TestBackend } from './support/backend';
import { drawScene, sceneImage } from './support/images';

let dir: string;
let backend: TestBackend | undefined;

function correlation(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
    saa += a[i]! * a[i]!;
    sbb += b[i]! * b[i]!;
    sab += a[i]! * b[i]!;
  }
  return (n * sab - sa * sb) / Math.sqrt((n * saa - sa * sa) * (n * sbb - sb * sb));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'families-'));
  const { manifest } = await writeInterfaceManifest(dir);
  backend = await createTestBackend(
    { MODELS_DIR: dir, MODELS: manifest.models.map((m) => m.id).join(',') },
    { manifest },
  );
});
afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('other model families through the real pipeline', () => {
  it.each(['u2net', 'inspyrenet', 'inspyrenet-dynamic', 'birefnet-general'])(
    '%s: a matte of the input size that follows the image',
    async (model) => {
      // 987×1481: not square, so a transposed dynamic shape would show.
      const bytes = await sceneImage(drawScene({ width: 987, height: 1481, shape: 'star', seed: 4 }));
      // The raw map (refine=none): these stand-in graphs output the image's own brightness.
      const response = await backend!.app.request(
        `/v1/remove-background?model=${model}&refine=none&subject=all`,
        { method: 'POST', body: new Uint8Array(bytes) },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('x-model')).toBe(model);
      const matte = await channel(Buffer.from(await response.arrayBuffer()), 'first');
      expect([matte.width, matte.height]).toEqual([987, 1481]);
      const gray = await sharp(bytes).greyscale().raw().toBuffer();
      const r = correlation(matte.data, gray);
      expect(r).toBeGreaterThan(0.85);
    },
  );

  it('reports each graph as loaded with its real input and output names', async () => {
    const models = (await (await backend!.app.request('/v1/models')).json()) as {
      models: { id: string; ready: boolean; graph: { input: string; output: string } }[];
    };
    const graphs = Object.fromEntries(models.models.map((m) => [m.id, m.graph]));
    expect(graphs.u2net).toEqual(expect.objectContaining({ input: 'input.1', output: '1959' }));
    expect(graphs['birefnet-general']).toEqual(expect.objectContaining({ input: 'input_image' }));
    expect(models.models.every((m) => m.ready)).toBe(true);
  });
});
