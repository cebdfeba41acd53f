/**
 * Composition after the matte (the remove.bg-style options): crop to the subject with margins,
 * scale and position it on the canvas, put a colour behind it, and encode as PNG, WebP or JPEG,
 * or just its alpha. All pixel work is sharp (libvips, off the event loop), the foreground box
 * included.
 */
import { AppError, type OutputFormat, type OutputKind } from '@bgremove/shared';
import { zip } from 'fflate';
import sharp, { type Sharp } from 'sharp';
import type { Size } from '../models/input-size';

/** Matte values at or below this count as background for the foreground box. */
const BOX_THRESHOLD = 8;

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface ComposeOptions {
  output: OutputKind;
  format: OutputFormat;
  /** rrggbbaa */
  bg_color?: string | undefined;
  crop?: 'true' | 'false' | undefined;
  /** top,right,bottom,left, each <n>px or <n>% of the subject's size */
  crop_margin?: string | undefined;
  /** 10..100: the subject's size as a percentage of the canvas */
  scale?: number | undefined;
  /** original | center | <x>%,<y>% */
  position?: string | undefined;
  /** SHA-256 of the background image (its bytes come separately, `background`). */
  bg_image?: string | undefined;
}

/** Does anything beyond the plain matte or cutout apply? */
export function needsComposition(options: ComposeOptions): boolean {
  return (
    options.crop === 'true' ||
    options.scale !== undefined ||
    (options.position !== undefined && options.position !== 'original') ||
    options.bg_color !== undefined ||
    options.bg_image !== undefined ||
    options.format === 'jpg' ||
    options.format === 'zip'
  );
}

/**
 * The bounding box of alpha values above the threshold (libvips' find_trim, on the thread pool),
 * or undefined when there is no foreground.
 */
