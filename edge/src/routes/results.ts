import { AppError, HEADERS, SHA256_HEX } from '@bgremove/shared';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { hotResultsFor } from '../hot-results';
import { findResult, IMMUTABLE, resultHeaders, resultTiers } from '../result-store';

/** If-None-Match matches when it lists this ETag (strong or weak) or is `*`. */
function matchesEtag(ifNoneMatch: string | undefined, key: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === `"${key}"`);
}

/** GET|HEAD /v1/results/:key — the durable, publicly cacheable result URL. */
export async function resultsRoute(c: Context<AppEnv>): Promise<Response> {
  const key = c.req.param('key') ?? '';
  if (!SHA256_HEX.test(key)) throw new AppError('not_found', 'no result with this key');
  const conditional = matchesEtag(c.req.header('if-none-match'), key);
  const bodyless = c.req.method === 'HEAD' || conditional;
  const stored = await findResult(
    resultTiers(c.env.RESULTS, c.req.url, hotResultsFor(c.get('config').hotCacheBytes)),
    key,
    {
      bodyless,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    },
  );
  if (!stored) throw new AppError('not_found', 'no result with this key');
  const headers = resultHeaders(key, stored);
  headers.set('cache-control', IMMUTABLE);
  headers.set(HEADERS.cache, 'HIT');
  if (conditional) {
    headers.delete('content-type');
    return new Response(null, { status: 304, headers });
  }
  headers.set('content-length', String(stored.size));
  return new Response(stored.body, { headers });
}
