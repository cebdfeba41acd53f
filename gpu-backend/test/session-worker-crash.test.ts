/**
 * Session processes dying, with the real registry, the real IS-Net weights and real child
 * processes: SIGKILLed while idle and in the middle of ONNX Runtime's native run, crashing with an
 * uncaught error on load (once, and on every load), and outliving a SIGKILLed server (they must
 * not). Each time the server process stays up; /readyz says 503 while the model reloads on the
 * replacement, requests meanwhile get 503 backend_unavailable with Retry-After (the edge retries),
 * then readiness is 200 and requests are served with a correct matte again.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRestartDelayMs } from '../src/inference/model-session';
import { createTestBackend, counterValue, type TestBackend } from './support/backend';
import { channel, iou } from './support/compare';
import { drawScene, sceneImage, type Scene } from './support/images';
import { BACKEND_DIR, startServer, waitForReady } from './support/process';

const MODEL = 'isnet-general-use';
const CRASH_PRELOAD = fileURLToPath(new URL('./fixtures/crash-on-load.mjs', import.meta.url));

let scene: Scene;
let photo: Buffer;
let scratch: string;

beforeAll(async () => {
  scene = drawScene();
  photo = await sceneImage(scene);
  scratch = await mkdtemp(join(tmpdir(), 'session-crash-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const sessionOf = (b: TestBackend) => b.registry['entries'].get(MODEL)!.session;
const post = (b: TestBackend) =>
  b.app.request('/v1/remove-background?output=matte', { method: 'POST', body: photo });

async function readyz(b: TestBackend): Promise<{ status: number; models: Record<string, string> }> {
  const response = await b.app.request('/readyz');
  return { status: response.status, ...((await response.json()) as { models: Record<string, string> }) };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 300_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a pid is a live process (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A 200 whose matte finds the drawn object (IoU against its exact mask). */
async function expectCorrectMatte(response: Response): Promise<void> {
  expect(response.status).toBe(200);
  const matte = await channel(Buffer.from(await response.arrayBuffer()), 'first');
  expect([matte.width, matte.height]).toEqual([scene.width, scene.height]);
  expect(iou(matte.data, scene.mask)).toBeGreaterThanOrEqual(0.9);
}

async function expectRestarting(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(((await response.json()) as { code: string }).code).toBe('backend_unavailable');
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
}

/** After a death: loading (503) until the replacement has loaded and run once, then 200 and served. */
async function expectReplaced(b: TestBackend, oldPid: number): Promise<void> {
  const during = await readyz(b);
  expect(during.status).toBe(503);
  expect(during.models[MODEL]).toBe('loading');
  await until('ready again', async () => (await readyz(b)).status === 200);
  const pids = sessionOf(b).pids;
  expect(pids).toHaveLength(1);
  expect(pids[0]).not.toBe(oldPid);
  expect(alive(pids[0]!)).toBe(true);
  await expectCorrectMatte(await post(b));
}

describe('a session process that dies', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await createTestBackend();
  }, 300_000);
  afterAll(() => backend.close());

  it('while idle: replaced; readiness 503 and requests 503 with Retry-After until the reload, then served', async () => {
    expect((await readyz(backend)).status).toBe(200);
    const pid = sessionOf(backend).pids[0]!;
    process.kill(pid, 'SIGKILL');
    await until('the death is seen', () => sessionOf(backend).lost === 1);
    expect(await counterValue(backend, 'bgremove_session_workers_lost_total', `model="${MODEL}"`)).toBe(1);
    await expectRestarting(await post(backend));
    await expectReplaced(backend, pid);
    expect(alive(pid)).toBe(false);
  }, 400_000);

  it('in the middle of a run: that request 503 with Retry-After, the server stays up, then served', async () => {
    expect((await readyz(backend)).status).toBe(200);
    const session = sessionOf(backend);
    const pid = session.pids[0]!;
    const inFlight = post(backend);
    // The task is sent; preprocessing takes milliseconds, the native run a second or more here:
    // 300 ms later the process is inside ONNX Runtime's run (which would abort a whole process
    // were it a worker thread).
    await until('the run is sent to the session process', () => session.processes()[0]!.state === 'busy');
    await new Promise((r) => setTimeout(r, 300));
    expect(session.processes()[0]!.state).toBe('busy');
    process.kill(pid, 'SIGKILL');
    await expectRestarting(await inFlight);
    expect(session.lost).toBe(2);
    expect(await counterValue(backend, 'bgremove_session_workers_lost_total', `model="${MODEL}"`)).toBe(2);
    await expectReplaced(backend, pid);
    // This test's own process is the server here: it is still answering.
    expect((await backend.app.request('/healthz')).status).toBe(200);
  }, 400_000);
});

