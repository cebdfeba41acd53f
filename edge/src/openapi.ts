import { ERROR_CODES, lookupQuerySchema, removeBackgroundQuerySchema } from '@bgremove/shared';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env';

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES as [string, ...string[]]),
    request_id: z.string(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; Cache-Control: no-store.' });

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'problem', content: { 'application/problem+json': { schema: problem } } },
    ]),
  );

const image = { schema: z.string().meta({ format: 'binary' }) };
const resultKeyParam = z.object({ key: z.string().regex(/^[0-9a-f]{64}$/) });
const resultHeaders = {
  ETag: { schema: { type: 'string' as const } },
  'X-Result-Key': { schema: { type: 'string' as const } },
  'Content-Location': { schema: { type: 'string' as const } },
  'X-Source-SHA256': { schema: { type: 'string' as const } },
  'X-Cache': { schema: { type: 'string' as const, enum: ['HIT', 'MISS', 'COALESCED'] } },
};

/**
 * Describes every route with the same shared zod schemas that validate the requests
 * (removeBackgroundQuerySchema, lookupQuerySchema), served at GET /openapi.json.
 */
export function registerOpenApi(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'post',
    path: '/v1/remove-background',
    summary: 'Remove the background of an image (raw body or multipart field "image").',
    request: {
      query: removeBackgroundQuerySchema,
      body: {
        required: true,
        content: {
          'image/jpeg': image,
          'image/png': image,
          'image/webp': image,
          'image/avif': image,
          'multipart/form-data': { schema: z.object({ image: image.schema }) },
        },
      },
    },
    responses: {
      200: {
        description: 'The matte or cutout.',
        headers: resultHeaders,
        content: { 'image/png': image, 'image/webp': image },
      },
      ...problems(400, 413, 415, 422, 429, 500, 502, 503, 504),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/results/{key}',
    summary: 'A stored result (also HEAD); immutable, If-None-Match gives 304.',
    request: { params: resultKeyParam },
    responses: {
      200: {
        description: 'The result.',
        headers: resultHeaders,
        content: { 'image/png': image, 'image/webp': image },
      },
      304: { description: 'Not modified.' },
      ...problems(404),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/lookup',
    summary: 'Find a result by the SHA-256 of the source image, without uploading it.',
    request: { query: lookupQuerySchema },
    responses: {
      200: {
        description: 'Cached.',
        content: { 'application/json': { schema: z.object({ key: z.string(), url: z.string() }) } },
      },
      ...problems(400, 404, 422, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Edge liveness.',
    responses: { 200: { description: 'Alive.' } },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/status',
    summary: 'Edge models, backend readiness and models (cached for a few seconds).',
    responses: { 200: { description: 'Status.' } },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'bgremove edge', version: '1.0.0', description: 'Background removal for storefronts.' },
  });
}
