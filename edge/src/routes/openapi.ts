import { ERROR_CODES } from '@bgremove/shared';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env';

/** The building blocks of the route definitions' responses (routes/*.ts). */

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

/** Problem responses for these statuses. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'problem', content: { 'application/problem+json': { schema: problem } } },
    ]),
  );

/** Binary image content (documentation only: no validator is attached to non-JSON bodies). */
export const image = { schema: z.string().meta({ format: 'binary' }) };

/**
 * A multipart body with the file in field "image". A plain JSON schema rather than zod, so that
 * @hono/zod-openapi attaches no form validator (it would buffer the whole body before the size cap).
 */
export const multipartImage = {
  schema: {
    type: 'object' as const,
    properties: { image: { type: 'string' as const, format: 'binary' } },
    required: ['image'],
  },
};

/** The headers of every successful result response (documentation). */
export const resultHeaders = {
  ETag: { schema: { type: 'string' as const } },
  'X-Result-Key': { schema: { type: 'string' as const } },
  'Content-Location': { schema: { type: 'string' as const } },
  'X-Source-SHA256': { schema: { type: 'string' as const } },
  'X-Cache': { schema: { type: 'string' as const, enum: ['HIT', 'MISS', 'COALESCED'] } },
  'X-Foreground-Box': {
    description: "The subject's box in the result: left,top,width,height in output pixels, or none.",
    schema: { type: 'string' as const },
  },
  'X-Subject-Confidence': {
    description:
      'How clearly the photo shows one subject, 0.000..1.000; under 0.5 there is no clear subject.',
    schema: { type: 'string' as const },
  },
};

/** GET /openapi.json: generated from the route definitions registered on `app` (app.openapi). */
export function serveOpenApi(app: OpenAPIHono<AppEnv>): void {
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'bgremove edge', version: '1.0.0', description: 'Background removal for storefronts.' },
  });
}
