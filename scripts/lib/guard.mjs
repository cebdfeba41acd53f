/**
 * `node guard.mjs '{"graceMs":5000,"removeOnExit":[...]}' <command> [args...]`: runs the command and makes sure it cannot
 * outlive whoever started the guard, however that process dies (SIGKILL and OOM kills included).
 *
 * The starter (scripts/lib/processes.ts) spawns the guard as the leader of a new process group,
 * with a pipe on its stdin that it never writes to. The command runs in that same group. When the
 * starter dies, the kernel closes its end of the pipe and the guard reads end-of-file: it sends
 * SIGTERM to the whole group (the command and everything the command started, e.g. wrangler's
 * workerd), and SIGKILL to whatever is left after `graceMs`. The files in `removeOnExit` (e.g. one
 * holding a secret made for the run) are deleted when the guard exits, orphaned or not.
 *
 * Otherwise it stays out of the way: the command's output goes straight to the guard's own stdout
 * and stderr, signals are meant for the group (the guard ignores them and waits for the command),
 * and the guard exits as the command does (same exit code, or the same signal).
 *
 * Plain JavaScript, so that it starts in a few tens of milliseconds without a TypeScript loader.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const [optionsArg, command, ...args] = process.argv.slice(2);
let graceMs = NaN;
/** @type {string[]} */
let removeOnExit = [];
try {
  /** @type {{ graceMs: number, removeOnExit?: string[] }} */
  const options = JSON.parse(optionsArg ?? ''); // eslint-disable-line @typescript-eslint/no-unsafe-assignment -- checked just below
  ({ graceMs, removeOnExit = [] } = options);
} catch {
  // reported below
}
if (!command || !Number.isInteger(graceMs) || graceMs < 0 || !Array.isArray(removeOnExit)) {
  process.stderr.write(
    'usage: node guard.mjs \'{"graceMs":<ms>,"removeOnExit":[<path>...]}\' <command> [args...]\n',
  );
  process.exit(2);
}

const removeFiles = () => {
  for (const path of removeOnExit) rmSync(path, { force: true });
};
process.on('exit', removeFiles);

/** @param {NodeJS.Signals} signal */
const signalGroup = (signal) => {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // the group is already gone
  }
};

// The group's signals reach the command directly; the guard waits for it to finish with them.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => {});

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (error) => {
  process.stderr.write(`guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});

let orphaned = false;
const parentGone = () => {
  if (orphaned) return;
  orphaned = true;
  signalGroup('SIGTERM');
  setTimeout(() => {
    removeFiles();
    signalGroup('SIGKILL');
  }, graceMs).unref();
};
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();

child.on('exit', (code, signal) => {
  // Orphaned: nobody is left to stop the rest of the group, so it goes now (the guard with it).
  if (orphaned) {
    removeFiles();
    signalGroup('SIGKILL');
  }
  orphaned = true; // from now on end-of-file on stdin means nothing
  if (signal) {
    removeFiles();
    for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeAllListeners(name);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
