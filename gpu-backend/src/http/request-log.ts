import { HEADERS, requestIdFrom } from '@bgremove/shared';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from '../observability/logger';
import { traceField } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { AppEnv } from './context';
import { CLIENT_CLOSED_STATUS, SHEDDING_CODES } from './errors';
import { unsentWhenTimedOut } from './server';

/**
 * Request id, a child logger, and one structured access-log line plus metrics per request; behind
 * the Node server, also a warning and `bgremove_responses_undelivered_total` when the connection
 * closes before the answer was sent in full.
 */
export function requestLog(
  logger: Logger,
  metrics: Metrics,
  project: string | undefined,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header(HEADERS.requestId));
    c.set('requestId', requestId);
    c.set(
      'logger',
      logger.child({ request_id: requestId, ...traceField(c.req.header('x-cloud-trace-context'), project) }),
    );
    await next();
    c.header(HEADERS.requestId, requestId);
    const seconds = (performance.now() - started) / 1000;
    const route = routePath(c) || 'unmatched';
    const status = c.res.status;
    const code = c.get('outcome') ?? (status < 400 ? 'ok' : 'error');
    metrics.requests.inc({ route, status: String(status), code });
    metrics.requestDuration.observe({ route }, seconds);
    // Absent under app.request() (tests): only the Node server has a connection to watch.
    const node = c.env as Partial<HttpBindings> | undefined;
    if (node?.outgoing && node.incoming && status !== CLIENT_CLOSED_STATUS) {
      watchDelivery(node.outgoing, node.incoming.socket, c.get('logger'), metrics);
    }
    if (route === '/healthz' || route === '/readyz' || route === '/metrics') return;
    const severity = status >= 500 && !SHEDDING_CODES.has(code) ? 'error' : status >= 400 ? 'warn' : 'info';
    c.get('logger')[severity](
      {
        httpRequest: {
          requestMethod: c.req.method,
          requestUrl: c.req.path,
          status,
          latency: `${seconds.toFixed(3)}s`,
          responseSize: c.res.headers.get('content-length') ?? undefined,
          userAgent: c.req.header('user-agent'),
          remoteIp: c.req.header('x-forwarded-for')?.split(',')[0]?.trim(),
        },
        outcome: code,
      },
      `${c.req.method} ${c.req.path} ${status} ${code}`,
    );
  };
}

/**
 * Warns and counts when `response`'s connection closes before its last byte was handed to the
 * operating system: cut off by the server's idle timeout (the client stopped reading) or closed
 * by the client. Must be called before the response is written (the access-log middleware runs
 * before the Node adapter writes what the app returned).
 */
function watchDelivery(response: ServerResponse, socket: Socket, logger: Logger, metrics: Metrics): void {
  // A socket destroyed with the answer still queued runs the pending write callbacks, so
  // 'finish' fires then too, on a socket destroyed by then.
  let delivered = false;
  response.once('finish', () => (delivered = !socket.destroyed));
  response.once('close', () => {
    if (delivered) return;
    const unsentBytes = unsentWhenTimedOut(socket);
    const reason = unsentBytes === undefined ? 'closed' : 'idle_timeout';
    metrics.undeliveredResponses.inc({ reason });
    logger.warn(
      {
        status: response.statusCode,
        reason,
        unsentBytes,
      },
      reason === 'idle_timeout'
        ? 'answer not delivered: nothing moved on the connection for too long (the client stopped reading); connection destroyed'
        : 'answer not delivered: the connection closed before it was sent in full',
    );
  });
}
