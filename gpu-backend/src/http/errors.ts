import { AppError } from '@bgremove/shared';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { AppEnv } from './context';

/** The app's one error handler: AppErrors become their problem+json; anything else is a logged 500. */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
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
