import {
  HEADERS,
  removeBackgroundQuerySchema,
  RESULT_OPTION_NAMES,
  resultOptionsOf,
  serverTiming,
  sha256Hex,
  type ResultOptions,
} from '@bgremove/shared';
import { createRoute, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { outcomeError } from '../backend-client';
import { coalescedRemoveBackground } from '../coalescer';
import { hotResultsFor } from '../hot-results';
import { rateLimit } from '../rate-limit';
import { findResultForUpload, resultHeaders, resultTiers, storeResult } from '../result-store';
import { readUpload } from '../upload';
import { resolveModel, resultKeyFor } from '../validation';
import { image, multipartImage, problems, resultHeaders as resultHeadersDoc } from './openapi';

export const removeBackgroundRoute = createRoute({
  method: 'post',
  path: '/v1/remove-background',
  summary: 'Remove the background of an image (raw body or multipart field "image").',
  middleware: [rateLimit()] as const,
  request: {
    // bg_image needs a second image in the body: only POST /v1.0/removebg sends one.
    query: removeBackgroundQuerySchema.omit({ bg_image: true }),
    // Documentation only: readUpload enforces the size cap, sniffs the type and reads the size.
    body: {
      required: true,
      content: {
        'image/jpeg': image,
        'image/png': image,
        'image/webp': image,
        'image/avif': image,
        'multipart/form-data': multipartImage,
      },
    },
  },
  responses: {
    200: {
      description: 'The matte or cutout (format=zip: a ZIP of color.jpg and alpha.png).',
      headers: resultHeadersDoc,
      content: { 'image/png': image, 'image/webp': image, 'image/jpeg': image, 'application/zip': image },
    },
    ...problems(400, 413, 415, 422, 429, 500, 502, 503, 504),
  },
});

/**
 * POST /v1/remove-background: validate, hash, answer from the cache or R2 when the result exists,
 * else one (coalesced) backend call whose result is stored after the reply.
 */
export const removeBackground: RouteHandler<typeof removeBackgroundRoute, AppEnv> = async (c) => {
  const config = c.get('config');
  const query = c.req.valid('query');
  const options = resultOptionsOf(query);
  const model = resolveModel(config, query.model);
  const upload = await readUpload(c, config);
  const validatedAt = Date.now();
  const sourceSha256 = await sha256Hex(upload.bytes);
  const key = await resultKeyFor(model, query, sourceSha256);
  const hashedAt = Date.now();
  const tiers = resultTiers(c.env.RESULTS, c.req.url, hotResultsFor(config.hotCacheBytes));
  const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise.catch(logStoreError));

  const stored = await findResultForUpload(tiers, key, waitUntil);
  if (stored) {
    const headers = resultHeaders(key, stored);
    headers.set(HEADERS.cache, 'HIT');
    headers.set('cache-control', 'no-store');
    headers.set(HEADERS.serverTiming, edgeTiming(c, validatedAt, hashedAt, {}));
    return new Response(stored.body, { headers });
  }

  const backendStarted = Date.now();
  const outcome = await coalescedRemoveBackground(c.env, key, {
    bytes: upload.bytes,
    mime: upload.mime,
    sourceSha256,
    model: model.id,
    modelSha256: model.sha256,
    options,
    requestId: c.get('requestId'),
  });
  if (!outcome.ok) throw outcomeError(outcome);
  const backendMs = Date.now() - backendStarted;
  if (outcome.role === 'MISS') {
    waitUntil(
      storeResult(tiers, key, outcome.body, outcome.contentType, {
        model: model.id,
        model_sha256: model.sha256,
        ...optionMetadata(options),
        source_sha256: sourceSha256,
        width: outcome.width,
        height: outcome.height,
        foreground: outcome.foreground,
        subject_confidence: outcome.subjectConfidence,
        created: new Date().toISOString(),
      }),
    );
  }
  const headers = resultHeaders(key, {
    contentType: outcome.contentType,
    sourceSha256,
    details: {
      width: outcome.width,
      height: outcome.height,
      foreground: outcome.foreground,
      subjectConfidence: outcome.subjectConfidence,
    },
  });
  headers.set(HEADERS.cache, outcome.role);
  headers.set('cache-control', 'no-store');
  headers.set(
    HEADERS.serverTiming,
    edgeTiming(c, validatedAt, hashedAt, { backend: backendMs, inference: outcome.inferenceMs }),
  );
  return new Response(outcome.body, { headers });
};

/** Every result option as R2 metadata (strings; an unset optional one as `none`), model excepted. */
function optionMetadata(options: ResultOptions): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of RESULT_OPTION_NAMES) {
    if (name === 'model') continue;
    const value = options[name];
    metadata[name] = value === undefined ? 'none' : String(value);
  }
  return metadata;
}

/** edge = time spent in the Worker itself (validation, hashing, lookups), backend time excluded. */
function edgeTiming(
  c: Context<AppEnv>,
  validatedAt: number,
  hashedAt: number,
  backend: { backend?: number; inference?: number | undefined },
): string {
  const total = Date.now() - c.get('startedAt');
  return serverTiming({
    edge: total - (backend.backend ?? 0),
    validate: validatedAt - c.get('startedAt'),
    hash: hashedAt - validatedAt,
    ...backend,
  });
}

function logStoreError(error: unknown): void {
  console.error(JSON.stringify({ event: 'store_failed', error: String(error) }));
}
