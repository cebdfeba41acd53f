import { AppError, lookupQuerySchema } from '@bgremove/shared';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { hotResultsFor } from '../hot-results';
import { findResult, resultPath, resultTiers } from '../result-store';
import { parseQuery, resolveModel, resultKeyFor } from '../validation';

/**
 * GET /v1/lookup: the result key from the source hash and options alone, so a storefront that
 * hashed the photo in the browser can skip the upload. 200 { key, url } or 404 not_cached.
 */
export async function lookupRoute(c: Context<AppEnv>): Promise<Response> {
  const config = c.get('config');
  const query = parseQuery(lookupQuerySchema, c.req.url);
  const model = resolveModel(config, query.model);
  const key = await resultKeyFor(model, query, query.sha256);
  const tiers = resultTiers(c.env.RESULTS, c.req.url, hotResultsFor(config.hotCacheBytes));
  const stored = await findResult(tiers, key, {
    bodyless: true,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  });
  if (!stored) throw new AppError('not_cached', 'no result for this image and these options yet');
  c.header('cache-control', 'public, max-age=3600');
  return c.json({ key, url: `${config.publicBaseUrl ?? tiers.origin}${resultPath(key)}` });
}
