import { z } from 'zod';

/**
 * GET /v1/models on the backend, as far as the edge relies on it (/v1/status): the default model
 * and, per model, its pinned weights and whether it is loaded and ready. The backend sends more
 * per model (description, input, cold start, placement); parsing keeps only these fields.
 */
export const modelsResponseSchema = z.object({
  default: z.string(),
  models: z.array(
    z.object({
      id: z.string(),
      family: z.string(),
      sha256: z.string().nullable(),
      loaded: z.boolean(),
      ready: z.boolean(),
    }),
  ),
});
export type ModelsResponse = z.infer<typeof modelsResponseSchema>;
