import { AppError, lookupQuerySchema } from '@bgremove/shared';
import { createRoute, z, type RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env';
import { hotResultsFor } from '../hot-results';
import { rateLimit } from '../rate-limit';
import { findResult, resultPath, resultTiers } from '../result-store';
import { resolveModel, resultKeyFor } from '../validation';
import { problems } from './openapi';

export const lookupRoute = createRoute({
  method: 'get',
  path: '/v1/lookup',
  summary: 'Find a result by the SHA-256 of the source image, without uploading it.',
  middleware: [rateLimit()] as const,
  request: { query: lookupQuerySchema },
  responses: {
    200: {
      description: 'Cached.',
      content: {
        'application/json': {
          schema: z.object({
            key: z.string(),
            url: z.string(),
            foreground_box: z
              .string()
              .describe("The subject's box in the result, left,top,width,height, or none; '' when unknown."),
            subject_confidence: z
              .string()
              .describe(
                "0.000..1.000, how clearly the photo shows one subject (under 0.5: no clear subject); '' when unknown.",
              ),
          }),
        },
      },
    },
    ...problems(400, 404, 422, 429, 503),
  },
});

/**
 * GET /v1/lookup: the result key from the source hash and options alone, so a storefront that
 * hashed the photo in the browser can skip the upload. 200 { key, url, foreground_box, subject_confidence } or 404
 * not_cached.
 */
export const lookup: RouteHandler<typeof lookupRoute, AppEnv> = async (c) => {
  const config = c.get('config');
  const query = c.req.valid('query');
  const model = resolveModel(config, query.model);
  const key = await resultKeyFor(model, query, query.sha256);
  const tiers = resultTiers(c.env.RESULTS, c.req.url, hotResultsFor(config.hotCacheBytes));
  const stored = await findResult(tiers, key, {
    bodyless: true,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  });
  if (!stored) throw new AppError('not_cached', 'no result for this image and these options yet');
  c.header('cache-control', 'public, max-age=3600');
  const details = stored.details;
  return c.json(
    {
      key,
      url: `${config.publicBaseUrl ?? tiers.origin}${resultPath(key)}`,
      // What the backend said about the subject ('' when the result predates these, or it did not say).
      foreground_box: details?.foreground ?? '',
      subject_confidence: details?.subjectConfidence ?? '',
    },
    200,
  );
};
