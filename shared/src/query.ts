import { z } from 'zod';
import {
  MAX_SIDE_MAX,
  MAX_SIDE_MIN,
  OUTPUT_FORMATS,
  OUTPUT_KINDS,
  REFINE_MODES,
  SHA256_HEX,
  SUBJECT_MODES,
} from './protocol';
import { formatRoi, parseRoi } from './roi';

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
  format: z
    .enum(OUTPUT_FORMATS)
    .default('png')
    .describe(
      'png; webp (lossless); jpg (flattened on bg_color or white); zip (cutout only: color.jpg with the colours and alpha.png with the alpha, the same size).',
    ),
  max_side: z.coerce
    .number()
    .int()
    .min(MAX_SIDE_MIN)
    .max(MAX_SIDE_MAX)
    .optional()
    .describe(`Downscale so the longer side is at most this (${MAX_SIDE_MIN}..${MAX_SIDE_MAX}).`),
  refine: z
    .enum(REFINE_MODES)
    .default('auto')
    .describe(
      "auto (default): the model's map refined (doubted parts of the subject solid, faint stains dropped, soft edges kept) and, for cutouts, edge colours cleaned; none: the model's raw map and the photo's colours, as rembg returns them.",
    ),
  subject: z
    .enum(SUBJECT_MODES)
    .default('main')
    .describe(
      'main (default): only the main subject, detached regions dropped; all: every region the model found.',
    ),
  roi: z
    .string()
    .max(200)
    .superRefine((text, ctx) => {
      const roi = parseRoi(text);
      if (typeof roi === 'string') ctx.addIssue({ code: 'custom', message: roi });
    })
    .overwrite((text) => {
      const roi = parseRoi(text);
      return typeof roi === 'string' ? text : formatRoi(roi);
    })
    .optional()
    .describe(
      'Region of interest x1,y1,x2,y2 in source pixels (120 or 120px) or percentages (25%): only what lies inside can be foreground. Default: the whole image.',
    ),
  bg_color: z
    .string()
    .regex(/^[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/, 'a hex colour rrggbb or rrggbbaa')
    .overwrite((hex) => (hex.length === 6 ? `${hex}ff` : hex).toLowerCase())
    .optional()
    .describe(
      'Background colour behind the cutout, hex rrggbb or rrggbbaa (translucent). Default: none (transparent).',
    ),
  bg_image: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.string().regex(SHA256_HEX, '64 hex characters'))
    .optional()
    .describe(
      'SHA-256 (hex) of a background image sent with the photo (backend: multipart part bg_image), scaled to cover the canvas behind the cutout. Default: none.',
    ),
  crop: z
    .enum(['true', 'false'])
    .default('false')
    .describe("true: the canvas is the subject's box (plus crop_margin) instead of the whole image."),
  crop_margin: z
    .string()
    .regex(
      /^\d+(\.\d+)?(px|%)(,\d+(\.\d+)?(px|%)){3}$/,
      'top,right,bottom,left, each <n>px or <n>% of the subject size',
    )
    .optional()
    .describe(
      'With crop=true: margins around the subject, top,right,bottom,left (30px or 10%). Default: none.',
    ),
  scale: z.coerce
    .number()
    .min(10)
    .max(100)
    .optional()
    .describe(
      "The subject's size in percent of the canvas (10..100), centred unless position says otherwise. Default: unscaled.",
    ),
  position: z
    .string()
    .regex(/^(original|center|\d+(\.\d+)?%,\d+(\.\d+)?%)$/, 'original, center or <x>%,<y>%')
    .optional()
    .describe(
      'Where the subject goes on the canvas: original (where it was), center, or x%,y% of the free room. Default: original (center with scale).',
    ),
};

/** The names of the options that change a result, in canonical (sorted) order. */
export const RESULT_OPTION_NAMES = Object.keys(resultOptionsShape).sort() as ResultOptionName[];
export type ResultOptionName = keyof typeof resultOptionsShape;

export const resultOptionsSchema = z.strictObject(resultOptionsShape);
/** Every result option with defaults applied (as the schemas parse them). */
export type ResultOptions = z.output<typeof resultOptionsSchema>;

/** The result options of a parsed query, without its other fields (a lookup's sha256). */
export function resultOptionsOf(query: ResultOptions): ResultOptions {
  const options: Record<string, unknown> = {};
  for (const name of RESULT_OPTION_NAMES) if (query[name] !== undefined) options[name] = query[name];
  return options as ResultOptions;
}

/**
 * The backend's query string for these options: every option given explicitly (defaults
 * included, in canonical order), so edge and backend agree even if their defaults ever differ.
 */
export function resultOptionsQuery(options: ResultOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const name of RESULT_OPTION_NAMES) {
    const value = options[name];
    if (value !== undefined) query.set(name, String(value));
  }
  return query;
}

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
