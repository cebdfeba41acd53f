import {
  AppError,
  ERRORS,
  HEADERS,
  OUTPUT_CONTENT_TYPES,
  isErrorCode,
  problemExtensionsFrom,
  parseServerTiming,
  readImageSize,
  resultOptionsQuery,
  sha256Hex,
  sniffImageType,
  type ErrorCode,
  type ProblemExtensions,
  type ResultOptions,
} from '@bgremove/shared';
import type { EdgeConfig } from './config';
import { backendFetch, isTimeout } from './backend-fetch';

/** What the backend is asked to do; the query always names the model. */
export interface BackendJob {
  bytes: ArrayBuffer;
  mime: string;
  sourceSha256: string;
  model: string;
  modelSha256: string;
  /** Every result option, defaults applied (the same ones that made the result key). */
  options: ResultOptions;
  requestId: string;
  /** The background image (options.bg_image is its SHA-256): then the body is multipart, image + bg_image. */
  background?: { bytes: ArrayBuffer; mime: string } | undefined;
}

/** Plain data (it crosses the Durable Object RPC boundary), so failures are values, not throws. */
export type BackendOutcome =
  | {
      ok: true;
      body: ArrayBuffer;
      contentType: string;
      width: string;
      height: string;
      /** X-Foreground-Box: `left,top,width,height` of the subject in the result, `none`, or '' when not sent. */
      foreground: string;
      /** X-Subject-Confidence: `0.000`..`1.000`, or '' when not sent. */
      subjectConfidence: string;
      backendMs: number;
      inferenceMs: number | undefined;
    }
  | {
      ok: false;
      code: ErrorCode;
      detail: string;
      retryAfterSeconds: number | undefined;
      /** A passed-through backend problem's extension members (limit_pixels, seen, …). */
      extensions?: ProblemExtensions;
    };

/** Every result option goes to the backend explicitly, so both sides agree whatever the defaults. */
export function backendPathAndQuery(job: Pick<BackendJob, 'model' | 'options'>): string {
  const query = resultOptionsQuery({ ...job.options, model: job.model });
  return `/v1/remove-background?${query.toString()}`;
}

const fail = (
  code: ErrorCode,
  detail: string,
  retryAfterSeconds?: number,
  extensions?: ProblemExtensions,
): BackendOutcome => ({ ok: false, code, detail, retryAfterSeconds, extensions });

