import { HEADERS, requestIdFrom } from '@bgremove/shared';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from '../observability/logger';
import { traceField } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { AppEnv } from './context';

/** Request id, a child logger, and one structured access-log line plus metrics per request. */
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
    if (route === '/healthz' || route === '/readyz' || route === '/metrics') return;
    c.get('logger')[status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'](
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
