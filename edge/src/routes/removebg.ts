import {
  AppError,
  HEADERS,
  MAX_SIDE_MAX,
  MAX_SIDE_MIN,
  readImageSize,
  resultOptionsOf,
  sha256Hex,
  sniffImageType,
  ACCEPTED_TYPES_TEXT,
  type ResultOptions,
} from '@bgremove/shared';
import { createRoute, z, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  creditsRemaining,
  holdCredits,
  recordFreeRequest,
  releaseHold,
  settleHold,
  type ApiKeyRecord,
} from '../api-keys';
import type { AppEnv } from '../app-env';
import type { EdgeConfig } from '../config';
import { outcomeError } from '../backend-client';
import { coalescedRemoveBackground } from '../coalescer';
import { hotResultsFor } from '../hot-results';
import { readRemoveBgBody } from '../removebg/body';
import { fromAppError, RemoveBgError } from '../removebg/errors';
import { fetchImage } from '../removebg/fetch-image';
import { admit, authenticate } from '../removebg/keys';
import { creditsFor, parseRemoveBgParams, SIZES, TEXT_FIELDS, type RemoveBgParams } from '../removebg/params';
import {
  findResultForUpload,
  NO_DETAILS,
  resultTiers,
  storeResult,
  type ResultDetails,
} from '../result-store';
import { resolveModel, resultKeyFor } from '../validation';

/** remove.bg's output limits: PNG up to 10 MP, JPG and ZIP up to 25 MP. */
const PNG_MAX_MEGAPIXELS = 10;

interface CheckedImage {
  bytes: ArrayBuffer;
  mime: string;
  width: number;
  height: number;
}

/** Type from magic bytes, size from the header, never decoded (as for native uploads). */
export function checkImage(
  bytes: Uint8Array,
  limits: { maxBodyBytes: number; maxInputPixels: number },
  what: string,
): CheckedImage {
  if (bytes.byteLength === 0) throw new RemoveBgError('failed_to_read_image', `${what} is empty`);
  if (bytes.byteLength > limits.maxBodyBytes)
    throw new RemoveBgError('file_too_large', `${what} is over ${limits.maxBodyBytes} bytes`);
  const sniffed = sniffImageType(bytes);
  if (!sniffed.accepted)
    throw new RemoveBgError(
      'invalid_file_type',
      `${what} must be ${ACCEPTED_TYPES_TEXT}; it is ${sniffed.seen}`,
    );
  const size = readImageSize(bytes, sniffed.type);
  if (!size.ok)
    throw new RemoveBgError(
      'failed_to_read_image',
      `${what} is not a valid ${sniffed.type.toUpperCase()}: ${size.reason}`,
    );
  const pixels = size.width * size.height;
  if (pixels > limits.maxInputPixels) {
    throw new RemoveBgError(
      'resolution_too_high',
      `${what} is ${size.width}×${size.height} = ${pixels} pixels; the limit is ${limits.maxInputPixels}`,
    );
  }
  const buffer = bytes.slice().buffer;
  return { bytes: buffer, mime: sniffed.mime, width: size.width, height: size.height };
}

interface CheckedBackground extends CheckedImage {
  sha256: string;
}

/** bg_image_file or bg_image_url: checked like the image (magic bytes, header size), never decoded. */
async function backgroundImage(
  config: EdgeConfig,
  source: NonNullable<RemoveBgParams['bgImage']>,
): Promise<CheckedBackground> {
  const checked =
    source.kind === 'url'
      ? checkImage(
          await fetchImage(source.url, config.imageUrl, 'bg_image_url'),
          { maxBodyBytes: config.imageUrl.maxBytes, maxInputPixels: config.maxInputPixels },
          'the image at bg_image_url',
        )
      : checkImage(source.bytes, config, 'bg_image_file');
  return { ...checked, sha256: await sha256Hex(checked.bytes) };
}

/** The longer side that keeps width × height within `megapixels` (undefined: no downscale). */
export function maxSideFor(width: number, height: number, megapixels: number): number | undefined {
  const cap = megapixels * 1_000_000;
  if (width * height <= cap) return undefined;
  const side = Math.floor(Math.max(width, height) * Math.sqrt(cap / (width * height)));
  return Math.min(MAX_SIDE_MAX, Math.max(MAX_SIDE_MIN, side));
}

