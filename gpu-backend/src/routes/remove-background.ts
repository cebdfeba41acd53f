import { createHash } from 'node:crypto';
import {
  AppError,
  HEADERS,
  describeZodError,
  removeBackgroundQuerySchema,
  serverTiming,
} from '@bgremove/shared';
import { Hono, type HonoRequest } from 'hono';
import type { AppDeps, AppEnv } from '../http/context';
import { ClientClosedError } from '../http/errors';
import { removeBackground, type RemoveBackgroundResult } from '../pipeline/remove-background';

/**
 * Why a request stopped early: its deadline passed, or its client went away (then the answer goes
 * nowhere, but the queued work is dropped instead of spending the model on it).
 */
function abortError(deadline: AbortSignal, timeoutMs: number, cause?: unknown): Error {
  return deadline.aborted
    ? new AppError('backend_timeout', `the image was not processed within ${timeoutMs} ms`, { cause })
    : new ClientClosedError({ cause });
}

/** Settles with `work`, or rejects when the deadline passes or the client leaves first. */
function untilAborted<T>(
  work: Promise<T>,
  signals: { deadline: AbortSignal; any: AbortSignal },
  timeoutMs: number,
) {
  const { deadline, any } = signals;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(deadline, timeoutMs));
    if (any.aborted) return onAbort();
    any.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, (error: unknown) => {
      const ours = error instanceof AppError || error instanceof ClientClosedError;
      reject(any.aborted && !ours ? abortError(deadline, timeoutMs, error) : error);
    });
    work.finally(() => any.removeEventListener('abort', onAbort)).catch(() => {});
  });
}

/** X-Time-Left-Ms: a whole number of milliseconds the caller will wait; absent means no limit. */
function parseTimeLeft(value: string | undefined): number {
  if (value === undefined) return Infinity;
  const ms = Number(value);
  if (!/^\d{1,10}$/.test(value.trim()) || !Number.isSafeInteger(ms)) {
    throw new AppError('invalid_request', `${HEADERS.timeLeft} must be a whole number of milliseconds`);
  }
  return ms;
}

function stageTiming(result: RemoveBackgroundResult, totalMs: number): string {
  const t = result.timings;
  return serverTiming({
    decode: t.decode,
    preprocess: t.preprocess,
    inference: t.inference,
    postprocess: t.postprocess,
    refine: t.refine,
    encode: t.encode,
    total: totalMs,
  });
}

/**
 * The photo as the raw body; with `bg_image` (its SHA-256) a multipart/form-data body instead,
 * with exactly the parts `image` and `bg_image`, the background's hash checked against the query
 * (it is part of the result key).
 */
/**
 * The request's body through hono's request (which caches it): the signature check has already
 * read it, so the raw Request's body is used up.
 */
async function readImages(
  request: Pick<HonoRequest, 'header' | 'arrayBuffer' | 'formData'>,
  bgImageSha256: string | undefined,
): Promise<{ body: Buffer; background: Buffer | undefined }> {
  const contentType = (request.header('content-type') ?? '').toLowerCase();
  if (!contentType.startsWith('multipart/')) {
    if (bgImageSha256 !== undefined) {
      throw new AppError(
        'invalid_request',
        'bg_image: send multipart/form-data with the parts image and bg_image',
      );
    }
    const body = Buffer.from(await request.arrayBuffer());
    if (body.length === 0)
      throw new AppError('invalid_request', 'the request body is empty; send the image bytes');
    return { body, background: undefined };
  }
  if (!contentType.startsWith('multipart/form-data') || bgImageSha256 === undefined) {
    throw new AppError(
      'invalid_request',
      'send the image bytes as the raw request body (multipart only with bg_image)',
    );
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch (cause) {
    throw new AppError('invalid_request', 'the multipart/form-data body is malformed', { cause });
  }
  const parts = new Map<string, Buffer>();
  for (const [name, value] of form.entries()) {
    if (name !== 'image' && name !== 'bg_image')
      throw new AppError('invalid_request', `unknown multipart part "${name}"; only image and bg_image`);
    if (typeof value === 'string' || parts.has(name))
      throw new AppError('invalid_request', `multipart part "${name}" must be one file`);
    parts.set(name, Buffer.from(await value.arrayBuffer()));
  }
  const body = parts.get('image');
  const background = parts.get('bg_image');
  if (!body?.length) throw new AppError('invalid_request', 'multipart part "image" is missing or empty');
  if (!background?.length)
    throw new AppError('invalid_request', 'multipart part "bg_image" is missing or empty');
  if (createHash('sha256').update(background).digest('hex') !== bgImageSha256)
    throw new AppError('invalid_request', 'bg_image: the part does not have the SHA-256 the query names');
  return { body, background };
}

export function removeBackgroundRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, engine, admission, metrics } = deps;
  const app = new Hono<AppEnv>();

  app.post('/v1/remove-background', async (c) => {
    const started = performance.now();
    const parsed = removeBackgroundQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('invalid_request', describeZodError(parsed.error));
    const { body, background } = await readImages(c.req, parsed.data.bg_image);

    // The caller's deadline, counted from when its request arrived: work that could not finish
    // by then is refused (503 overloaded, Retry-After) instead of done for nobody.
    const timeLeftMs = Math.min(config.REQUEST_TIMEOUT_MS, parseTimeLeft(c.req.header(HEADERS.timeLeft)));
    const deadline = AbortSignal.timeout(config.REQUEST_TIMEOUT_MS);
    const any = AbortSignal.any([deadline, c.req.raw.signal]);
    const settings = {
      maxPixels: config.MAX_INPUT_PIXELS,
      pngCompressionLevel: config.PNG_COMPRESSION_LEVEL,
    };
    const enqueued = performance.now();
    let queueMs = 0;
    const result = await untilAborted(
      admission.run(
        () => {
          queueMs = performance.now() - enqueued;
          return removeBackground(body, parsed.data, engine, settings, background);
        },
        { signal: c.req.raw.signal, deadline: started + timeLeftMs },
      ),
      { deadline, any },
      config.REQUEST_TIMEOUT_MS,
    );
    const totalMs = performance.now() - started;
    const stages = { queue: queueMs, ...result.timings };
    for (const [stage, ms] of Object.entries(stages)) {
      metrics.stageDuration.observe({ stage, model: result.model.id }, ms / 1000);
    }
    return c.body(new Uint8Array(result.bytes), 200, {
      'content-type': result.contentType,
      'cache-control': 'no-store',
      [HEADERS.model]: result.model.id,
      [HEADERS.modelSha256]: result.model.sha256 ?? '',
      [HEADERS.imageWidth]: String(result.width),
      [HEADERS.imageHeight]: String(result.height),
      [HEADERS.foregroundBox]: result.foreground,
      [HEADERS.serverTiming]: stageTiming(result, totalMs),
      [HEADERS.subjectConfidence]: result.subjectConfidence.toFixed(3),
    });
  });

  return app;
}
