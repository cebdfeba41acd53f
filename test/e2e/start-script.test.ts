/**
 * `npm start` itself, as a user runs it: it brings the stack up, prints the URL, and on Ctrl-C
 * (SIGINT to its process group, as a terminal sends it), a SIGTERM to npm alone, or a SIGKILL to
 * npm or to the script under it (an OOM killer, a crashed terminal) nothing it started survives.
 * Also: a taken port and a backend that dies at start are clear errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, isPortFree } from '../../scripts/lib/processes';
import { REPO_ROOT } from './support/config';
import { photoPath } from './support/images';
import { descendants, isAlive, processesMentioning } from './support/process-tree';

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  ports: { edge: number; backend: number };
  stateDir: string;
}

const runs: Run[] = [];

async function npmStart(env: Record<string, string> = {}): Promise<Run> {
  const ports = { edge: await freePort(), backend: await freePort() };
  const stateDir = await mkdtemp(join(tmpdir(), 'bgremove-start-'));
  const [command, args] = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath, 'start']]
    : ['npm', ['start']];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    // Its own process group, like a job in a terminal.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      EDGE_PORT: String(ports.edge),
      BACKEND_PORT: String(ports.backend),
      STATE_DIR: stateDir,
      NO_COLOR: '1',
      ...env,
    },
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const run = { child, output: () => text, exit, ports, stateDir };
  runs.push(run);
  return run;
}

async function waitForOutput(run: Run, pattern: RegExp, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.output())) {
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no ${pattern} in the output of npm start:\n${run.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForGone(pids: number[], timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(isAlive);
  }
  return alive;
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    for (const pid of [run.child.pid!, ...descendants(run.child.pid!)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(run.stateDir, { recursive: true, force: true });
  }
});

/** Starts the stack, checks it serves, stops it with `stop`, and checks nothing is left. */
/**
 * The local API key npm start printed, used as its curl example says (image_file, size=auto):
 * the remove.bg-compatible API answers with the cutout, and the key is kept in the state folder.
 */
