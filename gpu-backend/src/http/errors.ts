import { AppError } from '@bgremove/shared';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { Logger } from '../observability/logger';
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
 * Codes that answer a service working as designed, not a fault: load shedding (`overloaded`,
 * with Retry-After). Logged as warnings in one line, so a burst does not fill the error log with
 * stack traces of refusals and an alert on ERROR still means something broke.
 */
export const SHEDDING_CODES: ReadonlySet<string> = new Set(['overloaded']);

/**
 * The app's one error handler: AppErrors become their problem+json; a client that left gets an
 * empty 499 (it reads nothing); load shedding is a one-line warning; anything else is a logged 500.
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
  // Set by the first middlewares; an error raised before they ran is still answered.
  const logger = c.get('logger') as Logger | undefined;
  const cause: unknown = appError.cause;
  if (SHEDDING_CODES.has(appError.code)) {
    logger?.warn({ code: appError.code, retry_after_s: appError.retryAfterSeconds }, appError.message);
  } else if (appError.status >= 500) {
    logger?.error({ error: cause ?? appError, code: appError.code }, appError.message);
  } else if (cause) {
    logger?.info({ cause: describeCause(cause), code: appError.code }, appError.message);
  }
  c.set('outcome', appError.code);
  return problem(c, appError);
};

/** A cause in one line for the log: an Error's name and message, a string as it is, else its JSON. */
function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.toString();
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
}

/** The shared rendering (problem+json, no-store, Retry-After, X-Request-Id) with this request's id. */
export function problem(c: Context<AppEnv>, error: AppError): Response {
  // Set by the first middleware; an error raised before it ran is still answered.
  const requestId: unknown = c.get('requestId');
  return error.toResponse(typeof requestId === 'string' ? requestId : 'unknown');
}

export const handleNotFound: NotFoundHandler<AppEnv> = (c) => {
  c.set('outcome', 'not_found');
  return problem(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`));
};
