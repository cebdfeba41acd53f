/**
 * A child process that owns one ONNX Runtime session (started by ModelSession with
 * child_process.fork). `session.run()` does its native work on the calling thread, so it must
 * never run on the server's event loop; and a native crash, an abort or an out-of-memory kill
 * during a run ends only this process, which the server replaces. Tasks come one at a time over
 * the IPC channel (V8 serialization: typed arrays travel as bytes) and each gets one reply.
 * What the session does with each task is session-handler.ts.
 *
 * It never outlives the server: when the IPC channel closes (the server closed it, exited or was
 * killed) it exits; stop signals are left to the server, which drains first, then closes it. And
 * since a run blocks this process's event loop for its whole length, a watchdog thread also
 * checks every second that the parent is still the one that started it, and kills this process
 * at once when it is not (the server was SIGKILLed mid-run).
 */
import { Worker } from 'node:worker_threads';
import { createSessionHandler } from './session-handler';
import type { SessionReply, SessionRequest, SessionWorkerData } from './worker-protocol';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('session-worker: start it through ModelSession (it needs an IPC channel)\n');
  process.exit(2);
}
const handle = createSessionHandler(
  JSON.parse(process.argv[2] ?? 'null') as SessionWorkerData,
  String(process.pid),
);

function reply(message: SessionReply): void {
  // A reply that cannot be sent means the channel is gone: 'disconnect' ends this process.
  send!(message, undefined, undefined, () => {});
}

process.on('message', (message: SessionRequest) => {
  // One task at a time: the parent sends the next only after this one's reply.
  handle(message.task).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      reply({
        id: message.id,
        ok: false,
        error: { name: e.name, message: e.message, ...(e.stack !== undefined && { stack: e.stack }) },
      });
    },
  );
});

// Tasks sent before this listener existed would be lost: the parent waits for this.
reply({ ready: true });

// The server closed the channel (shutdown) or is gone: nothing more will come.
process.on('disconnect', () => process.exit(0));

// A stop signal sent to the server's whole process group (`npm start`'s guard does that) is for
// the server: it drains, finishing the runs in flight here, then closes the channel. What must
// end this process at once is SIGKILL, which cannot be ignored.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});

// Runs on its own thread, so it fires even while a run blocks this process's event loop.
const watchdog = new Worker(
  `const { workerData: parent } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 1000);`,
  { eval: true, workerData: process.ppid, resourceLimits: { maxOldGenerationSizeMb: 8 } },
);
watchdog.unref();
