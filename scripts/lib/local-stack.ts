/**
 * The local stack for the reliability tools (fuzz, soak, burst) and the e2e suite: the built
 * backend and the edge in wrangler dev on free ports, with fresh state in a temporary folder, plus
 * what they need around it: signed requests to the backend, stopping and restarting the backend
 * on its port, and the memory and open files of every process.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EMPTY_BODY_SHA256, HEADERS, sha256Hex, signRequest } from '@bgremove/shared';
import { freePort, runToCompletion, type ManagedProcess } from './processes';
import {
  applyLocalMigrations,
  BACKEND_DIR,
  generateSecret,
  startBackend,
  startEdge,
  waitUntilReady,
  type EdgeProcess,
} from './stack';

export interface LocalStack {
  backendUrl: string;
  edgeUrl: string;
  secret: string;
  /** The running backend process (a new one after restartBackend). */
  readonly backend: ManagedProcess;
  edge: EdgeProcess;
  /** Stops the backend (the edge keeps running); restartBackend starts it again on its port. */
  stopBackend(): Promise<void>;
  /** Starts the backend again on the same port; resolves with the ms it took to be ready. */
  restartBackend(): Promise<number>;
  /** POST to the backend with the signature the edge would send. */
  signedBackendPost(
    pathAndQuery: string,
    body: Uint8Array,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** GET from the backend, signed (e.g. /metrics). */
  signedBackendGet(pathAndQuery: string): Promise<Response>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Backend environment on top of LOG_LEVEL=warn. */
  backendEnv?: Record<string, string>;
  edgeVars?: Record<string, string>;
  /** Port for wrangler's inspector (see EdgeOptions.inspectorPort). */
  edgeInspectorPort?: number;
  log?: (source: 'backend' | 'edge', line: string) => void;
  /** Apply the edge's D1 migrations to the fresh local state first (the admin API, API keys). */
  migrate?: boolean;
  /** How long each may take to be ready: backend 300 s, edge 120 s unless given. */
  backendReadyMs?: number;
  edgeReadyMs?: number;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  await runToCompletion('the backend build', process.execPath, ['scripts/build.mjs'], {
    cwd: BACKEND_DIR,
    env: process.env,
  });
  const secret = generateSecret();
  const [backendPort, edgePort] = [await freePort(), await freePort()];
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const scratch = await mkdtemp(join(tmpdir(), 'bgremove-tool-'));
  const backendReadyMs = options.backendReadyMs ?? 300_000;
  const launchBackend = () =>
    startBackend({
      port: backendPort,
      secret,
      env: { LOG_LEVEL: 'warn', ...options.backendEnv },
      onLine: (line) => options.log?.('backend', line),
    });
  if (options.migrate) {
    try {
      await applyLocalMigrations(join(scratch, 'state'));
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
  }
  let backend = launchBackend();
  const edge = await startEdge({
    port: edgePort,
    backendUrl,
    secret,
    persistTo: join(scratch, 'state'),
    runDir: join(scratch, 'run'),
    vars: options.edgeVars ?? {},
    inspectorPort: options.edgeInspectorPort,
    onLine: (line) => options.log?.('edge', line),
  });
  const stop = async () => {
    await edge.stop(5_000);
    await backend.stop(15_000);
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    await Promise.all([
      waitUntilReady(backend, `${backendUrl}/readyz`, backendReadyMs),
      waitUntilReady(edge, `${edge.url}/healthz`, options.edgeReadyMs ?? 120_000),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    backendUrl,
    edgeUrl: edge.url,
    secret,
    get backend() {
      return backend;
    },
    edge,
    async stopBackend() {
      await backend.stop(15_000);
    },
    async restartBackend() {
      backend = launchBackend();
      return waitUntilReady(backend, `${backendUrl}/readyz`, backendReadyMs);
    },
    async signedBackendPost(pathAndQuery, body, headers = {}) {
      const signature = await signRequest({
        secret,
        method: 'POST',
        pathAndQuery,
        bodySha256: await sha256Hex(body),
      });
      return fetch(`${backendUrl}${pathAndQuery}`, {
        method: 'POST',
        body,
        headers: { ...headers, [HEADERS.signature]: signature },
        signal: AbortSignal.timeout(300_000),
      });
    },
    async signedBackendGet(pathAndQuery) {
      const signature = await signRequest({
        secret,
        method: 'GET',
        pathAndQuery,
        bodySha256: EMPTY_BODY_SHA256,
      });
      return fetch(`${backendUrl}${pathAndQuery}`, { headers: { [HEADERS.signature]: signature } });
    },
    stop,
  };
}

/** The value of one Prometheus sample line (`name{labels} value`), 0 when absent. */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export interface ProcessStats {
  pid: number;
  command: string;
  rssBytes: number;
  openFiles: number;
}

function childrenOf(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  return byParent;
}

/** RSS and open file descriptors of `root` and everything under it (Linux /proc). */
export function treeStats(root: number): ProcessStats[] {
  const byParent = childrenOf();
  const out: ProcessStats[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    queue.push(...(byParent.get(pid) ?? []));
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .slice(0, 3)
        .join(' ');
      out.push({ pid, command, rssBytes: rssKb * 1024, openFiles: readdirSync(`/proc/${pid}/fd`).length });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The main process of a guarded service: the biggest process in its tree (node, workerd). */
export function mainProcess(root: number, match: RegExp): ProcessStats | undefined {
  return treeStats(root)
    .filter((p) => match.test(p.command))
    .sort((a, b) => b.rssBytes - a.rssBytes)[0];
}

/**
 * The two workerd processes of a `wrangler dev` tree: the one running the Worker (started with
 * `--inspector-addr`) and wrangler's dev proxy in front of it (the port you call; it also hosts
 * wrangler's inspector proxy).
 */
export function workerdProcesses(root: number): { worker?: ProcessStats; proxy?: ProcessStats } {
  const out: { worker?: ProcessStats; proxy?: ProcessStats } = {};
  for (const p of treeStats(root)) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!/workerd$/.test(args[0] ?? '') || args[1] !== 'serve') continue;
    if (args.some((a) => a.startsWith('--inspector-addr'))) out.worker = p;
    else out.proxy = p;
  }
  return out;
}

/** What a process's open descriptors are: sockets, pipes, anon inodes, files (by folder). */
export function fdKinds(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return kinds;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind =
      /^(socket|pipe|anon_inode):/.exec(target)?.[1] ?? (target.startsWith('/') ? dirname(target) : target);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/**
 * A service made of several processes, as one: the backend is its server and the session
 * processes it starts (one per ONNX session). RSS and open files summed over every process in
 * `root`'s tree whose command matches; the pid and command are the first match's (the server).
 */
export function serviceStats(root: number, match: RegExp): ProcessStats | undefined {
  const parts = treeStats(root).filter((p) => match.test(p.command));
  if (parts.length === 0) return undefined;
  return {
    pid: parts[0]!.pid,
    command: parts[0]!.command,
    rssBytes: parts.reduce((sum, p) => sum + p.rssBytes, 0),
    openFiles: parts.reduce((sum, p) => sum + p.openFiles, 0),
  };
}

/** The backend's processes: the server and its session processes. */
export const BACKEND_PROCESSES = /dist\/(server|session-worker)\.js/;

export const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Load average and cores, to say how busy the machine was during a measurement. */
export function machineLoad(): string {
  const [one, five] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  return `load average ${one} (1 min), ${five} (5 min)`;
}
