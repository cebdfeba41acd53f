/**
 * Everything that touches pixels outside the model goes through sharp (libvips), whose work runs
 * on libuv's thread pool, off the event loop. Decode failures are turned into AppErrors here, once.
 */
import {
  AppError,
  checkImageHeader,
  imageTooLarge,
  type AcceptedImageType,
  type OutputFormat,
} from '@bgremove/shared';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import type { Size } from '../models/input-size';

/**
 * Process-wide libvips settings, applied once by the server and the CLI: one libvips thread per
 * core (sharp's default on glibc without jemalloc is 1, which serialises the 12-MP matte upscale),
 * and no operation cache (every request is a new image, so it would only hold memory).
 */
export function configureSharp(threads: number): void {
  sharp.concurrency(threads);
  sharp.cache(false);
}

export interface ProbedImage extends Size {
  /** Width and height above are EXIF-oriented. */
  type: AcceptedImageType;
  space: string;
  channels: number;
  depth: string;
  hasAlpha: boolean;
}

export interface DecodeLimits {
  maxPixels: number;
}

function decodeOptions(limits: DecodeLimits): SharpOptions {
  // 'error' fails on truncated or corrupt pixel data but tolerates the harmless warnings many phone
  // JPEGs carry (extraneous bytes before a marker); EXIF orientation is applied on decode.
  return { failOn: 'error', limitInputPixels: limits.maxPixels, autoOrient: true, sequentialRead: true };
}

function invalidImage(cause: unknown): AppError {
  return new AppError('invalid_image', 'the image could not be decoded: it is truncated or corrupt', {
    cause,
  });
}

/**
 * Type from magic bytes, size from the header: nothing is decoded here. The first check is the
 * edge's own (checkImageHeader), so both tiers give the same code for the same bytes; libvips then
 * reads the header again for orientation, channels and depth.
 */
export async function probeImage(bytes: Buffer, limits: DecodeLimits): Promise<ProbedImage> {
  const checked = checkImageHeader(bytes, limits.maxPixels);
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw invalidImage(cause);
  }
  const { width, height } = metadata.autoOrient;
  if (!width || !height) throw invalidImage(new Error('no dimensions in header'));
  if (width * height > limits.maxPixels) {
    throw imageTooLarge(width, height, limits.maxPixels, checked.type);
  }
  return {
    type: checked.type,
    width,
    height,
    space: metadata.space,
    channels: metadata.channels,
    depth: metadata.depth,
    hasAlpha: metadata.hasAlpha,
  };
}

/**
 * Oriented 8-bit sRGB at the model's size. libvips shrinks JPEG and WebP on load, so a 12-MP
 * photo is never decoded at full size for this. Alpha is dropped, as rembg's convert('RGB').
 */
export async function decodeForModel(bytes: Buffer, size: Size, limits: DecodeLimits): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(bytes, decodeOptions(limits))
      .resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== size.width * size.height * 3) {
      throw new Error(
        `expected ${size.width}x${size.height}x3, got ${info.width}x${info.height}x${info.channels}`,
      );
    }
    return data;
  } catch (cause) {
    throw invalidImage(cause);
  }
}

/** The output size: the oriented input, downscaled so its longer side is at most maxSide. */
export function outputSize(source: Size, maxSide: number | undefined): Size {
  const longer = Math.max(source.width, source.height);
  if (maxSide === undefined || longer <= maxSide) return { width: source.width, height: source.height };
  const scale = maxSide / longer;
  return {
    width: Math.max(1, Math.round(source.width * scale)),
    height: Math.max(1, Math.round(source.height * scale)),
  };
}

export interface EncodeOptions {
  format: OutputFormat;
  pngCompressionLevel: number;
}

/**
 * Matte at the model's size, resized to `out` and kept single-channel. Downscaling uses Lanczos
 * (as rembg); when enlarging, libvips interpolates bicubically whatever the kernel.
 */
