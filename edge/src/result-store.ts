import { AppError, HEADERS } from '@bgremove/shared';
import type { HotResults, ResultDetails } from './hot-results';

export type { ResultDetails };

/** Results never change for a key, so every cache may keep them for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * R2 custom metadata of results/<key> (docs/STORAGE.md): the model, every result option of the
 * key (output, format, max_side, refine, subject, roi, ...), the source hash and the result's size.
 */
export interface ResultMetadata {
  [option: string]: string;
  model: string;
  model_sha256: string;
  source_sha256: string;
  width: string;
  height: string;
  created: string;
}

export interface StoredResult {
  body: ReadableStream | ArrayBuffer | null;
  size: number;
  contentType: string;
  sourceSha256: string;
  /** What the backend said about the result, kept by every tier ('' when unknown). */
  details?: ResultDetails;
}

const DETAIL_HEADERS = {
  width: HEADERS.imageWidth,
  height: HEADERS.imageHeight,
  foreground: HEADERS.foregroundBox,
  subjectConfidence: HEADERS.subjectConfidence,
} as const;

/** Empty details: nothing known (a result stored before they were kept). */
export const NO_DETAILS: ResultDetails = { width: '', height: '', foreground: '', subjectConfidence: '' };

function detailsFromHeaders(headers: Headers): ResultDetails {
  return {
    width: headers.get(DETAIL_HEADERS.width) ?? '',
    height: headers.get(DETAIL_HEADERS.height) ?? '',
    foreground: headers.get(DETAIL_HEADERS.foreground) ?? '',
    subjectConfidence: headers.get(DETAIL_HEADERS.subjectConfidence) ?? '',
  };
}

function detailsFromMetadata(metadata: Record<string, string> | undefined): ResultDetails {
  return {
    width: metadata?.width ?? '',
    height: metadata?.height ?? '',
    foreground: metadata?.foreground ?? '',
    subjectConfidence: metadata?.subject_confidence ?? '',
  };
}

/** Where results live for one request: R2, this colo's cache under the Worker's origin, and memory. */
export interface ResultTiers {
  bucket: R2Bucket;
  origin: string;
  hot: HotResults | undefined;
}

export const r2Key = (key: string) => `results/${key}`;
export const resultPath = (key: string) => `/v1/results/${key}`;

/** The Cache API key: the public result URL on this Worker's own origin. */
const cacheUrl = (origin: string, key: string) => `${origin}${resultPath(key)}`;

/** The three tiers a result is read from and written to, for a request to this Worker's origin. */
export function resultTiers(bucket: R2Bucket, requestUrl: string, hot: HotResults | undefined): ResultTiers {
  return { bucket, origin: new URL(requestUrl).origin, hot };
}

/**
 * The headers of every successful result response (GET, HEAD, 304 and the upload's answer),
 * with the subject's signals (X-Foreground-Box, X-Subject-Confidence) where they are known.
 */
export function resultHeaders(
  key: string,
  result: Pick<StoredResult, 'contentType' | 'sourceSha256' | 'details'>,
): Headers {
  const headers = new Headers({
    'content-type': result.contentType,
    etag: `"${key}"`,
    [HEADERS.resultKey]: key,
    'content-location': resultPath(key),
    [HEADERS.sourceSha256]: result.sourceSha256,
  });
  if (result.details?.foreground) headers.set(HEADERS.foregroundBox, result.details.foreground);
  if (result.details?.subjectConfidence) {
    headers.set(HEADERS.subjectConfidence, result.details.subjectConfidence);
  }
  return headers;
}

/** One tier failing is logged and answered by the others (see docs/RELIABILITY.md, faults). */
function logTierFailure(tier: 'cache' | 'r2', operation: string, key: string, error: unknown): void {
  console.error(JSON.stringify({ event: 'storage_failed', tier, operation, key, error: String(error) }));
}

/** R2 itself failed (not "no such object"): 503 storage_unavailable; an upload treats it as a miss. */
export class StorageUnavailable extends AppError {
  constructor(cause: unknown) {
    super('storage_unavailable', 'The result store is unavailable; try again shortly.', {
      retryAfterSeconds: 5,
      cause,
    });
  }
}

/**
 * Looks a result up in memory, then the Cache API (this colo), then R2 (durable). A Cache API or R2
 * hit is copied into the faster tiers in the background. `bodyless` (HEAD, 304, lookups) avoids
 * reading object bodies. The Cache API failing counts as a cache miss; R2 failing throws
 * StorageUnavailable.
 */
