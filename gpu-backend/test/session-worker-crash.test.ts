/**
 * A session worker thread dying (as a native crash or an out-of-memory kill of the thread would),
 * with the real registry and weights: /readyz says 503 while the model reloads on the replacement
 * thread and requests meanwhile get 503 backend_unavailable with Retry-After (the edge retries),
 * then readiness is 200 and requests are served again. The process stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue, createTestBackend, type TestBackend } from './support/backend';
import { scenePhoto } from './support/images';

let backend: TestBackend;
let photo: Buffer;

beforeAll(async () => {
  backend = await createTestBackend();
  photo = await scenePhoto();
}, 300_000);
afterAll(() => backend.close());

const threadsOf = (b: TestBackend) => b.registry['entries'].get(b.registry.defaultModelId)!.session.threads;
const post = () => backend.app.request('/v1/remove-background?max_side=128', { method: 'POST', body: photo });

async function readyz(): Promise<{ status: number; models: Record<string, string> }> {
  const response = await backend.app.request('/readyz');
  return { status: response.status, ...((await response.json()) as { models: Record<string, string> }) };
}

describe('a session worker that dies', () => {
  it('is replaced: readiness is 503 and requests 503 with Retry-After until the reload, then all is served', async () => {
    expect((await readyz()).status).toBe(200);
    // The thread dies while idle. (Killed during ONNX Runtime's native run, the whole process
    // aborts, in onnxruntime-node: the platform restarts the instance; see docs/RELIABILITY.md.)
    await threadsOf(backend)[0]!.terminate();
    await new Promise((r) => setTimeout(r, 50)); // the death is reported on the next tick
    expect(
      await counterValue(backend, 'bgremove_session_workers_lost_total', 'model="isnet-general-use"'),
    ).toBe(1);

    const during = await readyz();
    expect(during.status).toBe(503);
    expect(during.models['isnet-general-use']).toBe('loading');
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe('backend_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const deadline = Date.now() + 300_000;
    while ((await readyz()).status !== 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect((await readyz()).status).toBe(200);
    const after = await post();
    expect(after.status).toBe(200);
    expect(threadsOf(backend)).toHaveLength(1);
  }, 400_000);
});
