import { AppError, HEADERS, SHA256_HEX } from '@bgremove/shared';
import { createRoute, z, type Hook, type RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env';
import { hotResultsFor } from '../hot-results';
import { findResult, IMMUTABLE, resultHeaders, resultTiers } from '../result-store';
import { image, problems, resultHeaders as resultHeadersDoc } from './openapi';

export const resultsRoute = createRoute({
  method: 'get',
  path: '/v1/results/{key}',
  summary: 'A stored result (also HEAD); immutable, If-None-Match gives 304.',
  request: { params: z.object({ key: z.string().regex(SHA256_HEX) }) },
  responses: {
    200: {
      description: 'The result.',
      headers: resultHeadersDoc,
      content: { 'image/png': image, 'image/webp': image },
    },
    304: { description: 'Not modified.' },
    ...problems(404, 503),
  },
});

/** A key that is no SHA-256 names no result: 404, like an unknown one. */
export const resultKeyHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) throw new AppError('not_found', 'no result with this key');
  return undefined;
};

/** If-None-Match matches when it lists this ETag (strong or weak) or is `*`. */
function matchesEtag(ifNoneMatch: string | undefined, key: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === `"${key}"`);
}

/** GET|HEAD /v1/results/:key — the durable, publicly cacheable result URL. */
export const results: RouteHandler<typeof resultsRoute, AppEnv> = async (c) => {
  const { key } = c.req.valid('param');
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
};