export async function findResult(
  tiers: ResultTiers,
  key: string,
  options: { bodyless: boolean; waitUntil: (promise: Promise<unknown>) => void },
): Promise<StoredResult | undefined> {
  const hot = tiers.hot?.get(key);
  if (hot) return { ...hot, body: options.bodyless ? null : hot.body, size: hot.body.byteLength };
  const fromCache = await findInCache(tiers, key, options.bodyless).catch((error: unknown) => {
    logTierFailure('cache', 'match', key, error);
    return undefined;
  });
  if (fromCache) return fromCache;
  let object: R2Object | R2ObjectBody | null;
  try {
    object = options.bodyless ? await tiers.bucket.head(r2Key(key)) : await tiers.bucket.get(r2Key(key));
  } catch (error) {
    logTierFailure('r2', options.bodyless ? 'head' : 'get', key, error);
    throw new StorageUnavailable(error);
  }
  if (!object) return undefined;
  const contentType = object.httpMetadata?.contentType ?? 'application/octet-stream';
  const sourceSha256 = object.customMetadata?.source_sha256 ?? '';
  const details = detailsFromMetadata(object.customMetadata);
  if (!('body' in object)) return { body: null, size: object.size, contentType, sourceSha256, details };
  const [forClient, forCache] = (object as R2ObjectBody).body.tee();
  options.waitUntil(
    putInCache(tiers.origin, key, { body: forCache, size: object.size, contentType, sourceSha256, details }),
  );
  return { body: forClient, size: object.size, contentType, sourceSha256, details };
}

/** For an upload: R2 failing is no reason to refuse it, the backend can compute the result again. */
export async function findResultForUpload(
  tiers: ResultTiers,
  key: string,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<StoredResult | undefined> {
  try {
    return await findResult(tiers, key, { bodyless: false, waitUntil });
  } catch (error) {
    if (error instanceof StorageUnavailable) return undefined;
    throw error;
  }
}

async function findInCache(
  tiers: ResultTiers,
  key: string,
  bodyless: boolean,
): Promise<StoredResult | undefined> {
  const cached = await caches.default.match(cacheUrl(tiers.origin, key));
  if (!cached) return undefined;
  const found = {
    size: Number(cached.headers.get('content-length') ?? 0),
    contentType: cached.headers.get('content-type') ?? 'application/octet-stream',
    sourceSha256: cached.headers.get(HEADERS.sourceSha256) ?? '',
    details: detailsFromHeaders(cached.headers),
  };
  if (bodyless) {
    await cached.body?.cancel();
    return { ...found, body: null };
  }
  if (tiers.hot && found.size <= tiers.hot.maxItemBytes) {
    const body = await cached.arrayBuffer();
    tiers.hot.set(key, { ...found, body });
    return { ...found, body };
  }
  return { ...found, body: cached.body };
}

/** Copies a result into this colo's cache; a failure is logged (the result stays in R2). */
async function putInCache(origin: string, key: string, result: StoredResult): Promise<void> {
  const headers = resultHeaders(key, result);
  headers.set('cache-control', IMMUTABLE);
  headers.set('content-length', String(result.size));
  for (const [name, header] of Object.entries(DETAIL_HEADERS)) {
    const value = result.details?.[name as keyof ResultDetails];
    if (value) headers.set(header, value);
  }
  try {
    await caches.default.put(cacheUrl(origin, key), new Response(result.body, { headers }));
  } catch (error) {
    logTierFailure('cache', 'put', key, error);
    if (result.body instanceof ReadableStream) await result.body.cancel().catch(() => undefined);
  }
}

/**
 * Stores a fresh result: R2 (durable, with metadata), this colo's cache and memory. Each tier is
 * written whatever the others do: the result is correct, so a failed R2 write still leaves it in
 * the faster tiers (logged; the next upload of it elsewhere recomputes and stores it again).
 */
export async function storeResult(
  tiers: ResultTiers,
  key: string,
  body: ArrayBuffer,
  contentType: string,
  metadata: ResultMetadata,
): Promise<void> {
  try {
    await tiers.bucket.put(r2Key(key), body, {
      httpMetadata: { contentType, cacheControl: IMMUTABLE },
      customMetadata: { ...metadata },
    });
  } catch (error) {
    logTierFailure('r2', 'put', key, error);
  }
  const details = detailsFromMetadata(metadata);
  await putInCache(tiers.origin, key, {
    body,
    size: body.byteLength,
    contentType,
    sourceSha256: metadata.source_sha256,
    details,
  });
  tiers.hot?.set(key, { body, contentType, sourceSha256: metadata.source_sha256, details });
}