/** The backend's result options for remove.bg's parameters. */
export function backendOptions(
  params: RemoveBgParams,
  image: { width: number; height: number },
  background?: { sha256: string; mime: string },
): ResultOptions {
  if (params.format === 'zip' && params.channels === 'alpha') {
    throw new RemoveBgError(
      'invalid_channels',
      'channels=alpha cannot be combined with format=zip (the ZIP holds alpha.png already)',
    );
  }
  // auto: JPG when nothing is transparent (an opaque colour or a JPEG background), else PNG.
  const opaque =
    (params.bgColor !== undefined && params.bgColor.endsWith('ff')) || background?.mime === 'image/jpeg';
  const format =
    params.format === 'zip'
      ? 'zip'
      : params.format === 'jpg' || (params.format === 'auto' && opaque && params.channels === 'rgba')
        ? 'jpg'
        : 'png';
  const megapixels = Math.min(SIZES[params.size].megapixels, format === 'png' ? PNG_MAX_MEGAPIXELS : 25);
  // remove.bg: scaling implies position=center unless a position is given.
  const position = params.position ?? (params.scale !== undefined ? 'center' : undefined);
  return resultOptionsOf({
    output: params.channels === 'alpha' ? 'matte' : 'cutout',
    format,
    max_side: maxSideFor(image.width, image.height, megapixels),
    refine: 'none',
    subject: 'all',
    roi: params.roi,
    bg_color: params.channels === 'alpha' ? undefined : params.bgColor,
    bg_image: params.channels === 'alpha' ? undefined : background?.sha256,
    crop: params.crop ? 'true' : 'false',
    crop_margin: params.cropMargin,
    scale: params.scale,
    // original without scale is the default: left out, so both spell the same result key.
    position: position === 'original' && params.scale === undefined ? undefined : position,
  });
}

interface Produced {
  body: ArrayBuffer | ReadableStream | null;
  contentType: string;
  key: string;
  cache: 'HIT' | 'MISS' | 'COALESCED';
  details: ResultDetails;
}

function foregroundHeaders(details: ResultDetails): Record<string, string> {
  const box = /^(\d+),(\d+),(\d+),(\d+)$/.exec(details.foreground);
  if (!box) return {};
  return {
    'x-foreground-left': box[1]!,
    'x-foreground-top': box[2]!,
    'x-foreground-width': box[3]!,
    'x-foreground-height': box[4]!,
  };
}

const removeBgErrorSchema = z
  .object({ errors: z.array(z.object({ title: z.string(), code: z.string(), detail: z.string() })) })
  .meta({ id: 'RemoveBgErrors', description: "remove.bg's error shape; Cache-Control: no-store." });
const removeBgErrors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: 'remove.bg error', content: { 'application/json': { schema: removeBgErrorSchema } } },
    ]),
  );
const apiKey = [{ apiKey: [] }];
const formFields = {
  type: 'object' as const,
  properties: Object.fromEntries(TEXT_FIELDS.map((name) => [name, { type: 'string' as const }])),
};
const binary = { type: 'string' as const, format: 'binary' };

export const removeBgRoute = createRoute({
  method: 'post',
  path: '/v1.0/removebg',
  summary: 'remove.bg-compatible background removal (X-Api-Key); see README "remove.bg-compatible API".',
  security: apiKey,
  request: {
    // Documentation only (plain JSON Schemas: no validator buffers the body before its size cap).
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            ...formFields,
            properties: { ...formFields.properties, image_file: binary, bg_image_file: binary },
          },
        },
        'application/x-www-form-urlencoded': { schema: formFields },
        'application/json': { schema: formFields },
      },
    },
  },
  responses: {
    200: {
      description:
        'The image (PNG or JPEG; format=zip: a ZIP of color.jpg and alpha.png), or with Accept: application/json { data: { result_b64, foreground_top, foreground_left, foreground_width, foreground_height } }.',
      content: {
        'image/png': { schema: binary },
        'image/jpeg': { schema: binary },
        'application/zip': { schema: binary },
        'application/json': { schema: z.looseObject({}) },
      },
    },
    ...removeBgErrors(400, 402, 403, 429, 500, 503, 504),
  },
});

