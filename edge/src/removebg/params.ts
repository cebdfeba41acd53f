import { formatRoi, parseRoi } from '@bgremove/shared';
import colorNames from 'color-name';
import { RemoveBgError, type RemoveBgErrorCode } from './errors';

/**
 * The parameters of remove.bg's `POST /v1.0/removebg` (its published OpenAPI description, v1.0),
 * from any of its three body encodings, checked and put in canonical form. Nothing here decodes
 * an image: files are bytes, URLs are strings, and their checks happen later.
 */

export const SIZES = {
  preview: { megapixels: 0.25, credits: 0.25 },
  medium: { megapixels: 1.5, credits: 1 },
  hd: { megapixels: 4, credits: 1 },
  full: { megapixels: 25, credits: 1 },
} as const;
export type CanonicalSize = keyof typeof SIZES;

const SIZE_ALIASES: Record<string, CanonicalSize> = {
  preview: 'preview',
  small: 'preview',
  regular: 'preview',
  medium: 'medium',
  hd: 'hd',
  full: 'full',
  '4k': 'full',
  // remove.bg: "the highest available resolution"; here every size is available.
  auto: 'full',
};

export const REMOVEBG_FORMATS = ['auto', 'png', 'jpg', 'zip'] as const;
export type RemoveBgFormat = (typeof REMOVEBG_FORMATS)[number];

/** Accepted and ignored (documented as no-ops): they steer remove.bg's own models. */
const TYPES = ['auto', 'person', 'product', 'car', 'animal', 'graphic', 'transportation'];
const TYPE_LEVELS = ['none', 'latest', '1', '2'];
const SHADOW_TYPES = ['car', '3D', 'drop', 'none'];

export type Source = { kind: 'file'; bytes: Uint8Array } | { kind: 'url'; url: string };

export interface Margins {
  top: string;
  right: string;
  bottom: string;
  left: string;
}

export interface RemoveBgParams {
  source: Source;
  /** The size asked for, with aliases resolved (`auto` is `full`). */
  size: CanonicalSize;
  sizeRequested: string;
  format: RemoveBgFormat;
  channels: 'rgba' | 'alpha';
  /** rrggbbaa, lowercase. */
  bgColor: string | undefined;
  bgImage: Source | undefined;
  crop: boolean;
  /** Canonical `top,right,bottom,left`, each `<n>px` or `<n>%`; undefined when 0 or no crop. */
  cropMargin: string | undefined;
  /** 10..100 (percent), or undefined for `original`. */
  scale: number | undefined;
  /** `original`, `center` or `<x>%,<y>%`; undefined: remove.bg's default (center with scale). */
  position: string | undefined;
  /** Canonical roi (shared formatRoi), undefined for the whole image. */
  roi: string | undefined;
}

/** A form value: text, or a file's bytes. */
export type FieldValue = string | { file: Uint8Array };

/** The text parameters remove.bg accepts (a file upload's two fields are `FILE_FIELDS`). */
export const TEXT_FIELDS = [
  'image_file_b64',
  'image_url',
  'size',
  'type',
  'type_level',
  'format',
  'roi',
  'crop',
  'crop_margin',
  'scale',
  'position',
  'channels',
  'add_shadow',
  'semitransparency',
  'shadow_type',
  'shadow_opacity',
  'bg_color',
  'bg_image_url',
] as const;
export const FILE_FIELDS = ['image_file', 'bg_image_file'] as const;

const KNOWN_FIELDS = new Set<string>([...TEXT_FIELDS, ...FILE_FIELDS]);

const fail = (code: RemoveBgErrorCode, detail: string) => new RemoveBgError(code, detail);

function text(fields: Map<string, FieldValue>, name: string): string | undefined {
  const value = fields.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw fail('invalid_parameter', `${name} must be text, not a file`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function bool(fields: Map<string, FieldValue>, name: string, code: RemoveBgErrorCode): boolean {
  const value = text(fields, name)?.toLowerCase();
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw fail(code, `${name} must be true or false, got "${value}"`);
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
  name: string,
  code: RemoveBgErrorCode,
): T {
  if (value === undefined) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) throw fail(code, `${name} must be one of ${allowed.join(', ')}; got "${value}"`);
  return found;
}

function base64Bytes(value: string, name: string): Uint8Array {
  const cleaned = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  const normal = cleaned.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normal)) throw fail('failed_to_read_image', `${name} is not base64`);
  try {
    return Uint8Array.from(atob(normal), (c) => c.charCodeAt(0));
  } catch (cause) {
    throw new RemoveBgError('failed_to_read_image', `${name} is not base64`, { cause });
  }
}

