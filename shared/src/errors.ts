import { HEADERS } from './protocol';

/**
 * The closed set of error codes both services answer with, and the one shape they are sent in:
 * RFC 9457 problem+json. Public text is generic; causes belong in logs, never in a response.
 */
export const ERRORS = {
  invalid_request: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  not_cached: { status: 404, title: 'Not cached' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  invalid_image: { status: 422, title: 'Invalid image' },
  image_too_large: { status: 422, title: 'Image too large' },
  unknown_model: { status: 422, title: 'Unknown model' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  bad_gateway: { status: 502, title: 'Bad gateway' },
  overloaded: { status: 503, title: 'Overloaded' },
  backend_unavailable: { status: 503, title: 'Backend unavailable' },
  storage_unavailable: { status: 503, title: 'Storage unavailable' },
  backend_timeout: { status: 504, title: 'Backend timeout' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** What the service received, where an error is about it (the `seen` extension member). */
export interface ProblemSeen {
  /** Bytes received, or declared by Content-Length when the body was refused before reading. */
  bytes?: number;
  /** Width and height from the image header (EXIF-oriented at the backend), and their product. */
  width?: number;
  height?: number;
  pixels?: number;
  /** The type the magic bytes show: an accepted one (jpeg, png, webp, avif) or a refused one (heic, gif, …). */
  type?: string;
}

/**
 * RFC 9457 extension members: the facts behind an error, for a client to phrase its own message
 * instead of parsing `detail` (docs/API.md, section 2).
 */
export interface ProblemExtensions {
  /** The byte limit that was passed (payload_too_large). */
  limit_bytes?: number;
  /** The pixel limit that was passed (image_too_large). */
  limit_pixels?: number;
  seen?: ProblemSeen;
}

/** The body of every error response. */
export interface Problem extends ProblemExtensions {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * The extension members of a problem body from elsewhere (the backend's answer at the edge), the
 * known ones only and only when well-formed: a member of the wrong type is left out.
 */
export function problemExtensionsFrom(body: unknown): ProblemExtensions {
  if (typeof body !== 'object' || body === null) return {};
  const { limit_bytes, limit_pixels, seen } = body as Record<string, unknown>;
  const extensions: ProblemExtensions = {};
  if (isCount(limit_bytes)) extensions.limit_bytes = limit_bytes;
  if (isCount(limit_pixels)) extensions.limit_pixels = limit_pixels;
  if (typeof seen === 'object' && seen !== null) {
    const raw = seen as Record<string, unknown>;
    const picked: ProblemSeen = {};
    for (const name of ['bytes', 'width', 'height', 'pixels'] as const) {
      const value = raw[name];
      if (isCount(value)) picked[name] = value;
    }
    if (typeof raw.type === 'string' && /^[a-z0-9-]{1,32}$/.test(raw.type)) picked.type = raw.type;
    if (Object.keys(picked).length > 0) extensions.seen = picked;
  }
  return extensions;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

export function problemType(code: ErrorCode): string {
  return `urn:bgremove:problem:${code}`;
}

export function problemBody(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extensions: ProblemExtensions = {},
): Problem {
  const { status, title } = ERRORS[code];
  return { type: problemType(code), title, status, detail, code, request_id: requestId, ...extensions };
}

/**
 * The one error class of both apps: it carries a code from the table above, a public detail,
 * an optional Retry-After and the internal cause (logged, never sent).
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  /** Sent as they are with the problem body (public facts, never causes). */
  readonly extensions: ProblemExtensions;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { cause?: unknown; retryAfterSeconds?: number; extensions?: ProblemExtensions } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extensions = options.extensions ?? {};
  }

  toProblem(requestId: string): Problem {
    return problemBody(this.code, this.message, requestId, this.extensions);
  }

  /** Headers that go with the problem body: no-store always, Retry-After when known. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': PROBLEM_CONTENT_TYPE,
      'cache-control': 'no-store',
    };
    if (this.retryAfterSeconds !== undefined) headers['retry-after'] = String(this.retryAfterSeconds);
    return headers;
  }

  /** The one rendering of an error, for both services: problem+json, no-store, X-Request-Id. */
  toResponse(requestId: string): Response {
    return new Response(JSON.stringify(this.toProblem(requestId)), {
      status: this.status,
      headers: { ...this.headers(), [HEADERS.requestId]: requestId },
    });
  }
}

/**
 * 413 payload_too_large with `limit_bytes`, and `seen.bytes` when the size is known (a declared
 * Content-Length, or a part read whole); a stream cut off at the limit has no size to report.
 */
export function payloadTooLarge(what: string, limitBytes: number, seenBytes?: number): AppError {
  return new AppError('payload_too_large', `${what} is larger than the limit of ${limitBytes} bytes`, {
    extensions: {
      limit_bytes: limitBytes,
      ...(seenBytes === undefined ? {} : { seen: { bytes: seenBytes } }),
    },
  });
}

/** A Content-Length header's value when it is a plain byte count, else undefined. */
export function declaredLength(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
