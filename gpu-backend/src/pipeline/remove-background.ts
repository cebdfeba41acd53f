import type { ModelSpec, OutputFormat, OutputKind, RefineMode, SubjectMode } from '@bgremove/shared';
import { AppError, OUTPUT_CONTENT_TYPES, parseRoi, roiPixels } from '@bgremove/shared';
import { foregroundOnPool, refineOnPool } from '../matte/pixel-pool';
import type { Engine } from '../models/engine';
import { modelInputSize } from '../models/input-size';
import {
  decodeForModel,
  encodeCutout,
  encodeMatte,
  matteAt,
  outputSize,
  probeImage,
  rgbaWithMatte,
  clipToRect,
  type ColourStep,
  type DecodeLimits,
  type ProbedImage,
} from './image-io';
import { compose, foregroundBox, formatBox, needsComposition, type ComposeOptions } from './compose';

export interface RemoveBackgroundOptions extends ComposeOptions {
  model?: string | undefined;
  output: OutputKind;
  format: OutputFormat;
  max_side?: number | undefined;
  refine?: RefineMode | undefined;
  subject?: SubjectMode | undefined;
  roi?: string | undefined;
}

export interface PipelineSettings extends DecodeLimits {
  pngCompressionLevel: number;
}

export interface StageTimings {
  decode: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  /** Refinement, subject selection and roi on the pixel workers. */
  refine: number;
  encode: number;
}

export interface RemoveBackgroundResult {
  bytes: Buffer;
  contentType: string;
  model: ModelSpec;
  source: ProbedImage;
  width: number;
  height: number;
  /** The subject's box in the result, `left,top,width,height`, or `none` (X-Foreground-Box). */
  foreground: string;
  /** 0..1: how clearly the photo shows one subject (X-Subject-Confidence). */
  subjectConfidence: number;
  timings: StageTimings;
}

/** The largest side each output format holds (WebP: 14-bit dimensions, JPEG: 16-bit). */
export const FORMAT_MAX_SIDE: Partial<Record<RemoveBackgroundOptions['format'], number>> = {
  webp: 16_383,
  jpg: 65_535,
};

/**
 * A result its format cannot hold is refused before any work (it was a 500 from the encoder):
 * 422 image_too_large, saying what fits.
 */
function refuseOversizedResult(
  options: RemoveBackgroundOptions,
  out: { width: number; height: number },
): void {
  const limit = FORMAT_MAX_SIDE[options.format];
  if (limit === undefined || Math.max(out.width, out.height) <= limit) return;
  throw new AppError(
    'image_too_large',
    `the result would be ${out.width}×${out.height}; ${options.format.toUpperCase()} holds at most ${limit} pixels per side: use format=png or a max_side`,
  );
}

/**
 * The whole pipeline in one place: probe the header, decode straight to the model's size, run the
 * model in its session process, and encode the matte (or cutout) at the oriented input size.
 */
