/** Watching the server process while a phase runs, from outside. */
import { startLivenessProbe } from './http-load';
import type { PhaseObservations } from './results';
import type { ServerProcess } from './server-process';

/** Runs `work` while watching the server: event-loop max (reset first), a /healthz probe, VmHWM. */
export async function observed<T>(
  server: ServerProcess,
  work: () => Promise<T>,
): Promise<{ result: T; observations: PhaseObservations }> {
  await server.eventLoopMaxMs();
  const probe = startLivenessProbe(server.baseUrl);
  let result: T;
  let probeMaxMs: number;
  try {
    result = await work();
  } finally {
    probeMaxMs = await probe.stop();
  }
  return {
    result,
    observations: {
      eventLoopMaxMs: await server.eventLoopMaxMs(),
      probeMaxMs,
      peakRssBytes: server.peakRssBytes(),
    },
  };
}