export async function foregroundBox(alpha: Buffer, size: Size): Promise<Box | undefined> {
  if (size.width < 3 || size.height < 3) return boxByScan(alpha, size);
  const raw = { raw: { width: size.width, height: size.height, channels: 1 as const } };
  const stats = await sharp(alpha, raw).stats();
  if ((stats.channels[0]?.max ?? 0) <= BOX_THRESHOLD) return undefined;
  const { info } = await sharp(alpha, raw)
    .trim({ background: '#000000', threshold: BOX_THRESHOLD, lineArt: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    left: Math.max(0, -(info.trimOffsetLeft ?? 0)),
    top: Math.max(0, -(info.trimOffsetTop ?? 0)),
    width: info.width,
    height: info.height,
  };
}

/** The same box by a plain scan, for images libvips cannot trim (under 3×3; a few pixels wide). */
function boxByScan(alpha: Buffer, size: Size): Box | undefined {
  let [minX, minY, maxX, maxY] = [size.width, size.height, -1, -1];
  for (let y = 0; y < size.height; y++) {
    for (let x = 0; x < size.width; x++) {
      if (alpha[y * size.width + x]! > BOX_THRESHOLD) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  return maxX < 0 ? undefined : { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

export const formatBox = (box: Box | undefined): string =>
  box ? `${box.left},${box.top},${box.width},${box.height}` : 'none';

function margins(
  text: string | undefined,
  subject: Box,
): { top: number; right: number; bottom: number; left: number } {
  const parts = (text ?? '0px,0px,0px,0px').split(',');
  const at = (i: number, size: number) => {
    const m = /^(\d+(?:\.\d+)?)(px|%)$/.exec(parts[i] ?? '0px');
    if (!m) throw new AppError('invalid_request', `crop_margin: "${parts[i]}" is not <n>px or <n>%`);
    const value = Number(m[1]);
    return Math.round(m[2] === '%' ? (value / 100) * size : value);
  };
  return {
    top: at(0, subject.height),
    right: at(1, subject.width),
    bottom: at(2, subject.height),
    left: at(3, subject.width),
  };
}

function rgbaOf(color: string): { r: number; g: number; b: number; alpha: number } {
  const n = (i: number) => parseInt(color.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: n(6) / 255 };
}

const raw4 = (size: Size) => ({ raw: { width: size.width, height: size.height, channels: 4 as const } });

/**
 * The background image scaled to cover the canvas (centred, the overflow cut off; CSS
 * `background-size: cover`), oriented, as raw sRGB + alpha; `opaque` when it had no alpha.
 */
export async function coverBackground(
  bytes: Buffer,
  canvas: Size,
  maxPixels: number,
): Promise<{ rgba: Buffer; opaque: boolean }> {
  try {
    const input = sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels, autoOrient: true });
    const { hasAlpha } = await input.metadata();
    const rgba = await input
      .resize(canvas.width, canvas.height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer();
    return { rgba, opaque: !hasAlpha };
  } catch (cause) {
    throw new AppError('invalid_image', 'the background image could not be decoded', { cause });
  }
}

/** A fixed date in the ZIP entries, so the same result is the same bytes. */
const ZIP_MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * remove.bg's ZIP: `color.jpg` (the image's colours, no alpha) and `alpha.png` (8-bit grey,
 * the alpha), the same size; together they are the PNG. Both are compressed already, so the
 * entries are stored; fflate's asynchronous zip runs on a worker thread.
 */
async function colorAndAlphaZip(image: Sharp, canvas: Size, pngCompressionLevel: number): Promise<Buffer> {
  const rgba = await image.ensureAlpha().raw().toBuffer();
  const [color, alpha] = await Promise.all([
    // 4:4:4: no chroma subsampling, so the colours do not bleed across the subject's edge.
    sharp(rgba, raw4(canvas))
      .removeAlpha()
      .jpeg({ quality: 90, chromaSubsampling: '4:4:4', mozjpeg: false })
      .toBuffer(),
    sharp(rgba, raw4(canvas))
      .extractChannel(3)
      .toColourspace('b-w')
      .png({ compressionLevel: pngCompressionLevel, adaptiveFiltering: false })
      .toBuffer(),
  ]);
  const zipped = await new Promise<Uint8Array>((resolve, reject) =>
    zip(
      { 'color.jpg': new Uint8Array(color), 'alpha.png': new Uint8Array(alpha) },
      { level: 0, mtime: ZIP_MTIME },
      (error, data) => (error ? reject(error) : resolve(data)),
    ),
  );
  return Buffer.from(zipped.buffer, zipped.byteOffset, zipped.byteLength);
}

export interface Composed {
  bytes: Buffer;
  width: number;
  height: number;
  box: Box | undefined;
}

/**
 * `rgba` is the oriented source at `out` with the matte as alpha (raw, 4 channels). The canvas is
 * `out`, or the subject's box plus margins with crop (beyond the image: transparent). With scale,
 * the subject is resized to fit that share of the canvas; it stays where it was (position
 * original), is centred, or goes to `x%,y%` of the free room.
 */
export async function compose(
  rgba: Buffer,
  out: Size,
  box: Box | undefined,
  options: ComposeOptions & {
    pngCompressionLevel: number;
    background?: Buffer | undefined;
    maxPixels?: number;
  },
): Promise<Composed> {
  if (options.bg_image !== undefined && options.background === undefined)
    throw new AppError('invalid_request', 'bg_image: the background image itself is missing');
  if (options.format === 'zip' && options.output === 'matte')
    throw new AppError(
      'invalid_request',
      'format=zip holds a cutout (color.jpg + alpha.png): use output=cutout',
    );
  if (options.bg_image !== undefined && options.bg_color !== undefined)
    throw new AppError('invalid_request', 'give bg_color or bg_image, not both');
  let canvas: Size = out;
  let subjectAt = box ? { left: box.left, top: box.top } : { left: 0, top: 0 };
  let layer: Sharp = sharp(rgba, raw4(out));
  if (box && options.crop === 'true') {
    const m = margins(options.crop_margin, box);
    const region = {
      left: box.left - m.left,
      top: box.top - m.top,
      width: box.width + m.left + m.right,
      height: box.height + m.top + m.bottom,
    };
    // The part of the region inside the image, extended with transparency to the whole region.
    const inside = {
      left: Math.max(0, region.left),
      top: Math.max(0, region.top),
      right: Math.min(out.width, region.left + region.width),
      bottom: Math.min(out.height, region.top + region.height),
    };
    const extended = await sharp(rgba, raw4(out))
      .extract({
        left: inside.left,
        top: inside.top,
        width: inside.right - inside.left,
        height: inside.bottom - inside.top,
      })
      .extend({
        left: inside.left - region.left,
        top: inside.top - region.top,
        right: region.left + region.width - inside.right,
        bottom: region.top + region.height - inside.bottom,
        background: { r: 0, g: 0, b: 0, alpha: 0 },
      })
      .raw()
      .toBuffer();
    canvas = { width: region.width, height: region.height };
    subjectAt = { left: m.left, top: m.top };
    layer = sharp(extended, raw4(canvas));
    rgba = extended;
  }
  let resultBox: Box | undefined = box ? { ...subjectAt, width: box.width, height: box.height } : undefined;
  const moves =
    options.scale !== undefined || (options.position !== undefined && options.position !== 'original');
  if (box && resultBox && moves) {
    const f =
      options.scale === undefined
        ? 1
        : Math.min(
            (options.scale / 100) * (canvas.width / box.width),
            (options.scale / 100) * (canvas.height / box.height),
          );
    const width = Math.max(1, Math.round(box.width * f));
    const height = Math.max(1, Math.round(box.height * f));
    const subject = await sharp(rgba, raw4(canvas))
      .extract({ left: resultBox.left, top: resultBox.top, width: box.width, height: box.height })
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    const position = options.position ?? 'center';
    let left = resultBox.left;
    let top = resultBox.top;
    if (position === 'center') {
      left = Math.round((canvas.width - width) / 2);
      top = Math.round((canvas.height - height) / 2);
    } else if (position !== 'original') {
      const [x, y] = position.split(',').map((p) => Number(p.replace('%', '')) / 100) as [number, number];
      left = Math.round((canvas.width - width) * x);
      top = Math.round((canvas.height - height) * y);
    }
    // Whatever lies outside the canvas is cut off (an original position near the edge, scaled up).
    left = Math.min(Math.max(left, 0), Math.max(0, canvas.width - width));
    top = Math.min(Math.max(top, 0), Math.max(0, canvas.height - height));
    const clipped = await sharp(subject, raw4({ width, height }))
      .extract({
        left: 0,
        top: 0,
        width: Math.min(width, canvas.width),
        height: Math.min(height, canvas.height),
      })
      .raw()
      .toBuffer({ resolveWithObject: true });
    layer = sharp({
      create: { ...canvas, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    }).composite([
      {
        input: clipped.data,
        raw: { width: clipped.info.width, height: clipped.info.height, channels: 4 },
        left,
        top,
      },
    ]);
    resultBox = { left, top, width: clipped.info.width, height: clipped.info.height };
  }
  const layerRaw = await layer.raw().toBuffer();
  let image: Sharp;
  if (options.output === 'matte') {
    image = sharp(layerRaw, raw4(canvas)).extractChannel(3).toColourspace('b-w');
  } else if (options.bg_image !== undefined && options.background !== undefined) {
    const background = await coverBackground(options.background, canvas, options.maxPixels ?? 50_000_000);
    const composed = await sharp(background.rgba, raw4(canvas))
      .composite([{ input: layerRaw, raw: { ...canvas, channels: 4 } }])
      .raw()
      .toBuffer();
    image = sharp(composed, raw4(canvas));
    if (background.opaque || options.format === 'jpg') image = image.removeAlpha();
  } else if (options.bg_color !== undefined || options.format === 'jpg') {
    const background = rgbaOf(options.bg_color ?? 'ffffffff');
    image = sharp({ create: { ...canvas, channels: 4, background } }).composite([
      { input: layerRaw, raw: { ...canvas, channels: 4 } },
    ]);
    // An opaque background leaves no transparency: three channels.
    if (background.alpha === 1 || options.format === 'jpg')
      image = sharp(await image.raw().toBuffer(), raw4(canvas)).removeAlpha();
  } else {
    image = sharp(layerRaw, raw4(canvas));
  }
  let bytes: Buffer;
  if (options.format === 'zip') {
    bytes = await colorAndAlphaZip(image, canvas, options.pngCompressionLevel);
  } else if (options.format === 'jpg') {
    bytes = await image.flatten({ background: '#ffffff' }).jpeg({ quality: 90, mozjpeg: false }).toBuffer();
  } else if (options.format === 'webp') {
    bytes = await image.webp({ lossless: true, effort: 2 }).toBuffer();
  } else {
    bytes = await image
      .png({ compressionLevel: options.pngCompressionLevel, adaptiveFiltering: false })
      .toBuffer();
  }
  return { bytes, width: canvas.width, height: canvas.height, box: resultBox };
}
