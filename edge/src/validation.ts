import { AppError, describeZodError, resultKey, resultOptionsOf, type ResultOptions } from '@bgremove/shared';
import type { Hook } from '@hono/zod-openapi';
import type { AppEnv } from './app-env';
import type { EdgeConfig, ServedModel } from './config';

/**
 * The routes' validation hook (@hono/zod-openapi runs the shared zod schemas of each route
 * definition): a query with a repeated key, or any value the schema refuses, is invalid_request
 * naming the offending fields.
 */
export const invalidRequestHook: Hook<unknown, AppEnv, string, undefined> = (result, c) => {
  if (result.target === 'query') {
    const params = new URL(c.req.url).searchParams;
    const repeated = [...new Set([...params.keys()].filter((key) => params.getAll(key).length > 1))];
    if (repeated.length > 0) {
      throw new AppError('invalid_request', `parameter(s) given more than once: ${repeated.join(', ')}`);
    }
  }
  if (!result.success) throw new AppError('invalid_request', describeZodError(result.error));
  return undefined;
};

/** The requested model, or the default; only models in MODELS (and pinned) are accepted. */
export function resolveModel(config: EdgeConfig, requested: string | undefined): ServedModel {
  const id = requested ?? config.defaultModel;
  const model = config.models.get(id);
  if (!model) {
    throw new AppError(
      'unknown_model',
      `model: "${id}" is not served here; available: ${[...config.models.keys()].join(', ')}`,
    );
  }
  return model;
}

/**
 * The result key of a source hash under these options: the same for uploads and lookups. Every
 * result option of the parsed query goes in (its other fields, such as a lookup's sha256, do not).
 */
export function resultKeyFor(
  model: ServedModel,
  query: ResultOptions,
  sourceSha256: string,
): Promise<string> {
  return resultKey({
    modelId: model.id,
    modelSha256: model.sha256,
    options: resultOptionsOf(query),
    sourceSha256,
  });
}
