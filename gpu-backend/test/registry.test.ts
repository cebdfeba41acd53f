import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS_DIR } from '../src/config';
import { createTestBackend } from './support/backend';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('model registry', () => {
  it('refuses weights of the right size whose SHA-256 differs, before the session is used', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'registry-sha-'));
    try {
      await writeFile(join(bad, 'isnet_fp16.onnx'), Buffer.alloc(88_188_479, 7));
      const backend = await createTestBackend({ MODELS_DIR: bad, MODEL_LOAD_ATTEMPTS: '1' }, { load: false });
      try {
        await expect(backend.registry.loadAll()).rejects.toThrow(
          /sha256 is [0-9a-f]{64}, the manifest pins b6e8497b/,
        );
        expect(backend.registry.status()[0]).toMatchObject({ state: 'failed', loaded: false });
      } finally {
        await backend.close();
      }
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('does not cache a failed load: once the file is fixed, the next load succeeds', async () => {
    const file = join(dir, 'isnet_fp16.onnx');
    await writeFile(file, 'corrupt');
    const backend = await createTestBackend({ MODELS_DIR: dir, MODEL_LOAD_ATTEMPTS: '1' }, { load: false });
    try {
      await expect(backend.registry.loadAll()).rejects.toThrow(/size is 7 bytes/);
      expect(backend.registry.status()[0]).toMatchObject({ state: 'failed', ready: false });
      // The public status says it failed without leaking paths.
      expect(JSON.stringify(backend.registry.status())).not.toContain(dir);
      expect((await backend.app.request('/readyz')).status).toBe(503);

      await unlink(file);
      await symlink(join(process.env.MODELS_DIR ?? DEFAULT_MODELS_DIR, 'isnet_fp16.onnx'), file);
      await backend.registry.loadAll();
      expect(backend.registry.status()[0]).toMatchObject({ state: 'ready', ready: true });
      expect((await backend.app.request('/readyz')).status).toBe(200);
    } finally {
      await backend.close();
    }
  });
});
