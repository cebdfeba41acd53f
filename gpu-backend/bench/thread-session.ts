/**
 * The benchmark's baseline: one session on a worker thread, as the server ran them before they
 * moved to child processes (bench/session-isolation.ts). Same handler, same protocol messages,
 * posted by structured clone.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { createSessionHandler } from '../src/inference/session-handler';
import type { SessionReply, SessionRequest, SessionWorkerData } from '../src/inference/worker-protocol';

const port = parentPort!;
const handle = createSessionHandler(workerData as SessionWorkerData, `bench-${process.pid}-${threadId}`);
const reply = (message: SessionReply) => port.postMessage(message);

port.on('message', (message: SessionRequest) => {
  handle(message.task).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) =>
      reply({ id: message.id, ok: false, error: { name: 'Error', message: String(error) } }),
  );
});
reply({ ready: true });