function resizedMatte(matte: Uint8Array, matteSize: Size, out: Size): Sharp {
  return sharp(matte, { raw: { width: matteSize.width, height: matteSize.height, channels: 1 } })
    .resize(out.width, out.height, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace('b-w');
}

function encode(image: Sharp, options: EncodeOptions): Promise<Buffer> {
  return options.format === 'webp'
    ? image.webp({ lossless: true, effort: 2 }).toBuffer()
    : image.png({ compressionLevel: options.pngCompressionLevel, adaptiveFiltering: false }).toBuffer();
}

/** 8-bit single-channel PNG (or lossless WebP) alpha matte from the matte at the output size. */
export function encodeMatte(alpha: Buffer, out: Size, options: EncodeOptions): Promise<Buffer> {
  return encode(
    sharp(alpha, { raw: { width: out.width, height: out.height, channels: 1 } }).toColourspace('b-w'),
    options,
  );
}

/**
 * New colours for a cutout from the photo (interleaved 8-bit RGB at `out`) and its alpha at the
 * same size, e.g. foreground colour estimation; never changes the alpha.
 */
export type ColourStep = (rgb: Uint8Array, alpha: Uint8Array, size: Size) => Promise<Uint8Array>;

/** The oriented input's colours at `out`: raw interleaved 8-bit sRGB. */
async function photoAt(bytes: Buffer, source: ProbedImage, out: Size, limits: DecodeLimits): Promise<Buffer> {
  try {
    let image = sharp(bytes, decodeOptions(limits));
    if (out.width !== source.width || out.height !== source.height) {
      image = image.resize(out.width, out.height, { fit: 'fill', kernel: 'lanczos3' });
    }
    return await image.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer();
  } catch (cause) {
    throw invalidImage(cause);
  }
}

/**
 * RGBA: the oriented input (at `out`) with `alpha` (the matte at `out`) as its alpha channel.
 * Colours are untouched, unless `colours` is given: then they are what it makes of the photo
 * under that alpha.
 */
export async function encodeCutout(
  bytes: Buffer,
  source: ProbedImage,
  alpha: Buffer,
  out: Size,
  options: EncodeOptions & DecodeLimits & { colours?: ColourStep | undefined },
): Promise<Buffer> {
  const alphaRaw = { raw: { width: out.width, height: out.height, channels: 1 as const } };
  if (!options.colours && !source.hasAlpha && source.depth === 'uchar') {
    // One pipeline straight to the encoder: no full-size RGB buffer in between.
    let image: Sharp;
    try {
      image = sharp(bytes, decodeOptions(options));
      if (out.width !== source.width || out.height !== source.height) {
        image = image.resize(out.width, out.height, { fit: 'fill', kernel: 'lanczos3' });
      }
      return await encode(image.toColourspace('srgb').joinChannel(alpha, alphaRaw), options);
    } catch (cause) {
      throw invalidImage(cause);
    }
  }
  // sharp drops alpha after joining channels, and would read an 8-bit alpha on a 16-bit image
  // as 16-bit: those sources go through 8-bit raw RGB (as do new colours).
  const rgb = await photoAt(bytes, source, out, options);
  const colours = options.colours ? await options.colours(rgb, alpha, out) : rgb;
  const rgbRaw = { raw: { width: out.width, height: out.height, channels: 3 as const } };
  return await encode(sharp(colours, rgbRaw).joinChannel(alpha, alphaRaw), options);
}

/** The matte resized to `out`, raw, one byte per pixel. */
export function matteAt(matte: Uint8Array, matteSize: Size, out: Size): Promise<Buffer> {
  return resizedMatte(matte, matteSize, out).raw().toBuffer();
}

/**
 * Raw RGBA at `out`: the oriented input's colours (8-bit sRGB, or what `colours` makes of them)
 * with the matte as alpha, for the composition step (pipeline/compose.ts).
 */
export async function rgbaWithMatte(
  bytes: Buffer,
  source: ProbedImage,
  alpha: Buffer,
  out: Size,
  limits: DecodeLimits,
  colours?: ColourStep,
): Promise<Buffer> {
  const photo = await photoAt(bytes, source, out, limits);
  const rgb = colours ? await colours(photo, alpha, out) : photo;
  return await sharp(rgb, { raw: { width: out.width, height: out.height, channels: 3 } })
    .joinChannel(alpha, { raw: { width: out.width, height: out.height, channels: 1 } })
    .raw()
    .toBuffer();
}

/**
 * The alpha (one byte per pixel at `size`) with everything outside `rect` ([x1, x2) × [y1, y2))
 * set to 0, by libvips (extract, then extend with black); unchanged without a rect.
 */
export async function clipToRect(
  alpha: Buffer,
  size: Size,
  rect: { x1: number; y1: number; x2: number; y2: number } | undefined,
): Promise<Buffer> {
  if (!rect || (rect.x1 <= 0 && rect.y1 <= 0 && rect.x2 >= size.width && rect.y2 >= size.height))
    return alpha;
  return await sharp(alpha, { raw: { width: size.width, height: size.height, channels: 1 } })
    .extract({ left: rect.x1, top: rect.y1, width: rect.x2 - rect.x1, height: rect.y2 - rect.y1 })
    .extend({
      left: rect.x1,
      top: rect.y1,
      right: size.width - rect.x2,
      bottom: size.height - rect.y2,
      background: '#000000',
    })
    .extractChannel(0)
    .raw()
    .toBuffer();
}
