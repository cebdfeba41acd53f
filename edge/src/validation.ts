import { AppError, describeZodError, resultKey, resultOptionsOf, type ResultOptions } from '@bgremove/shared';
import type { z } from 'zod';
import type { EdgeConfig, ServedModel } from './config';

/** Parses the query string with a shared zod schema; repeated keys and bad values are invalid_request. */
export function parseQuery<T extends z.ZodType>(schema: T, url: string): z.output<T> {
  const params = new URL(url).searchParams;
  const repeated = [...new Set([...params.keys()].filter((key) => params.getAll(key).length > 1))];
  if (repeated.length > 0) {
    throw new AppError('invalid_request', `parameter(s) given more than once: ${repeated.join(', ')}`);
  }
  const parsed = schema.safeParse(Object.fromEntries(params));
  if (!parsed.success) throw new AppError('invalid_request', describeZodError(parsed.error));
  return parsed.data;
}

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
