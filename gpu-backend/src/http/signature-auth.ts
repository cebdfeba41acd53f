import { AppError, HEADERS, sha256Hex, verifySignature } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context';

/**
 * Requires a valid X-Signature (HMAC over time, method, path with query and body hash) on every
 * request it guards. The body is read once here; hono hands the same bytes to the route.
 */
export function signatureAuth(secret: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const url = new URL(c.req.url);
    const verdict = await verifySignature(c.req.header(HEADERS.signature), {
      secret,
      method: c.req.method,
      pathAndQuery: url.pathname + url.search,
      bodySha256: await sha256Hex(body),
    });
    if (!verdict.ok) {
      throw new AppError('unauthorized', 'a valid X-Signature header is required', { cause: verdict.reason });
    }
    await next();
  };
}
