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
      content: { 'application/json': { schema: z.object({ key: z.string(), url: z.string() }) } },
    },
    ...problems(400, 404, 422, 429, 503),
  },
});

/**
 * GET /v1/lookup: the result key from the source hash and options alone, so a storefront that
 * hashed the photo in the browser can skip the upload. 200 { key, url } or 404 not_cached.
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
  return c.json({ key, url: `${config.publicBaseUrl ?? tiers.origin}${resultPath(key)}` }, 200);
};
