/**
 * The JavaScript heap of a Worker's isolate in local workerd, read through workerd's own inspector
 * (Chrome DevTools Protocol): `HeapProfiler.collectGarbage`, then `Runtime.getHeapUsage`. Used by
 * the soak to tell a leak in the Worker's code (heap after GC grows) from growth of the runtime
 * process around it (RSS grows, heap after GC does not).
 *
 * Two things that make this answer or not:
 * - wrangler dev runs two workerd processes: its dev proxy (the port you call, no inspector) and
 *   the one with the Worker (`--inspector-addr=localhost:0`). The isolate is listed at that
 *   process's inspector as `core:user:<worker name>`. wrangler's own inspector port (`/ws`) is a
 *   proxy that replays buffered events on connect; this reads the runtime's inspector directly.
 * - workerd runs the GC that `HeapProfiler.collectGarbage` asks for as a task of the isolate, and
 *   an idle isolate runs no tasks: the answer comes only while requests arrive. `poke` sends them.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';

/** Listening TCP ports of one process (Linux /proc), in the order it opened them. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Map<string, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.set(inode, Number(fd));
    } catch {
      // closed meanwhile
    }
  }
  const ports: { port: number; fd: number }[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st ... inode (index 9); st 0A = LISTEN
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const fd = inodes.get(cols[9]!);
      if (fd !== undefined) ports.push({ port: parseInt(cols[1]!.split(':')[1]!, 16), fd });
    }
  }
  return ports.sort((a, b) => a.fd - b.fd).map((p) => p.port);
}

export interface InspectorTarget {
  id: string;
  webSocketDebuggerUrl: string;
}

/**
 * The isolates the workerd process `pid` lists at its inspector. The inspector is the first
 * socket workerd opens, so the ports are tried in that order (the others are the Worker's own
 * socket and a Cap'n Proto debug port, which logs an error on plain HTTP).
 */
export async function inspectorTargets(pid: number): Promise<InspectorTarget[]> {
  for (const port of listeningPorts(pid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json/list`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) {
        await response.arrayBuffer();
        continue;
      }
      const targets = (await response.json()) as InspectorTarget[];
      if (Array.isArray(targets) && targets.some((t) => t.id.startsWith('core:'))) return targets;
    } catch {
      // not an inspector
    }
  }
  return [];
}

/**
 * The heap of an isolate as it is, without a GC (garbage included): answers at once, also for an
 * isolate that gets no requests (wrangler's services beside the Worker: cache, R2, D1, assets).
 */
export async function heapNow(webSocketUrl: string, timeoutMs = 5_000): Promise<HeapUsage> {
  const ws = new WebSocket(webSocketUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    const usage = await new Promise<{ usedSize: number; totalSize: number }>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown };
        if (message.id === 1) resolve(message.result as { usedSize: number; totalSize: number });
      });
      ws.send(JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage', params: {} }));
      setTimeout(() => {
        reject(new Error(`Runtime.getHeapUsage had no answer within ${timeoutMs} ms`));
      }, timeoutMs).unref();
    });
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  } finally {
    ws.terminate();
  }
}

/** The DevTools WebSocket URL of the Worker `workerName` (`core:user:<name>`) in workerd `pid`. */
export async function findIsolateInspector(pid: number, workerName: string): Promise<string | undefined> {
  return (await inspectorTargets(pid)).find((t) => t.id === `core:user:${workerName}`)?.webSocketDebuggerUrl;
}

export interface HeapUsage {
  /** V8 heap in use (bytes; after the GC for heapAfterGc). */
  usedBytes: number;
  /** V8 heap reserved (bytes). */
  totalBytes: number;
}

/**
 * Forces a full GC in the isolate behind `webSocketUrl` and reads its heap. `poke` is called
 * every 200 ms while an answer is pending (an idle isolate runs no GC task; see above). The
 * first session of an isolate sometimes gets no answer at all: use `heapAfterGcRetrying`.
 */
export async function heapAfterGc(
  webSocketUrl: string,
  poke: () => Promise<unknown>,
  timeoutMs = 30_000,
): Promise<HeapUsage> {
  const ws = new WebSocket(webSocketUrl);
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const poker = setInterval(() => void poke().catch(() => undefined), 200);
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    const call = (method: string) =>
      new Promise<unknown>((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params: {} }));
        deadline.addEventListener('abort', () => {
          reject(new Error(`${method} had no answer within ${timeoutMs} ms`));
        });
      });
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  } finally {
    clearInterval(poker);
    ws.terminate();
  }
}

/** heapAfterGc, on a new connection each time, until one answers (`attempts`, 20 s each). */
export async function heapAfterGcRetrying(
  webSocketUrl: string,
  poke: () => Promise<unknown>,
  attempts = 3,
): Promise<HeapUsage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await heapAfterGc(webSocketUrl, poke, 20_000);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}