describe('a session process that crashes on load', () => {
  /** A registry whose session processes start with the crash preload, under `marker`'s rules. */
  async function crashingBackend(marker: string): Promise<TestBackend> {
    const before = process.env.NODE_OPTIONS;
    // The child inherits the environment at fork: the preload is in its NODE_OPTIONS only.
    // Quoted: the checkout's path may hold spaces.
    process.env.NODE_OPTIONS = `${before ?? ''} --import ${JSON.stringify(CRASH_PRELOAD)}`.trim();
    process.env.BGREMOVE_TEST_CRASH_ON_LOAD = marker;
    try {
      return await createTestBackend({}, { load: false });
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
      delete process.env.BGREMOVE_TEST_CRASH_ON_LOAD;
    }
  }

  it('once (an uncaught error): the load is retried on a replacement and the model becomes ready', async () => {
    const marker = join(scratch, 'crash-once');
    await writeFile(marker, '');
    const backend = await crashingBackend(marker);
    try {
      const pid = sessionOf(backend).pids[0]!;
      await backend.registry.loadAll();
      expect(sessionOf(backend).lost).toBe(1);
      expect(sessionOf(backend).pids[0]).not.toBe(pid);
      expect(await counterValue(backend, 'bgremove_session_workers_lost_total', `model="${MODEL}"`)).toBe(1);
      expect(backend.logs.some((l) => String(l.message).includes('failed to load (attempt 1)'))).toBe(true);
      expect((await readyz(backend)).status).toBe(200);
      await expectCorrectMatte(await post(backend));
    } finally {
      await backend.close();
    }
  }, 400_000);

  it('every time: backs off between replacements, readiness says failed, diagnostics show the back-off', async () => {
    const backend = await crashingBackend('always');
    try {
      await expect(backend.registry.loadAll()).rejects.toThrow(/session process running this task died/);
      const attempts = backend.config.MODEL_LOAD_ATTEMPTS;
      const readiness = await readyz(backend);
      expect(readiness.status).toBe(503);
      expect(readiness.models[MODEL]).toBe('failed');
      const diagnostics = (await (await backend.app.request('/v1/diagnostics')).json()) as {
        sessions: Record<
          string,
          {
            lost: number;
            processes: { pid?: number; state: string; consecutiveDeaths: number; restartInMs?: number }[];
          }
        >;
      };
      const sessions = diagnostics.sessions[MODEL]!;
      expect(sessions.lost).toBe(attempts);
      expect(sessions.processes[0]!.consecutiveDeaths).toBe(attempts);
      // The last death's replacement waits out its back-off (0, then 1 s, 2 s, … up to 30 s):
      // nothing respawns hot.
      expect([defaultRestartDelayMs(1), defaultRestartDelayMs(2), defaultRestartDelayMs(50)]).toEqual([
        0, 1000, 30_000,
      ]);
      const first = sessions.processes[0]!;
      expect(first.state).toBe('restarting');
      expect(first.pid).toBeUndefined();
      expect(first.restartInMs).toBeGreaterThan(0);
      expect(first.restartInMs).toBeLessThanOrEqual(defaultRestartDelayMs(attempts));
      // Nothing crashes without a load to do: the count stays where it is.
      await new Promise((r) => setTimeout(r, 1500));
      expect(sessionOf(backend).lost).toBe(attempts);
    } finally {
      await backend.close();
    }
  }, 400_000);
});

describe('the server SIGKILLed', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: BACKEND_DIR });
  });

  it('in the middle of a run (the built server): its session processes are gone within seconds', async () => {
    const env: Record<string, string> = process.env.MODELS_DIR ? { MODELS_DIR: process.env.MODELS_DIR } : {};
    const server = await startServer({ ...env, SESSIONS_PER_MODEL: '2' });
    await waitForReady(server);
    const diagnostics = (await (await fetch(`${server.url}/v1/diagnostics`)).json()) as {
      sessions: Record<string, { processes: { pid?: number; rssBytes?: number }[] }>;
      process: { rssBytes: number; sessionsRssBytes: number; totalRssBytes: number };
    };
    const processes = diagnostics.sessions[MODEL]!.processes;
    const pids = processes.map((p) => p.pid!);
    expect(pids).toHaveLength(2);
    // The model's memory is in the session processes; diagnostics count it with the server's.
    const sessionsRss = processes.reduce((sum, p) => sum + p.rssBytes!, 0);
    expect(sessionsRss).toBeGreaterThan(diagnostics.process.rssBytes);
    expect(diagnostics.process.sessionsRssBytes).toBe(sessionsRss);
    expect(diagnostics.process.totalRssBytes).toBe(diagnostics.process.rssBytes + sessionsRss);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const inFlight = fetch(`${server.url}/v1/remove-background`, { method: 'POST', body: photo }).catch(
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGKILL');
    await server.exit;
    await inFlight;
    // The idle one exits as its IPC channel closes; the busy one's watchdog sees it has a new parent.
    await until('the session processes exit', () => pids.every((pid) => !alive(pid)), 15_000);
  }, 400_000);
});
