import type { ModelSpec, OutputFormat, OutputKind, RefineMode, SubjectMode } from '@bgremove/shared';
import { AppError, OUTPUT_CONTENT_TYPES } from '@bgremove/shared';
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
 * model on a worker thread, and encode the matte (or cutout) at the oriented input size.
 */
export async function removeBackground(
  bytes: Buffer,
  options: RemoveBackgroundOptions,
  engine: Engine,
  settings: PipelineSettings,
  /** The encoded background image, when options.bg_image names it. */
  background?: Buffer,
): Promise<RemoveBackgroundResult> {
  if ((options.refine ?? 'none') !== 'none' || (options.subject ?? 'all') !== 'all' || options.roi) {
    throw new AppError(
      'invalid_request',
      'refine, subject and roi other than their defaults are not available yet',
    );
  }
  const spec = engine.resolve(options.model);
  const t0 = performance.now();
  const source = await probeImage(bytes, settings);
  refuseOversizedResult(options, outputSize(source, options.max_side));
  const inputSize = modelInputSize(spec, source);
  const rgb = await decodeForModel(bytes, inputSize, settings);
  const t1 = performance.now();
  const { matte, timings } = await engine.run(spec.id, rgb, inputSize.width, inputSize.height);
  const t2 = performance.now();
  const out = outputSize(source, options.max_side);
  const alpha = await matteAt(matte, inputSize, out);
  const box = await foregroundBox(alpha, out);
  let result: { bytes: Buffer; width: number; height: number; box: typeof box };
  if (needsComposition(options)) {
    const rgba = await rgbaWithMatte(bytes, source, alpha, out, settings);
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
        ? await encodeMatte(matte, inputSize, out, encodeOptions)
        : await encodeCutout(bytes, source, matte, inputSize, out, {
            ...encodeOptions,
            maxPixels: settings.maxPixels,
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
    timings: {
      decode: t1 - t0,
      preprocess: timings.preprocessMs,
      inference: timings.inferenceMs,
      postprocess: timings.postprocessMs,
      encode: t3 - t2,
    },
  };
}
