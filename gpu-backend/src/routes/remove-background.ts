import {
  AppError,
  HEADERS,
  describeZodError,
  removeBackgroundQuerySchema,
  serverTiming,
} from '@bgremove/shared';
import { Hono } from 'hono';
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
    encode: t.encode,
    total: totalMs,
  });
}

export function removeBackgroundRoutes(deps: AppDeps): Hono<AppEnv> {
  const { config, engine, admission, metrics } = deps;
  const app = new Hono<AppEnv>();

  app.post('/v1/remove-background', async (c) => {
    const started = performance.now();
    const parsed = removeBackgroundQuerySchema.safeParse(c.req.query());
    if (!parsed.success) throw new AppError('invalid_request', describeZodError(parsed.error));
    const contentType = c.req.header('content-type') ?? '';
    if (contentType.startsWith('multipart/')) {
      throw new AppError('invalid_request', 'send the image bytes as the raw request body, not multipart');
    }
    const body = Buffer.from(await c.req.arrayBuffer());
    if (body.length === 0)
      throw new AppError('invalid_request', 'the request body is empty; send the image bytes');

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
          return removeBackground(body, parsed.data, engine, settings);
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
    });
  });

  return app;
}