/** A failure worth retrying: the backend is starting, restarting or momentarily full. */
interface Retryable {
  retry: true;
  code: 'backend_unavailable' | 'overloaded';
  retryAfterSeconds: number | undefined;
  cause: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the job on the backend. Connection failures and 503/429 are retried with jittered
 * exponential backoff until BACKEND_RETRY_BUDGET_MS is spent, then answered 503 with Retry-After.
 * A timeout is not retried (the GPU may still be working on it): 504.
 */
export async function removeBackgroundOnBackend(
  config: EdgeConfig,
  job: BackendJob,
): Promise<BackendOutcome> {
  const deadline = Date.now() + config.retryBudgetMs;
  const body = await backendBody(job);
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(config, job, body);
    if (!('retry' in outcome)) return outcome;
    const delay = Math.min(5_000, config.retryBaseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    if (Date.now() + delay > deadline) {
      console.warn(
        JSON.stringify({
          event: 'backend_gave_up',
          requestId: job.requestId,
          attempts: attempt + 1,
          cause: outcome.cause,
        }),
      );
      const detail =
        outcome.code === 'overloaded'
          ? 'The inference backend is busy; try again shortly.'
          : 'The inference backend is starting or unavailable; try again shortly.';
      return fail(outcome.code, detail, outcome.retryAfterSeconds ?? 5);
    }
    await sleep(delay);
  }
}

/**
 * The time left the edge announces to the backend for one attempt: its own timeout less a margin
 * for the answer's way back (5%, at most 2 s). The backend starts nothing it expects to finish
 * later than that, and refuses it with 503 overloaded instead, which the edge can retry or pass
 * on with Retry-After: so a busy backend is answered as busy, never as a 504 after the wait.
 */
export function announcedTimeLeftMs(timeoutMs: number): number {
  return Math.max(0, timeoutMs - Math.min(2_000, Math.round(timeoutMs * 0.05)));
}

interface BackendBody {
  bytes: ArrayBuffer;
  sha256: string;
  contentType: string;
}

/**
 * The image as the raw body; with a background, both as multipart/form-data (parts `image` and
 * `bg_image`), built once for all attempts.
 */
export async function backendBody(job: BackendJob): Promise<BackendBody> {
  if (!job.background) return { bytes: job.bytes, sha256: job.sourceSha256, contentType: job.mime };
  const form = new FormData();
  form.append('image', new File([job.bytes], 'image', { type: job.mime }));
  form.append('bg_image', new File([job.background.bytes], 'bg_image', { type: job.background.mime }));
  const encoded = new Request('https://backend.invalid/', { method: 'POST', body: form });
  const bytes = await encoded.arrayBuffer();
  return {
    bytes,
    sha256: await sha256Hex(bytes),
    contentType: encoded.headers.get('content-type') ?? 'multipart/form-data',
  };
}

async function attemptOnce(
  config: EdgeConfig,
  job: BackendJob,
  body: BackendBody,
): Promise<BackendOutcome | Retryable> {
  const started = Date.now();
  let response: Response;
  try {
    response = await backendFetch(config, {
      method: 'POST',
      pathAndQuery: backendPathAndQuery(job),
      body: body.bytes,
      bodySha256: body.sha256,
      headers: {
        'content-type': body.contentType,
        [HEADERS.requestId]: job.requestId,
        [HEADERS.timeLeft]: String(announcedTimeLeftMs(config.backendTimeoutMs)),
      },
      timeoutMs: config.backendTimeoutMs,
    });
  } catch (error) {
    if (isTimeout(error)) {
      return fail(
        'backend_timeout',
        `The inference backend did not answer within ${config.backendTimeoutMs} ms.`,
      );
    }
    return { retry: true, code: 'backend_unavailable', retryAfterSeconds: undefined, cause: String(error) };
  }
  try {
    if (response.ok) return await readResult(job, response, Date.now() - started);
    return await mapFailure(response);
  } catch (error) {
    if (isTimeout(error)) {
      return fail(
        'backend_timeout',
        `The inference backend did not answer within ${config.backendTimeoutMs} ms.`,
      );
    }
    // The connection dropped while the answer was read: a truncated result is never stored.
    console.error(
      JSON.stringify({ event: 'backend_body_failed', requestId: job.requestId, error: String(error) }),
    );
    return fail('bad_gateway', 'The inference backend’s answer was cut off.');
  }
}

async function readResult(job: BackendJob, response: Response, headersMs: number): Promise<BackendOutcome> {
  const contentType = response.headers.get('content-type') ?? '';
  const expected = OUTPUT_CONTENT_TYPES[job.options.format];
  const modelSha256 = response.headers.get(HEADERS.modelSha256);
  if (!contentType.startsWith(expected) || modelSha256 !== job.modelSha256) {
    await response.body?.cancel();
    // A result from other weights than the pinned ones would poison the content-addressed store.
    console.error(
      JSON.stringify({
        event: 'backend_contract_violation',
        requestId: job.requestId,
        contentType,
        modelSha256,
        expectedSha256: job.modelSha256,
      }),
    );
    return fail('bad_gateway', 'The inference backend answered with an unexpected result.');
  }
  const started = Date.now();
  const body = await response.arrayBuffer();
  const notImage = notTheImageAsked(new Uint8Array(body), job.options.format);
  if (notImage) {
    // A 200 whose body is no such image (a proxy's page with the right type, garbage): never stored.
    console.error(
      JSON.stringify({
        event: 'backend_contract_violation',
        requestId: job.requestId,
        contentType,
        notImage,
      }),
    );
    return fail('bad_gateway', 'The inference backend answered with an unexpected result.');
  }
  return {
    ok: true,
    body,
    contentType: expected,
    width: response.headers.get(HEADERS.imageWidth) ?? '',
    height: response.headers.get(HEADERS.imageHeight) ?? '',
    foreground: response.headers.get(HEADERS.foregroundBox) ?? '',
    subjectConfidence: response.headers.get(HEADERS.subjectConfidence) ?? '',
    backendMs: headersMs + (Date.now() - started),
    inferenceMs: parseServerTiming(response.headers.get(HEADERS.serverTiming)).inference,
  };
}

const SNIFFED_TYPE_OF_FORMAT = { png: 'png', webp: 'webp', jpg: 'jpeg', zip: 'zip' } as const;
/** A ZIP's local file header signature, PK\x03\x04. */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * Why a result body is not the image its format says (its magic bytes and a readable header,
 * nothing decoded), or undefined when it is.
 */
export function notTheImageAsked(
  bytes: Uint8Array,
  format: keyof typeof SNIFFED_TYPE_OF_FORMAT,
): string | undefined {
  if (format === 'zip')
    return ZIP_MAGIC.every((b, i) => bytes[i] === b) ? undefined : 'the body is not a ZIP archive';
  const sniffed = sniffImageType(bytes);
  const wanted = SNIFFED_TYPE_OF_FORMAT[format];
  if (!sniffed.accepted) return `the body is ${sniffed.seen}, not ${wanted}`;
  if (sniffed.type !== wanted) return `the body is ${sniffed.type}, not ${wanted}`;
  const size = readImageSize(bytes, sniffed.type);
  return size.ok ? undefined : size.reason;
}

function retryAfterOf(response: Response): number | undefined {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
}

/** Backend 4xx problems keep their code, detail and extension members; everything else maps to 502/503/504. */
async function mapFailure(response: Response): Promise<BackendOutcome | Retryable> {
  const text = await response.text();
  let problem: { code?: unknown; detail?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    // A JSON body that is no object (null, a number) is no problem body either.
    if (typeof parsed === 'object' && parsed !== null) problem = parsed;
  } catch {
    // not a problem body (e.g. a proxy's HTML page)
  }
  const code = isErrorCode(problem.code) ? problem.code : undefined;
  const cause = `HTTP ${response.status} ${code ?? ''} ${text.slice(0, 200)}`;
  if (response.status === 503 || response.status === 429) {
    const retryCode = code === 'overloaded' || response.status === 429 ? 'overloaded' : 'backend_unavailable';
    return { retry: true, code: retryCode, retryAfterSeconds: retryAfterOf(response), cause };
  }
  const passesThrough =
    code !== undefined &&
    response.status >= 400 &&
    response.status < 500 &&
    ERRORS[code].status === response.status &&
    code !== 'unauthorized';
  if (passesThrough && typeof problem.detail === 'string') {
    return fail(code, problem.detail, undefined, problemExtensionsFrom(problem));
  }
  console.error(JSON.stringify({ event: 'backend_error', status: response.status, cause }));
  if (response.status === 504) return fail('backend_timeout', 'The inference backend timed out.');
  return fail('bad_gateway', 'The inference backend failed to process the image.');
}

export function outcomeError(outcome: Extract<BackendOutcome, { ok: false }>): AppError {
  return new AppError(outcome.code, outcome.detail, {
    retryAfterSeconds: outcome.retryAfterSeconds,
    extensions: outcome.extensions,
  });
}
