import { EMPTY_BODY_SHA256, HEADERS, sha256Hex, signRequest } from '@bgremove/shared';
import type { EdgeConfig } from './config';
import { googleIdTokenHeader } from './google-id-token';

export interface BackendFetchOptions {
  method: 'GET' | 'POST';
  /** Path plus query exactly as sent; it is what the signature covers. */
  pathAndQuery: string;
  body?: ArrayBuffer;
  /** Hex SHA-256 of `body`, when the caller already has it. */
  bodySha256?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/**
 * One request to the backend: HMAC-signed (X-Signature) when BACKEND_SHARED_SECRET is set, with a
 * Google ID token when GCP_SERVICE_ACCOUNT_KEY is set, aborted after `timeoutMs`. Throws on network
 * errors and timeouts (a DOMException named TimeoutError); HTTP statuses are the caller's business.
 */
export async function backendFetch(config: EdgeConfig, options: BackendFetchOptions): Promise<Response> {
  const headers = new Headers(options.headers);
  const url = new URL(`${config.backendUrl}${options.pathAndQuery}`);
  if (config.sharedSecret) {
    const bodySha256 =
      options.bodySha256 ?? (options.body ? await sha256Hex(options.body) : EMPTY_BODY_SHA256);
    headers.set(
      HEADERS.signature,
      await signRequest({
        secret: config.sharedSecret,
        method: options.method,
        // What the backend will see, including any path prefix in BACKEND_URL.
        pathAndQuery: `${url.pathname}${url.search}`,
        bodySha256,
      }),
    );
  }
  if (config.serviceAccountKey) {
    headers.set('authorization', await googleIdTokenHeader(config.serviceAccountKey, config.backendUrl));
  }
  return fetch(url, {
    method: options.method,
    headers,
    body: options.body ?? null,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
}

export function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