export async function removeBackground(
  bytes: Buffer,
  options: RemoveBackgroundOptions,
  engine: Engine,
  settings: PipelineSettings,
  /** The encoded background image, when options.bg_image names it. */
  background?: Buffer,
): Promise<RemoveBackgroundResult> {
  const spec = engine.resolve(options.model);
  const t0 = performance.now();
  const source = await probeImage(bytes, settings);
  refuseOversizedResult(options, outputSize(source, options.max_side));
  const inputSize = modelInputSize(spec, source);
  // A region that misses the image is refused before the model runs.
  const roiRect = options.roi === undefined ? undefined : sourceRoi(options.roi, source);
  const roi = roiRect && scaledRect(roiRect, source, inputSize);
  const rgb = await decodeForModel(bytes, inputSize, settings);
  const t1 = performance.now();
  const { matte: rawMatte, timings } = await engine.run(spec.id, rgb, inputSize.width, inputSize.height);
  const tRefine = performance.now();
  // Unset: the query schema's defaults.
  const refine = options.refine ?? 'auto';
  const subject = options.subject ?? 'main';
  const refined = await refineOnPool({
    matte: rawMatte,
    width: inputSize.width,
    height: inputSize.height,
    refine,
    subject,
    roi,
    rgb,
  });
  const matte = refined.matte;
  const t2 = performance.now();
  const out = outputSize(source, options.max_side);
  // The roi once more at output size: resampling must not carry the subject across its border.
  const outRoi = roiRect && scaledRect(roiRect, source, out);
  const alpha = await clipToRect(await matteAt(matte, inputSize, out), out, outRoi);
  const box = await foregroundBox(alpha, out);
  // Refined cutouts get clean edge colours; refine=none keeps the photo's (rembg's output). The
  // colours are unmixed under the soft (guided, unramped) map where there is one: a pixel the
  // matte calls opaque can still hold some of the old background.
  const soft = refined.soft;
  const colours: ColourStep | undefined =
    refine === 'none'
      ? undefined
      : async (photo, photoAlpha, size) =>
          foregroundOnPool({
            rgb: photo,
            alpha: soft ? await clipToRect(await matteAt(soft, inputSize, size), size, outRoi) : photoAlpha,
            width: size.width,
            height: size.height,
            smallRgb: rgb,
            smallAlpha: soft ?? matte,
            smallWidth: inputSize.width,
            smallHeight: inputSize.height,
          });
  let result: { bytes: Buffer; width: number; height: number; box: typeof box };
  if (needsComposition(options)) {
    const rgba = await rgbaWithMatte(bytes, source, alpha, out, settings, colours);
    result = await compose(rgba, out, box, {
      ...options,
      pngCompressionLevel: settings.pngCompressionLevel,
      background,
      maxPixels: settings.maxPixels,
    });
  } else {
    const encodeOptions = { format: options.format, pngCompressionLevel: settings.pngCompressionLevel };
    const encoded =
      options.output === 'matte'
        ? await encodeMatte(alpha, out, encodeOptions)
        : await encodeCutout(bytes, source, alpha, out, {
            ...encodeOptions,
            maxPixels: settings.maxPixels,
            colours,
          });
    result = { bytes: encoded, width: out.width, height: out.height, box };
  }
  const t3 = performance.now();
  return {
    bytes: result.bytes,
    contentType: OUTPUT_CONTENT_TYPES[options.format],
    model: spec,
    source,
    width: result.width,
    height: result.height,
    foreground: formatBox(result.box),
    subjectConfidence: refined.confidence,
    timings: {
      decode: t1 - t0,
      preprocess: timings.preprocessMs,
      inference: timings.inferenceMs,
      postprocess: timings.postprocessMs,
      refine: t2 - tRefine,
      encode: t3 - t2,
    },
  };
}

/** The roi (source pixels or percentages) in source pixels; refused when it misses the image. */
function sourceRoi(text: string, source: { width: number; height: number }) {
  const roi = parseRoi(text);
  if (typeof roi === 'string') throw new AppError('invalid_request', `roi: ${roi}`);
  const rect = roiPixels(roi, source.width, source.height);
  if (!rect) {
    throw new AppError(
      'invalid_request',
      `roi: the region ${text} lies outside the ${source.width}x${source.height} image`,
    );
  }
  return rect;
}

/** A rectangle ([x1, x2) × [y1, y2)) in source pixels, scaled to another size, at least a pixel. */
function scaledRect(
  rect: { x1: number; y1: number; x2: number; y2: number },
  source: { width: number; height: number },
  to: { width: number; height: number },
) {
  const sx = to.width / source.width;
  const sy = to.height / source.height;
  const x1 = Math.min(to.width - 1, Math.floor(rect.x1 * sx));
  const y1 = Math.min(to.height - 1, Math.floor(rect.y1 * sy));
  return {
    x1,
    y1,
    x2: Math.min(to.width, Math.max(x1 + 1, Math.ceil(rect.x2 * sx))),
    y2: Math.min(to.height, Math.max(y1 + 1, Math.ceil(rect.y2 * sy))),
  };
}
