/**
 * The real backend as a child process (`node dist/server.js`), observed only from outside: HTTP,
 * its Prometheus metrics and /proc. Nothing is added to the server for the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/lib/processes';
import { pollUntilOk } from '../../scripts/lib/readiness';

export const SERVER_ENTRY = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const LOG_LINES_KEPT = 40;

export interface StartupTimes {
  /** Spawn until /healthz answers 200 (listening). */
  listeningMs: number;
  /** Spawn until /readyz answers 200 (models loaded, verified and warmed). */
  readyMs: number;
}

/**
 * What the server's own JSON log says about its start: `startupMs` of the "listening" line and
 * `readyAtMs` of the "ready" line are on its `performance.now()` clock (ms since its process
 * started); `listeningAtEpochMs` is that line's wall-clock `time`, to place the clock's zero.
 */
export interface LogMilestones {
  listeningAtMs?: number;
  listeningAtEpochMs?: number;
  readyAtMs?: number;
}

/** A field of /proc/<pid>/status in bytes (VmHWM: peak resident set; VmRSS: current). */
function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(match[1]) * 1024;
}

/** The server's session processes (each model's ONNX sessions run in child processes of it). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The field summed over the server and its session processes (one that exits meanwhile: 0). */
function serverBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  let sum = procStatusBytes(pid, field);
  for (const child of childrenOf(pid)) {
    try {
      sum += procStatusBytes(child, field);
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

export class ServerProcess {
  private readonly logs: string[] = [];
  private exited: string | undefined;
  private partialLine = '';
  /** Wall-clock ms (Date.now()) just before the spawn. */
  spawnedAtEpochMs = 0;
  readonly milestones: LogMilestones = {};

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      this.logs.splice(0, Math.max(0, this.logs.length - LOG_LINES_KEPT));
    };
    child.stdout?.on('data', keep);
    child.stdout?.on('data', (chunk: Buffer) => this.readMilestones(chunk));
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      this.exited = `exited with ${signal ?? `code ${code}`}`;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Spawns the server and waits for /readyz 200, timing both milestones from the spawn. */
  static async start(
    env: NodeJS.ProcessEnv,
    entry = SERVER_ENTRY,
    timeoutMs = 180_000,
  ): Promise<{ server: ServerProcess; startup: StartupTimes }> {
    const port = await freePort();
    const spawnedAtEpochMs = Date.now();
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [entry], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    server.spawnedAtEpochMs = spawnedAtEpochMs;
    const poll = { intervalMs: 25, gaveUp: () => server.exited };
    const listening = await pollUntilOk(`${server.baseUrl}/healthz`, { ...poll, timeoutMs });
    const listeningMs = performance.now() - spawnedAt;
    const ready = listening.ok
      ? await pollUntilOk(`${server.baseUrl}/readyz`, { ...poll, timeoutMs: timeoutMs - listeningMs })
      : listening;
    if (ready.ok) return { server, startup: { listeningMs, readyMs: performance.now() - spawnedAt } };
    await server.stop();
    throw new Error(`the server was not ready (${ready.reason}):\n${server.logTail()}`);
  }

  /** Complete JSON lines of stdout; a chunk may end mid-line. */
  private readMilestones(chunk: Buffer): void {
    const lines = (this.partialLine + chunk.toString('utf8')).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let entry: { message?: unknown; startupMs?: unknown; readyAtMs?: unknown; time?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const message = typeof entry.message === 'string' ? entry.message : '';
      if (message.startsWith('listening') && typeof entry.startupMs === 'number') {
        this.milestones.listeningAtMs = entry.startupMs;
        const epoch = typeof entry.time === 'string' ? Date.parse(entry.time) : Number.NaN;
        if (Number.isFinite(epoch)) this.milestones.listeningAtEpochMs = epoch;
      }
      if (message === 'ready' && typeof entry.readyAtMs === 'number') {
        this.milestones.readyAtMs = entry.readyAtMs;
      }
    }
  }

  /**
   * Peak resident set of the server and its session processes: the sum of each one's own peak
   * (VmHWM), an upper bound of the peak of their total.
   */
  peakRssBytes(): number {
    return serverBytes(this.pid, 'VmHWM');
  }

  /** Resident set now, of the server and its session processes together. */
  rssBytes(): number {
    return serverBytes(this.pid, 'VmRSS');
  }

  /**
   * The largest event-loop delay since the previous scrape, in ms, from the server's own
   * `bgremove_nodejs_eventloop_lag_max_seconds` (prom-client's monitorEventLoopDelay histogram,
   * 10 ms resolution, reset on every scrape). An idle loop reads about 10 ms: the timer interval.
   */
  async eventLoopMaxMs(): Promise<number> {
    const response = await fetch(`${this.baseUrl}/metrics`);
    const text = await response.text();
    const match = /^bgremove_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)$/m.exec(text);
    if (!match) throw new Error('/metrics has no bgremove_nodejs_eventloop_lag_max_seconds');
    return Number(match[1]) * 1000;
  }

  /** JSON from a GET route, for diagnostics. */
  async getJson(path: string): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`);
    return response.json();
  }

  logTail(): string {
    return this.logs.join('\n');
  }

  /** SIGTERM (the server drains), then SIGKILL if it is still there after the grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const outcome = await Promise.race([exited.then(() => 'exited'), sleep(graceMs, 'timeout')]);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
