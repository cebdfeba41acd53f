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

/** The body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

export function problemType(code: ErrorCode): string {
  return `urn:bgremove:problem:${code}`;
}

export function problemBody(code: ErrorCode, detail: string, requestId: string): Problem {
  const { status, title } = ERRORS[code];
  return { type: problemType(code), title, status, detail, code, request_id: requestId };
}

/**
 * The one error class of both apps: it carries a code from the table above, a public detail,
 * an optional Retry-After and the internal cause (logged, never sent).
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toProblem(requestId: string): Problem {
    return problemBody(this.code, this.message, requestId);
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
