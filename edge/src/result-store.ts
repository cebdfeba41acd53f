import { HEADERS } from '@bgremove/shared';

/** Results never change for a key, so every cache may keep them for a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** R2 custom metadata of results/<key> (docs/STORAGE.md). */
export interface ResultMetadata {
  model: string;
  model_sha256: string;
  output: string;
  format: string;
  max_side: string;
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
}

export const r2Key = (key: string) => `results/${key}`;
export const resultPath = (key: string) => `/v1/results/${key}`;

/** The Cache API key: the public result URL on this Worker's own origin. */
const cacheUrl = (origin: string, key: string) => `${origin}${resultPath(key)}`;

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
 * Looks a result up in the Cache API (this colo), then in R2 (durable). An R2 hit is copied into
 * the cache in the background. `bodyless` (HEAD, lookups) avoids reading object bodies.
 */
export async function findResult(
  bucket: R2Bucket,
  origin: string,
  key: string,
  options: { bodyless: boolean; waitUntil: (promise: Promise<unknown>) => void },
): Promise<StoredResult | undefined> {
  const cached = await caches.default.match(cacheUrl(origin, key));
  if (cached) {
    if (options.bodyless) await cached.body?.cancel();
    return {
      body: options.bodyless ? null : cached.body,
      size: Number(cached.headers.get('content-length') ?? 0),
      contentType: cached.headers.get('content-type') ?? 'application/octet-stream',
      sourceSha256: cached.headers.get(HEADERS.sourceSha256) ?? '',
    };
  }
  const object = options.bodyless ? await bucket.head(r2Key(key)) : await bucket.get(r2Key(key));
  if (!object) return undefined;
  const contentType = object.httpMetadata?.contentType ?? 'application/octet-stream';
  const sourceSha256 = object.customMetadata?.source_sha256 ?? '';
  if (!('body' in object)) return { body: null, size: object.size, contentType, sourceSha256 };
  const [forClient, forCache] = (object as R2ObjectBody).body.tee();
  options.waitUntil(
    putInCache(origin, key, { body: forCache, size: object.size, contentType, sourceSha256 }),
  );
  return { body: forClient, size: object.size, contentType, sourceSha256 };
}

async function putInCache(origin: string, key: string, result: StoredResult): Promise<void> {
  const headers = resultHeaders(key, result);
  headers.set('cache-control', IMMUTABLE);
  headers.set('content-length', String(result.size));
  await caches.default.put(cacheUrl(origin, key), new Response(result.body, { headers }));
}

/** Stores a fresh result: R2 first (durable, with metadata), then this colo's cache. */
export async function storeResult(
  bucket: R2Bucket,
  origin: string,
  key: string,
  body: ArrayBuffer,
  contentType: string,
  metadata: ResultMetadata,
): Promise<void> {
  await bucket.put(r2Key(key), body, {
    httpMetadata: { contentType, cacheControl: IMMUTABLE },
    customMetadata: { ...metadata },
  });
  await putInCache(origin, key, {
    body,
    size: body.byteLength,
    contentType,
    sourceSha256: metadata.source_sha256,
  });
}
