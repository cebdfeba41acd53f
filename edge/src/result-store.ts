import { HEADERS } from '@bgremove/shared';
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
} as const;

function detailsFromHeaders(headers: Headers): ResultDetails {
  return {
    width: headers.get(DETAIL_HEADERS.width) ?? '',
    height: headers.get(DETAIL_HEADERS.height) ?? '',
    foreground: headers.get(DETAIL_HEADERS.foreground) ?? '',
  };
}

function detailsFromMetadata(metadata: Record<string, string> | undefined): ResultDetails {
  return {
    width: metadata?.width ?? '',
    height: metadata?.height ?? '',
    foreground: metadata?.foreground ?? '',
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

/** The headers of every successful result response (GET, HEAD, 304 and the upload's answer). */
export function resultHeaders(
  key: string,
  result: Pick<StoredResult, 'contentType' | 'sourceSha256'>,
): Headers {
  return new Headers({
    'content-type': result.contentType,
    etag: `"${key}"`,
    [HEADERS.resultKey]: key,
    'content-location': resultPath(key),
    [HEADERS.sourceSha256]: result.sourceSha256,
  });
}

/**
 * Looks a result up in memory, then the Cache API (this colo), then R2 (durable). A Cache API or R2
 * hit is copied into the faster tiers in the background. `bodyless` (HEAD, 304, lookups) avoids
 * reading object bodies.
 */
export async function findResult(
  tiers: ResultTiers,
  key: string,
  options: { bodyless: boolean; waitUntil: (promise: Promise<unknown>) => void },
): Promise<StoredResult | undefined> {
  const hot = tiers.hot?.get(key);
  if (hot) return { ...hot, body: options.bodyless ? null : hot.body, size: hot.body.byteLength };
  const cached = await caches.default.match(cacheUrl(tiers.origin, key));
  if (cached) {
    const found = {
      size: Number(cached.headers.get('content-length') ?? 0),
      contentType: cached.headers.get('content-type') ?? 'application/octet-stream',
      sourceSha256: cached.headers.get(HEADERS.sourceSha256) ?? '',
      details: detailsFromHeaders(cached.headers),
    };
    if (options.bodyless) {
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
  const object = options.bodyless ? await tiers.bucket.head(r2Key(key)) : await tiers.bucket.get(r2Key(key));
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

async function putInCache(origin: string, key: string, result: StoredResult): Promise<void> {
  const headers = resultHeaders(key, result);
  headers.set('cache-control', IMMUTABLE);
  headers.set('content-length', String(result.size));
  for (const [name, header] of Object.entries(DETAIL_HEADERS)) {
    const value = result.details?.[name as keyof ResultDetails];
    if (value) headers.set(header, value);
  }
  await caches.default.put(cacheUrl(origin, key), new Response(result.body, { headers }));
}

/** Stores a fresh result: R2 first (durable, with metadata), then this colo's cache and memory. */
export async function storeResult(
  tiers: ResultTiers,
  key: string,
  body: ArrayBuffer,
  contentType: string,
  metadata: ResultMetadata,
): Promise<void> {
  await tiers.bucket.put(r2Key(key), body, {
    httpMetadata: { contentType, cacheControl: IMMUTABLE },
    customMetadata: { ...metadata },
  });
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