async function usePrintedKey(run: Run, url: string): Promise<void> {
  const key = /API key {4}(bgr_[A-Za-z0-9_-]{32})/.exec(run.output())?.[1];
  expect(key, run.output()).toBeDefined();
  expect(run.output()).toContain(`curl -s -H 'X-Api-Key: ${key}' -F image_file=@photo.jpg -F size=auto`);
  const saved = join(run.stateDir, 'api-key.json');
  expect(JSON.parse(await readFile(saved, 'utf8'))).toMatchObject({ key });
  expect((await stat(saved)).mode & 0o777).toBe(0o600);
  const form = new FormData();
  form.append('image_file', new Blob([await readFile(photoPath('ellipse'))]), 'photo.jpg');
  form.append('size', 'auto');
  const response = await fetch(`${url}/v1.0/removebg`, {
    method: 'POST',
    headers: { 'x-api-key': key! },
    body: form,
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  expect(response.headers.get('x-credits-charged')).toBe('1');
  expect([response.headers.get('x-width'), response.headers.get('x-height')]).toEqual(['480', '360']);
  const account = (await (await fetch(`${url}/v1.0/account`, { headers: { 'x-api-key': key! } })).json()) as {
    data: { attributes: { credits: { total: number } } };
  };
  expect(account.data.attributes.credits.total).toBe(999);
}

async function startServeAndStop(
  stop: (run: Run) => void,
  check?: (run: Run, url: string) => Promise<void>,
): Promise<void> {
  const run = await npmStart();
  await waitForOutput(run, /Ctrl-C stops both/);
  const url = `http://127.0.0.1:${run.ports.edge}`;
  expect(run.output()).toContain(`Open ${url}/`);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${run.ports.backend}/readyz`)).status).toBe(200);
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<html');
  // Both services' logs come through, prefixed.
  expect(run.output()).toMatch(/^backend│ .*ready/m);
  expect(run.output()).toMatch(/^edge {3}│ .*Ready on/m);
  await check?.(run, url);

  const tree = descendants(run.child.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(4); // shell, orchestrator, backend, wrangler, workerd ...
  const secretFiles = await readdir(join(run.stateDir, 'run'));
  expect(secretFiles).toHaveLength(1);

  stop(run);
  await Promise.race([run.exit, new Promise((r) => setTimeout(r, 30_000))]);
  expect(await waitForGone(tree)).toEqual([]);
  expect(processesMentioning(run.stateDir)).toEqual([]);
  expect(await isPortFree(run.ports.edge)).toBe(true);
  expect(await isPortFree(run.ports.backend)).toBe(true);
  expect(run.output()).toMatch(/backend stopped/);
  // The env file holding this run's secret is removed; local state stays.
  expect(await readdir(join(run.stateDir, 'run'))).toEqual([]);
  expect((await readdir(join(run.stateDir, 'wrangler'))).length).toBeGreaterThan(0);
}

/** The node process running scripts/start.ts under npm (npm → sh -c → node), not the shell. */
function orchestratorOf(run: Run): number {
  const found = descendants(run.child.pid!).filter((pid) => {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      return comm === 'node' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('scripts/start.ts');
    } catch {
      return false;
    }
  });
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** Starts the stack, SIGKILLs `victim`, and checks everything else goes, ports and secret too. */
async function startAndKill(victim: (run: Run) => number): Promise<void> {
  const run = await npmStart();
  await waitForOutput(run, /Ctrl-C stops both/);
  const tree = descendants(run.child.pid!);
  process.kill(victim(run), 'SIGKILL');
  // The backend is given its drain (SHUTDOWN_GRACE_MS, 8 s) before anything is forced.
  expect(await waitForGone([run.child.pid!, ...tree], 40_000)).toEqual([]);
  expect(processesMentioning(run.stateDir)).toEqual([]);
  expect(await isPortFree(run.ports.edge)).toBe(true);
  expect(await isPortFree(run.ports.backend)).toBe(true);
  // The env file with the run's secret is deleted even so.
  expect(await readdir(join(run.stateDir, 'run'))).toEqual([]);
}

// Each test starts the whole stack (model load and warm-up on a shared 2-core machine): the
// file's default 60 s is too tight for a start plus a drain under load.
describe('npm start', { timeout: 180_000 }, () => {
  it('serves the page, the API and the remove.bg API with the printed key, and Ctrl-C stops everything it started', async () => {
    await startServeAndStop((run) => process.kill(-run.child.pid!, 'SIGINT'), usePrintedKey);
  });

  it('a SIGTERM to npm alone also stops everything (no orphans)', async () => {
    await startServeAndStop((run) => run.child.kill('SIGTERM'));
  });

  it('SIGKILL to the script under npm leaves no orphans (each child watches a pipe from it)', async () => {
    await startAndKill(orchestratorOf);
  });

  it('SIGKILL to npm itself leaves no orphans (the script notices and stops everything)', async () => {
    await startAndKill((run) => run.child.pid!);
  });

  it('says which port is taken and how to choose another', async () => {
    const blocker = createServer();
    const port = await freePort();
    blocker.listen(port, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const run = await npmStart({ EDGE_PORT: String(port) });
      expect(await run.exit).not.toBe(0);
      expect(run.output()).toContain(`port ${port} (EDGE_PORT) is already in use`);
      expect(run.output()).toContain('EDGE_PORT=<port> npm start');
    } finally {
      blocker.close();
    }
  });

  it('reports a backend that dies at start, with its last words, and stops the edge', async () => {
    const run = await npmStart({ MAX_QUEUE: 'many' });
    expect(await run.exit).not.toBe(0);
    expect(run.output()).toMatch(/cannot start: the backend exited before it was ready \(exit code 1\)/);
    expect(run.output()).toContain('MAX_QUEUE');
    expect(processesMentioning(run.stateDir)).toEqual([]); // wrangler runs with --persist-to <stateDir>/...
    expect(await isPortFree(run.ports.edge)).toBe(true);
    expect(await isPortFree(run.ports.backend)).toBe(true);
  });
});
