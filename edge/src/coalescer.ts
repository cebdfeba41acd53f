import { DurableObject } from 'cloudflare:workers';
import { removeBackgroundOnBackend, type BackendJob, type BackendOutcome } from './backend-client';
import { configFor } from './config';

export type CoalescedOutcome = BackendOutcome & { role: 'MISS' | 'COALESCED' };

/**
 * One instance per result key (idFromName(key)), wherever the uploads land: the first caller runs
 * the backend request, every caller that arrives while it runs gets the same outcome. A success is
 * kept for COALESCE_LINGER_MS so that uploads arriving before the R2 write lands reuse it too.
 * Nothing is persisted: a restarted instance just runs the next request itself.
 */
export class ResultCoalescer extends DurableObject<Env> {
  #inflight: Promise<BackendOutcome> | undefined;
  #recent: { outcome: BackendOutcome; until: number } | undefined;

  async removeBackground(job: BackendJob): Promise<CoalescedOutcome> {
    if (this.#inflight) return { ...(await this.#inflight), role: 'COALESCED' };
    if (this.#recent && this.#recent.until > Date.now())
      return { ...this.#recent.outcome, role: 'COALESCED' };
    const config = configFor(this.env);
    const inflight = removeBackgroundOnBackend(config, job);
    this.#inflight = inflight;
    try {
      const outcome = await inflight;
      if (outcome.ok && config.coalesceLingerMs > 0) {
        this.#recent = { outcome, until: Date.now() + config.coalesceLingerMs };
      }
      return { ...outcome, role: 'MISS' };
    } finally {
      this.#inflight = undefined;
    }
  }
}

/**
 * Sends a miss through the coalescer for its key. Should the Durable Object itself fail (not the
 * backend: its failures are outcomes), the request goes to the backend directly rather than fail.
 */
export async function coalescedRemoveBackground(
  env: Env,
  key: string,
  job: BackendJob,
): Promise<CoalescedOutcome> {
  try {
    const stub = env.COALESCER.get(env.COALESCER.idFromName(key));
    return await stub.removeBackground(job);
  } catch (error) {
    console.error(
      JSON.stringify({ event: 'coalescer_failed', requestId: job.requestId, error: String(error) }),
    );
    return { ...(await removeBackgroundOnBackend(configFor(env), job)), role: 'MISS' };
  }
}
