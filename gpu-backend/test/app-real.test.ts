/**
 * The HTTP app with the real registry and the real IS-Net weights (the smoke test of what the
 * fake engine of app.test.ts stands in for): a matte through every layer, inference off the
 * event loop, what ONNX Runtime reports, and readiness only after one real warm-up run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, createTestBackend, type TestBackend } from './support/backend';
import { scenePhoto } from './support/images';

let backend: TestBackend;
let photo: Uint8Array;
const inferences = (b: TestBackend) =>
  counterValue(b, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"');

beforeAll(async () => {
  photo = new Uint8Array(await scenePhoto());
  backend = await createTestBackend();
});
afterAll(() => backend.close());

describe('the app with the real model', () => {
  it('returns a matte with the contract headers and counts one model run', async () => {
    const before = await inferences(backend);
    const response = await backend.app.request('/v1/remove-background?output=matte', {
      method: 'POST',
      body: photo,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-model')).toBe('isnet-general-use');
    expect(response.headers.get('x-model-sha256')).toMatch(/^b6e8497b/);
    expect(response.headers.get('x-image-width')).toBe('480');
    expect(response.headers.get('server-timing')).toMatch(/inference;dur=\d+(\.\d+)?.*total;dur=/);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ width: 480, height: 360, channels: 1 });
    expect(await inferences(backend)).toBe(before + 1);
  });

  it('keeps the event loop responsive while the model runs', async () => {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const response = await backend.app.request('/v1/remove-background', { method: 'POST', body: photo });
    histogram.disable();
    expect(response.status).toBe(200);
    const maxMs = histogram.max / 1e6;
    console.log(`event loop max delay during a request: ${maxMs.toFixed(1)} ms`);
    // A whole inference takes seconds here; on the event loop it would stall it that long.
    expect(maxMs).toBeLessThan(250);
  });

  it('reports the runtime and where ONNX Runtime placed the graph', async () => {
    const diagnostics = (await (await backend.app.request('/v1/diagnostics')).json()) as {
      providers: { inUse: string[]; everyNodeOnFirstProvider: Record<string, boolean> };
      models: { placement: { nodesByProvider: Record<string, number> } }[];
      versions: Record<string, string>;
    };
    expect(diagnostics.providers.inUse).toEqual(['cpu']);
    expect(diagnostics.providers.everyNodeOnFirstProvider).toEqual({ 'isnet-general-use': true });
    // Every node of IS-Net ran on the CPU provider during the warm-up run (ORT's profiler).
    expect(diagnostics.models[0]!.placement.nodesByProvider.CPUExecutionProvider).toBeGreaterThan(400);
    expect(diagnostics.versions['onnxruntime-node']).toBe('1.30.0');
    const models = (await (await backend.app.request('/v1/models')).json()) as {
      models: { sha256: string; ready: boolean }[];
    };
    expect(models.models[0]).toMatchObject({ ready: true, sha256: expect.stringMatching(/^b6e8/) });
  });

  it('readyz is 503 until the model is loaded and warmed, with one warm-up run however many /warmup calls', async () => {
    const cold = await createTestBackend({}, { load: false });
    try {
      expect((await cold.app.request('/readyz')).status).toBe(503);
      const first = await cold.app.request('/warmup', { method: 'POST' });
      const second = await cold.app.request('/warmup', { method: 'POST' });
      expect([first.status, second.status]).toEqual([202, 202]);
      await cold.registry.loadAll();
      expect((await cold.app.request('/readyz')).status).toBe(200);
      expect((await cold.app.request('/warmup', { method: 'POST' })).status).toBe(200);
      expect(await inferences(cold)).toBe(1);
    } finally {
      await cold.close();
    }
  });
});
