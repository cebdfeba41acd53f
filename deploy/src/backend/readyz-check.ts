import { GoogleAuth } from 'google-auth-library';

export type IdTokenSource = (audience: string) => Promise<string | undefined>;

export interface ReadyzCheckOptions {
  /** A Google ID token for the service URL, or undefined to call without one. */
  idToken: IdTokenSource;
  timeoutMs?: number;
  intervalMs?: number;
  log?: (line: string) => void;
}

export type ReadyzResult =
  | { ok: true; status: number; attempts: number }
  | { ok: false; status: number | undefined; attempts: number; detail: string };

/**
 * GET <url>/readyz until it answers 200 or the time is up. The first request may wake a GPU
 * instance (min instances 0): 503 and network errors are retried; 401/403 end the check at once
 * (the service is private and the caller has no invoker token).
 */
export async function checkReadyz(url: string, options: ReadyzCheckOptions): Promise<ReadyzResult> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const token = await options.idToken(url);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let attempts = 0;
  let last: { status: number | undefined; detail: string } = { status: undefined, detail: 'not tried' };
  while (attempts === 0 || Date.now() < deadline) {
    attempts++;
    try {
      const response = await fetch(`${url.replace(/\/+$/, '')}/readyz`, {
        headers,
        signal: AbortSignal.timeout(Math.max(1000, Math.min(60_000, deadline - Date.now()))),
      });
      const body = (await response.text()).slice(0, 200);
      if (response.ok) return { ok: true, status: response.status, attempts };
      last = { status: response.status, detail: body };
      if (response.status === 401 || response.status === 403) {
        const why = token
          ? 'the ID token was refused: grant its account roles/run.invoker or use one that has it'
          : 'the service is private and no ID token was available (set ID_TOKEN=$(gcloud auth print-identity-token), or use service-account credentials)';
        return { ok: false, status: response.status, attempts, detail: why };
      }
    } catch (error) {
      last = { status: undefined, detail: (error as Error).message };
    }
    options.log?.(`  /readyz: ${last.status ?? 'no answer'}, retrying`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5000));
  }
  return { ok: false, attempts, ...last };
}

/**
 * ID_TOKEN from the environment when set (e.g. `gcloud auth print-identity-token`), else one minted
 * from Application Default Credentials when they can mint ID tokens (service account key,
 * metadata server, impersonation); user credentials cannot, which is not an error here.
 */
export function defaultIdTokenSource(env: NodeJS.ProcessEnv, useAdc: boolean): IdTokenSource {
  return async (audience) => {
    if (env.ID_TOKEN) return env.ID_TOKEN;
    if (!useAdc) return undefined;
    try {
      const client = await new GoogleAuth().getIdTokenClient(audience);
      return await client.idTokenProvider.fetchIdToken(audience);
    } catch {
      return undefined;
    }
  };
}
