import { AppError } from '@bgremove/shared';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { AppEnv } from './context';

/** HTTP status for a request whose client went away before the answer (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * The client closed the connection before the answer was ready. Not an error of the request: it
 * is recorded under its own outcome (`client_closed`, status 499) and nothing is sent.
 */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
  constructor(options: { cause?: unknown } = {}) {
    super('the client closed the connection', options);
  }
}

/**
 * The app's one error handler: AppErrors become their problem+json; a client that left gets an
 * empty 499 (it reads nothing); anything else is a logged 500.
 */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof ClientClosedError) {
    c.set('outcome', 'client_closed');
    return new Response(null, { status: CLIENT_CLOSED_STATUS, headers: { 'cache-control': 'no-store' } });
  }
  const appError =
    error instanceof AppError
      ? error
      : new AppError('internal', 'an internal error occurred', { cause: error });
  const logger = c.get('logger');
  if (appError.status >= 500) {
    logger?.error({ error: appError.cause ?? appError, code: appError.code }, appError.message);
  } else if (appError.cause) {
    logger?.info({ cause: String(appError.cause), code: appError.code }, appError.message);
  }
  c.set('outcome', appError.code);
  return problem(c, appError);
};

/** The shared rendering (problem+json, no-store, Retry-After, X-Request-Id) with this request's id. */
export function problem(c: Context<AppEnv>, error: AppError): Response {
  return error.toResponse(c.get('requestId') ?? 'unknown');
}

export const handleNotFound: NotFoundHandler<AppEnv> = (c) => {
  c.set('outcome', 'not_found');
  return problem(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`));
};