export const accountRoute = createRoute({
  method: 'get',
  path: '/v1.0/account',
  summary: "The API key's credits in remove.bg's shape.",
  security: apiKey,
  responses: {
    200: { description: 'Credits.', content: { 'application/json': { schema: z.looseObject({}) } } },
    ...removeBgErrors(403),
  },
});

/**
 * POST /v1.0/removebg: remove.bg's API on this edge. Key (403), rate limit (429), parameters
 * (400 with remove.bg's codes), the image checked without decoding, then the result from the
 * cache (0 credits) or the backend (credits held first, charged once on success, released on
 * any error), answered as remove.bg answers: the image, or JSON with Accept: application/json.
 */
export const removeBg: RouteHandler<typeof removeBgRoute, AppEnv> = async (c) => {
  try {
    return await removeBgUnchecked(c);
  } catch (error) {
    throw error instanceof AppError ? fromAppError(error) : error;
  }
};

async function removeBgUnchecked(c: Context<AppEnv>): Promise<Response> {
  const config = c.get('config');
  const key = await authenticate(c);
  const limitHeaders = await admit(c, key);
  try {
    const params = parseRemoveBgParams(await readRemoveBgBody(c, config.maxBodyBytes));
    const image =
      params.source.kind === 'url'
        ? checkImage(
            await fetchImage(params.source.url, config.imageUrl, 'image_url'),
            { maxBodyBytes: config.imageUrl.maxBytes, maxInputPixels: config.maxInputPixels },
            'the image at image_url',
          )
        : checkImage(params.source.bytes, config, 'the image');
    const background = params.bgImage ? await backgroundImage(config, params.bgImage) : undefined;
    const model = resolveModel(config, undefined);
    const options = backendOptions(params, image, background);
    const sourceSha256 = await sha256Hex(image.bytes);
    const resultKey = await resultKeyFor(model, options, sourceSha256);
    const produced = await produce(c, key, params, image, {
      model,
      options,
      sourceSha256,
      resultKey,
      background,
    });
    return await answer(c, produced, limitHeaders);
  } catch (error) {
    const converted = error instanceof AppError ? fromAppError(error) : error;
    if (converted instanceof RemoveBgError) {
      throw new RemoveBgError(converted.code, converted.message, {
        title: converted.title,
        headers: { ...limitHeaders, ...converted.headers },
      });
    }
    throw converted;
  }
}

