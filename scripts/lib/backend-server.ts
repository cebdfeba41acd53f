/**
 * The built backend (`node dist/server.js`) as a plain child process on a port of the OS's
 * choosing, for tests that watch its output and exit: gpu-backend's process tests and the deploy
 * image test. `npm start` and the e2e stack use stack.ts (fixed port, process group, secret).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { pollUntilOk } from './readiness';

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>, or '' when it exited (or never listened) first. */
  url: string;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** Its exit code. */
  exit: Promise<number | null>;
}

export interface StartServerOptions {
  /** Working directory; `entry` is relative to it. */
  cwd: string;
  entry?: string;
  /** The whole environment (PATH and HOME are added); PORT=0 and HOST=127.0.0.1 unless given. */
  env: Record<string, string | undefined>;
  uid?: number;
  gid?: number;
  /** How long to wait for its "listening" log line; default 30 s. */
  listenTimeoutMs?: number;
}

/** Starts the server and resolves once it logs the port it listens on, or once it exits. */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [options.entry ?? 'dist/server.js'], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined && { uid: options.uid }),
    ...(options.gid !== undefined && { gid: options.gid }),
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const deadline = Date.now() + (options.listenTimeoutMs ?? 30_000);
  while (Date.now() < deadline && child.exitCode === null) {
    const port = /"port":(\d+)/.exec(text)?.[1];
    if (port) return { child, url: `http://127.0.0.1:${port}`, output: () => text, exit };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: '', output: () => text, exit };
}

/** Waits for /readyz 200 (ms); throws with the server's output when it exits first or time is up. */
export async function waitForReady(server: ServerProcess, timeoutMs = 120_000): Promise<number> {
  const result = await pollUntilOk(`${server.url}/readyz`, {
    timeoutMs,
    gaveUp: () =>
      server.child.exitCode !== null ? `the server exited (code ${server.child.exitCode})` : undefined,
  });
  if (!result.ok) throw new Error(`${result.reason}:\n${server.output()}`);
  return result.ms;
}
