/**
 * Child processes that can be stopped completely: each runs in its own process group (detached),
 * so stopping it signals the whole group (wrangler's workerd, the backend's session
 * processes, npm's shells) and nothing is left behind. Each runs under a guard (guard.mjs, the
 * group's leader) that watches a pipe from this process: should this process die without
 * stopping them (SIGKILL, the OOM killer, a crashed terminal), the guard stops the group itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('guard.mjs', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Also the process group id. */
  readonly pid: number;
  /** Settles when the group leader has exited. */
  readonly exited: Promise<Exit>;
  /** Has the group leader exited? */
  hasExited(): boolean;
  /** The last lines it printed (stdout and stderr), for error messages. */
  tail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL to what is left after `graceMs`; resolves once the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Called with every line of stdout and stderr (without the newline). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Should this process die, how long the group gets after SIGTERM before SIGKILL (10 s). */
  orphanGraceMs?: number;
  /** Files the guard deletes when the command is gone, even if this process was killed. */
  removeOnExit?: string[];
}

const live = new Set<ManagedProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/** Last resort: if this process exits without stopping its children, kill their groups. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const managed of live) signalGroup(managed.pid, 'SIGKILL');
    for (const cleanup of exitCleanups) cleanup();
  });
}

/** Runs `cleanup` (synchronous) when this process exits, however it exits; returns an unregister. */
export function onExit(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: no process left in the group
  }
}

/** True while any process of the group is alive (zombies excepted once reaped by us). */
export const groupAlive = (pgid: number): boolean => signalGroup(pgid, 0);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ManagedProcess {
  installExitHook();
  // The guard's stdin is a pipe nobody writes to: it reads end-of-file when this process is gone.
  const guard = JSON.stringify({
    graceMs: options.orphanGraceMs ?? 10_000,
    removeOnExit: options.removeOnExit ?? [],
  });
  const child = spawn(process.execPath, [GUARD, guard, command, ...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  const recent: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream], crlfDelay: Infinity }).on('line', (line) => {
      recent.push(line);
      if (recent.length > 200) recent.shift();
      options.onLine?.(line, stream);
    });
  }
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
    });
  });

  const managed: ManagedProcess = {
    name,
    child,
    pid,
    exited,
    hasExited: () => exitedFlag,
    tail: (lines = 20) => recent.slice(-lines).join('\n'),
    async stop(graceMs = 10_000) {
      if (signalGroup(pid, 'SIGTERM')) {
        const deadline = Date.now() + graceMs;
        while (Date.now() < deadline && (groupAlive(pid) || !exitedFlag)) {
          await Promise.race([exited, sleep(50)]);
        }
        signalGroup(pid, 'SIGKILL');
      }
      await exited;
      // After SIGKILL the kernel still needs a moment to tear the group down.
      for (let i = 0; i < 100 && groupAlive(pid); i++) await sleep(20);
      live.delete(managed);
    },
  };
  live.add(managed);
  void exited.then(() => {
    if (!groupAlive(pid)) live.delete(managed);
  });
  return managed;
}

/** Runs a command to completion (its own group, stopped with us); rejects on a non-zero exit. */
export async function runToCompletion(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<void> {
  const managed = spawnManaged(name, command, args, options);
  const { code, signal } = await managed.exited;
  await managed.stop(1_000);
  if (code !== 0) {
    throw new StartError(
      `${name} failed (${signal ?? `exit code ${code}`}). Its last output:\n${managed.tail()}`,
    );
  }
}

/** A failure to report in one clear paragraph, without a stack trace. */
export class StartError extends Error {
  override name = 'StartError';
}

/** Can we listen on host:port right now? */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A port that was free a moment ago (the OS's choice). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
