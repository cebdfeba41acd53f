import { z } from 'zod';
import { MAX_SIDE_MAX, MAX_SIDE_MIN, OUTPUT_FORMATS, OUTPUT_KINDS, SHA256_HEX } from './protocol';

/** Model ids: lowercase, digits, dot, dash, underscore (u2net_human_seg, isnet-general-use). */
export const modelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a model id such as "isnet-general-use"');

/** Options that change the result; shared by upload, lookup and the backend. Unknown keys are rejected. */
export const resultOptionsShape = {
  model: modelIdSchema.optional().describe('Model id from GET /v1/models; default: the deployment default.'),
  output: z
    .enum(OUTPUT_KINDS)
    .default('matte')
    .describe('matte: 8-bit single-channel alpha; cutout: the input with the matte as alpha.'),
  format: z.enum(OUTPUT_FORMATS).default('png').describe('png, or webp (lossless).'),
  max_side: z.coerce
    .number()
    .int()
    .min(MAX_SIDE_MIN)
    .max(MAX_SIDE_MAX)
    .optional()
    .describe(`Downscale so the longer side is at most this (${MAX_SIDE_MIN}..${MAX_SIDE_MAX}).`),
};

export const removeBackgroundQuerySchema = z.strictObject(resultOptionsShape);
export type RemoveBackgroundQuery = z.infer<typeof removeBackgroundQuerySchema>;

export const lookupQuerySchema = z.strictObject({
  sha256: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.string().regex(SHA256_HEX, '64 hex characters'))
    .describe('SHA-256 of the source image bytes, hex.'),
  ...resultOptionsShape,
});
export type LookupQuery = z.infer<typeof lookupQuerySchema>;

/** One line naming every offending field, for problem+json details. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(query)';
      if (issue.code === 'unrecognized_keys') return `unknown parameter(s): ${issue.keys.join(', ')}`;
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}
