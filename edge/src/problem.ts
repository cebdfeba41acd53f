import { AppError, requestIdFrom } from '@bgremove/shared';
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import type { AppEnv } from './app-env';
import { configFor, ConfigError } from './config';
import { fromAppError, RemoveBgError } from './removebg/errors';

/** Gives every request an id (the caller's X-Request-Id when sane) and parses the config once. */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('startedAt', Date.now());
    c.set('config', configFor(c.env));
    await next();
    c.res.headers.set('x-request-id', requestId);
  };
}

function requestIdOf(c: Context<AppEnv>): string {
  // Set by the first middleware; an error raised before it ran still gets an id.
  const id: unknown = c.get('requestId');
  return typeof id === 'string' ? id : crypto.randomUUID();
}

/**
 * The one error renderer: problem+json with no-store. The public detail is the AppError's own;
 * causes, config errors and unexpected throws go to the log only.
 */
export const renderError: ErrorHandler<AppEnv> = (error, c) => {
  const requestId = requestIdOf(c);
  // remove.bg's API (/v1.0/) answers in remove.bg's error shape, whatever went wrong.
  if (error instanceof RemoveBgError) return error.toResponse(requestId);
  if (new URL(c.req.url).pathname.startsWith('/v1.0/')) {
    console.error(
      JSON.stringify({ event: 'unexpected_error', requestId, error: String(error), stack: error.stack }),
    );
    return (
      error instanceof AppError ? fromAppError(error) : new RemoveBgError('unknown_error', 'Internal error.')
    ).toResponse(requestId);
  }
  let appError: AppError;
  if (error instanceof AppError) {
    appError = error;
    if (appError.code === 'overloaded') {
      // Load shedding is the design working (the caller has a Retry-After): one warning line, so
      // a burst does not fill the error log and ERROR still means something broke.
      console.warn(
        JSON.stringify({ event: 'shed', requestId, code: appError.code, detail: appError.message }),
      );
    } else if (appError.status >= 500 || appError.cause) {
      console.error(
        JSON.stringify({
          event: 'error',
          requestId,
          code: appError.code,
          detail: appError.message,
          cause: String(appError.cause),
        }),
      );
    }
  } else {
    const configProblem = error instanceof ConfigError;
    console.error(
      JSON.stringify({
        event: configProblem ? 'config_error' : 'unexpected_error',
        requestId,
        error: String(error),
        stack: error.stack,
      }),
    );
    appError = new AppError('internal', configProblem ? 'The edge is misconfigured.' : 'Internal error.');
  }
  return appError.toResponse(requestId);
};

export const renderNotFound: NotFoundHandler<AppEnv> = (c) => {
  const path = new URL(c.req.url).pathname;
  // Through the app proxy, the path the storefront asked for is the one under the prefix.
  const prefix = c.get('appProxy')?.prefix;
  const asked = prefix ? path.slice(prefix.length) || '/' : path;
  return renderError(new AppError('not_found', `no route for ${c.req.method} ${asked}`), c);
};
