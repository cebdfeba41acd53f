import { backendFetch } from './backend-fetch';
import type { EdgeConfig } from './config';

/** POST /warmup on the backend (idempotent there); the outcome is logged, never thrown. */
export async function warmBackend(config: EdgeConfig): Promise<number | undefined> {
  try {
    const response = await backendFetch(config, {
      method: 'POST',
      pathAndQuery: '/warmup',
      timeoutMs: config.backendTimeoutMs,
    });
    await response.body?.cancel();
    console.log(JSON.stringify({ event: 'warmup', status: response.status }));
    return response.status;
  } catch (error) {
    console.warn(JSON.stringify({ event: 'warmup_failed', error: String(error) }));
    return undefined;
  }
}
