/**
 * The built server as a real process: it listens before the models are ready, refuses to start
 * on missing or mismatched weights or an unavailable provider, and drains in-flight work on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS_DIR } from '../src/config';
import { BACKEND_DIR, startServer, waitForReady } from './support/process';
import { fixtures } from './support/images';

let empty: string;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: BACKEND_DIR });
  empty = await mkdtemp(join(tmpdir(), 'no-models-'));
});
afterAll(() => rm(empty, { recursive: true, force: true }));

const modelsDir: Record<string, string> = process.env.MODELS_DIR
  ? { MODELS_DIR: process.env.MODELS_DIR }
  : {};

describe('server process', () => {
  it('is live at once, ready after load and warm-up, and drains in-flight work on SIGTERM', async () => {
    // A grace period long enough for a loaded machine: what is tested is that it drains, not how fast.
    const server = await startServer({ ...modelsDir, SHUTDOWN_GRACE_MS: '120000' });
    expect(server.url).not.toBe('');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await waitForReady(server);
    // The queue's estimate was seeded from the warm-up run, not left on its prior.
    const diagnostics = (await (await fetch(`${server.url}/v1/diagnostics`)).json()) as {
      queue: { seededFromWarmupMs: number | null };
      models: { coldStart?: { warmupMs: number } }[];
    };
    expect(diagnostics.queue.seededFromWarmupMs).toBe(Math.round(diagnostics.models[0]!.coldStart!.warmupMs));
    const body = new Uint8Array(await fixtures.twelveMegapixel());
    const inFlight = fetch(`${server.url}/v1/remove-background`, { method: 'POST', body });
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-image-width')).toBe('4032');
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/"outcome":"drained"/);
    // Load, warm-up and a 12-MP image on a loaded machine: a generous deadline, not a timing.
  }, 400_000);

  it('refuses to start when a model file is missing, saying how to install it', async () => {
    const server = await startServer({ MODELS_DIR: empty });
    expect(await server.exit).toBe(1);
    expect(server.output()).toMatch(
      /does not exist; install it with `MODELS=isnet-general-use npm run models`/,
    );
  });

  it('refuses to start when one of several models is missing, naming it and its mirror-only install', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'one-model-'));
    try {
      await symlink(
        join(process.env.MODELS_DIR || DEFAULT_MODELS_DIR, 'isnet_fp16.onnx'),
        join(dir, 'isnet_fp16.onnx'),
      );
      const server = await startServer({ MODELS_DIR: dir, MODELS: 'isnet-general-use,u2netp' });
      expect(await server.exit).toBe(1);
      expect(server.output()).toMatch(
        /model \\?"u2netp\\?": \S*u2netp_fp16\.onnx does not exist; install it with `MODELS=u2netp MODELS_MIRROR=<folder with u2netp_fp16\.onnx> npm run models`/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to load weights whose checksum does not match the manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bad-models-'));
    try {
      await writeFile(join(dir, 'isnet_fp16.onnx'), 'not the weights');
      const server = await startServer({ MODELS_DIR: dir, MODEL_LOAD_ATTEMPTS: '2' });
      expect(await server.exit).toBe(1);
      expect(server.output()).toMatch(/refusing to load .*isnet_fp16\.onnx.*size is 15 bytes/);
      expect(server.output()).toMatch(/failed to load after 2 attempt/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ ORT_PROVIDERS: 'cuda' }, /cuda.{0,3}, which this onnxruntime-node cannot load/],
    [{ PORT: 'x' }, /PORT/],
    [{ MODELS: 'u2net' }, /no pinned sha256/],
  ])('fails fast on %o with a clear message', async (env, message) => {
    const server = await startServer({ ...modelsDir, ...env });
    expect(await server.exit).toBe(1);
    expect(server.output()).toMatch(message);
  });
});