async function produce(
  c: Context<AppEnv>,
  key: ApiKeyRecord,
  params: RemoveBgParams,
  image: CheckedImage,
  job: {
    model: { id: string; sha256: string };
    options: ResultOptions;
    sourceSha256: string;
    resultKey: string;
    background: CheckedBackground | undefined;
  },
): Promise<Produced & { credits: number }> {
  const config = c.get('config');
  const tiers = resultTiers(c.env.RESULTS, c.req.url, hotResultsFor(config.hotCacheBytes));
  const waitUntil = (promise: Promise<unknown>) =>
    c.executionCtx.waitUntil(
      promise.catch((error: unknown) =>
        console.error(JSON.stringify({ event: 'store_failed', error: String(error) })),
      ),
    );
  const stored = await findResultForUpload(tiers, job.resultKey, waitUntil);
  if (stored) {
    // A result already in the cache costs nothing.
    await recordFreeRequest(c.env.DB, key);
    return {
      body: stored.body,
      contentType: stored.contentType,
      key: job.resultKey,
      cache: 'HIT',
      details: stored.details ?? NO_DETAILS,
      credits: 0,
    };
  }
  const credits = creditsFor(params.size);
  const hold = await holdCredits(c.env.DB, key, credits);
  if (!hold.ok) {
    throw new RemoveBgError(
      'insufficient_credits',
      `this request needs ${credits} credit(s); ${hold.remaining} left this month`,
    );
  }
  let settled = false;
  try {
    const outcome = await coalescedRemoveBackground(c.env, job.resultKey, {
      bytes: image.bytes,
      mime: image.mime,
      sourceSha256: job.sourceSha256,
      model: job.model.id,
      modelSha256: job.model.sha256,
      options: job.options,
      requestId: c.get('requestId'),
      // Only when the options name it (channels=alpha has no background).
      background:
        job.background && job.options.bg_image !== undefined
          ? { bytes: job.background.bytes, mime: job.background.mime }
          : undefined,
    });
    if (!outcome.ok) {
      throw outcomeError(outcome);
    }
    const details: ResultDetails = {
      width: outcome.width,
      height: outcome.height,
      foreground: outcome.foreground,
      subjectConfidence: outcome.subjectConfidence,
    };
    if (details.foreground === 'none') {
      throw new RemoveBgError('unknown_foreground', 'no foreground was found in the image');
    }
    // A concurrent identical request did the work: this one is a repeat and costs nothing.
    const charged = outcome.role === 'MISS' ? credits : 0;
    await settleHold(c.env.DB, hold.id, charged, { cached: charged === 0 });
    settled = true;
    if (outcome.role === 'MISS') {
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(job.options)) {
        if (name !== 'model') metadata[name] = String(value);
      }
      waitUntil(
        storeResult(tiers, job.resultKey, outcome.body, outcome.contentType, {
          ...metadata,
          model: job.model.id,
          model_sha256: job.model.sha256,
          source_sha256: job.sourceSha256,
          width: outcome.width,
          height: outcome.height,
          foreground: outcome.foreground,
          subject_confidence: outcome.subjectConfidence,
          created: new Date().toISOString(),
        }),
      );
    }
    return {
      body: outcome.body,
      contentType: outcome.contentType,
      key: job.resultKey,
      cache: outcome.role,
      details,
      credits: charged,
    };
  } finally {
    if (!settled) await releaseHold(c.env.DB, hold.id);
  }
}

function formatCredits(credits: number): string {
  return String(credits);
}

async function answer(
  c: Context<AppEnv>,
  produced: Produced & { credits: number },
  limitHeaders: Record<string, string>,
): Promise<Response> {
  const headers = new Headers({
    ...limitHeaders,
    'cache-control': 'no-store',
    'x-credits-charged': formatCredits(produced.credits),
    // remove.bg's foreground classifier has no counterpart here.
    'x-type': 'other',
    [HEADERS.cache]: produced.cache,
    [HEADERS.resultKey]: produced.key,
    ...foregroundHeaders(produced.details),
  });
  if (produced.details.width) headers.set('x-width', produced.details.width);
  if (produced.details.height) headers.set('x-height', produced.details.height);
  const wantsJson = (c.req.header('accept') ?? '').toLowerCase().includes('application/json');
  if (!wantsJson) {
    headers.set('content-type', produced.contentType);
    return new Response(produced.body, { headers });
  }
  const bytes = new Uint8Array(await new Response(produced.body).arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const box = foregroundHeaders(produced.details);
  const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  headers.set('content-type', 'application/json');
  return new Response(
    JSON.stringify({
      data: {
        result_b64: btoa(binary),
        foreground_top: num(box['x-foreground-top']),
        foreground_left: num(box['x-foreground-left']),
        foreground_width: num(box['x-foreground-width']),
        foreground_height: num(box['x-foreground-height']),
      },
    }),
    { headers },
  );
}

/**
 * GET /v1.0/account: the key's credits in remove.bg's shape. Everything is one monthly
 * allowance here, shown as `subscription`; there are no pay-as-you-go or free calls.
 */
export const account: RouteHandler<typeof accountRoute, AppEnv> = async (c) => {
  try {
    const key = await authenticate(c);
    const remaining = await creditsRemaining(c.env.DB, key);
    return c.json(
      {
        data: {
          attributes: {
            credits: { total: remaining, subscription: remaining, payg: 0, enterprise: 0 },
            api: { free_calls: 0, sizes: 'all' },
          },
        },
      },
      200,
      { 'cache-control': 'no-store' },
    );
  } catch (error) {
    throw error instanceof AppError ? fromAppError(error) : error;
  }
};