/** bg_color: 3, 4, 6 or 8 hex digits (with or without #), or a CSS colour name; as rrggbbaa. */
export function parseColor(value: string): string | undefined {
  const hex = value.replace(/^#/, '').toLowerCase();
  if (/^[0-9a-f]+$/.test(hex)) {
    if (hex.length === 3 || hex.length === 4) {
      const full = Array.from(hex, (d) => d + d).join('');
      return hex.length === 3 ? `${full}ff` : full;
    }
    if (hex.length === 6) return `${hex}ff`;
    if (hex.length === 8) return hex;
    return undefined;
  }
  const rgb = (colorNames as Record<string, [number, number, number] | undefined>)[value.toLowerCase()];
  if (!rgb) return undefined;
  return `${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}ff`;
}

const LENGTH = /^(\d+(?:\.\d+)?)(px|%)?$/i;

/** crop_margin: 1, 2 or 4 values (CSS order), each `<n>px` or `<n>%`; at most 50% or 500px. */
export function parseCropMargin(value: string): Margins | string {
  const parts = value.split(/[\s,]+/).filter(Boolean);
  if (![1, 2, 4].includes(parts.length)) return `expected 1, 2 or 4 values, got ${parts.length}`;
  const lengths: string[] = [];
  for (const part of parts) {
    const match = LENGTH.exec(part);
    if (!match) return `"${part}" is not a length like 30px or 10%`;
    const amount = Number(match[1]);
    const unit = match[2] === '%' ? '%' : 'px';
    if (unit === '%' && amount > 50) return `"${part}": at most 50% of the subject`;
    if (unit === 'px' && (amount > 500 || !Number.isInteger(amount)))
      return `"${part}": at most 500px, whole pixels`;
    lengths.push(`${amount}${unit}`);
  }
  const [top, right = top, bottom = top, left = right] =
    lengths.length === 2 ? [lengths[0], lengths[1], lengths[0], lengths[1]] : lengths;
  return { top: top!, right: right!, bottom: bottom!, left: left! };
}

function percent(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** position: original, center, or 1-2 percentages (horizontal, vertical); as `<x>%,<y>%`. */
export function parsePosition(value: string): string | undefined {
  const lower = value.toLowerCase();
  if (lower === 'original' || lower === 'center') return lower;
  const parts = lower.split(/[\s,]+/).filter(Boolean);
  if (parts.length < 1 || parts.length > 2) return undefined;
  const numbers = parts.map(percent);
  if (numbers.some((n) => n === undefined || n > 100)) return undefined;
  const [x, y = x] = numbers as number[];
  return `${x}%,${y}%`;
}

/**
 * Checks every parameter (remove.bg's error codes), in the order its documentation lists them.
 * Unknown fields are refused with `invalid_parameter` naming them.
 */
export function parseRemoveBgParams(fields: Map<string, FieldValue>): RemoveBgParams {
  const unknown = [...fields.keys()].filter((name) => !KNOWN_FIELDS.has(name));
  if (unknown.length > 0) throw fail('invalid_parameter', `unknown parameter(s): ${unknown.join(', ')}`);

  const file = fields.get('image_file');
  const b64 = text(fields, 'image_file_b64');
  const url = text(fields, 'image_url');
  const given = [
    file !== undefined && !(typeof file === 'string' && file.trim() === ''),
    b64 !== undefined,
    url !== undefined,
  ].filter(Boolean).length;
  if (given === 0) throw fail('missing_source', 'give the image as image_file, image_file_b64 or image_url');
  if (given > 1) throw fail('multiple_sources', 'give only one of image_file, image_file_b64 and image_url');
  let source: Source;
  if (file !== undefined && typeof file !== 'string') source = { kind: 'file', bytes: file.file };
  else if (file !== undefined) source = { kind: 'file', bytes: new TextEncoder().encode(file) };
  else if (b64 !== undefined) source = { kind: 'file', bytes: base64Bytes(b64, 'image_file_b64') };
  else source = { kind: 'url', url: url! };

  const sizeRequested = text(fields, 'size')?.toLowerCase() ?? 'preview';
  const size = SIZE_ALIASES[sizeRequested];
  if (!size) {
    throw fail(
      'invalid_size',
      `size must be one of ${Object.keys(SIZE_ALIASES).join(', ')}; got "${sizeRequested}"`,
    );
  }
  oneOf(text(fields, 'type'), TYPES, 'auto', 'type', 'invalid_type');
  oneOf(text(fields, 'type_level'), TYPE_LEVELS, 'latest', 'type_level', 'invalid_type_level');
  const format = oneOf(text(fields, 'format'), REMOVEBG_FORMATS, 'auto', 'format', 'invalid_format');

  const roiText = text(fields, 'roi');
  let roi: string | undefined;
  if (roiText !== undefined) {
    const parsed = parseRoi(roiText);
    if (typeof parsed === 'string') throw fail('invalid_roi', `roi: ${parsed}`);
    roi = formatRoi(parsed);
    if (roi === '0%,0%,100%,100%') roi = undefined;
  }

  const crop = bool(fields, 'crop', 'invalid_crop');
  const marginText = text(fields, 'crop_margin');
  let cropMargin: string | undefined;
  if (marginText !== undefined) {
    const margins = parseCropMargin(marginText);
    if (typeof margins === 'string') throw fail('invalid_crop_margin', `crop_margin: ${margins}`);
    const canonical = [margins.top, margins.right, margins.bottom, margins.left].join(',');
    // Only with crop=true does a margin change anything.
    if (crop && !/^(0(px|%),){3}0(px|%)$/.test(canonical)) cropMargin = canonical;
  }

  const scaleText = text(fields, 'scale')?.toLowerCase();
  let scale: number | undefined;
  if (scaleText !== undefined && scaleText !== 'original') {
    const value = percent(scaleText);
    if (value === undefined || value < 10 || value > 100)
      throw fail('invalid_scale', `scale must be "original" or 10% to 100%; got "${scaleText}"`);
    scale = value;
  }

  const positionText = text(fields, 'position');
  let position: string | undefined;
  if (positionText !== undefined) {
    position = parsePosition(positionText);
    if (position === undefined) {
      throw fail(
        'invalid_position',
        `position must be original, center, or one or two percentages 0% to 100%; got "${positionText}"`,
      );
    }
  }

  const channels = oneOf(
    text(fields, 'channels'),
    ['rgba', 'alpha'] as const,
    'rgba',
    'channels',
    'invalid_channels',
  );
  bool(fields, 'add_shadow', 'invalid_parameter');
  bool(fields, 'semitransparency', 'invalid_parameter');
  oneOf(text(fields, 'shadow_type'), SHADOW_TYPES, 'none', 'shadow_type', 'invalid_parameter');
  const opacity = text(fields, 'shadow_opacity');
  if (opacity !== undefined && !/^(\d{1,2}|100)$/.test(opacity))
    throw fail('invalid_parameter', `shadow_opacity must be 0 to 100; got "${opacity}"`);

  const colorText = text(fields, 'bg_color');
  const bgUrl = text(fields, 'bg_image_url');
  const bgFile = fields.get('bg_image_file');
  const bgCount = [
    colorText !== undefined,
    bgUrl !== undefined,
    bgFile !== undefined && typeof bgFile !== 'string',
  ].filter(Boolean).length;
  if (bgCount > 1)
    throw fail('multiple_bg_sources', 'give at most one of bg_color, bg_image_url and bg_image_file');
  let bgColor: string | undefined;
  if (colorText !== undefined) {
    bgColor = parseColor(colorText);
    if (!bgColor) {
      throw fail(
        'invalid_bg_color',
        `bg_color must be a hex colour (3, 4, 6 or 8 digits) or a colour name; got "${colorText}"`,
      );
    }
  }
  let bgImage: Source | undefined;
  if (bgUrl !== undefined) bgImage = { kind: 'url', url: bgUrl };
  else if (bgFile !== undefined && typeof bgFile !== 'string') bgImage = { kind: 'file', bytes: bgFile.file };

  return {
    source,
    size,
    sizeRequested,
    format,
    channels,
    bgColor,
    bgImage,
    crop,
    cropMargin,
    scale,
    position,
    roi,
  };
}

/** Credits as remove.bg counts them: 0.25 for the preview sizes, 1 for the others. */
export const creditsFor = (size: CanonicalSize): number => SIZES[size].credits;
