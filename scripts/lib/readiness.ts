/**
 * The one "wait until it answers 200" of the repository's tooling: npm start and the e2e stack
 * (stack.ts), the backend process tests and the deploy image test (backend-server.ts), the
 * benchmark (gpu-backend/bench/server-process.ts).
 */

export interface PollOptions {
  timeoutMs: number;
  /** Between attempts; default 100 ms. */
  intervalMs?: number;
  /** A reason to stop at once (the process has exited), or undefined to go on. */
  gaveUp?: () => string | undefined | Promise<string | undefined>;
}

export type PollResult = { ok: true; ms: number } | { ok: false; reason: string };

/** GETs `url` until it answers 200 (ms from the first attempt), `gaveUp` says why not, or time is up. */
export async function pollUntilOk(url: string, options: PollOptions): Promise<PollResult> {
  const started = Date.now();
  while (Date.now() - started < options.timeoutMs) {
    const reason = await options.gaveUp?.();
    if (reason !== undefined) return { ok: false, reason };
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then(async (response) => {
        await response.body?.cancel();
        return response.status;
      })
      .catch(() => 0);
    if (status === 200) return { ok: true, ms: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  return { ok: false, reason: `not ready within ${Math.round(options.timeoutMs / 1000)} s (${url})` };
}
