import type { AppError } from '@bgremove/shared';
import { type ErrorCode } from '@bgremove/shared';

/**
 * remove.bg's error answer: `{ "errors": [ { "title", "code", "detail" } ] }` with its codes and
 * statuses, for everything under /v1.0/. Only public text goes in; causes are logged.
 */
export const REMOVEBG_ERRORS = {
  missing_source: { status: 400, title: 'No image given' },
  multiple_sources: { status: 400, title: 'Multiple image sources given' },
  invalid_file_type: { status: 400, title: 'Invalid file type' },
  failed_to_read_image: { status: 400, title: 'Failed to read image' },
  file_too_large: { status: 400, title: 'File too large' },
  resolution_too_high: { status: 400, title: 'Input image resolution too high' },
  failed_image_download: { status: 400, title: 'Failed to download image' },
  invalid_size: { status: 400, title: 'Invalid size' },
  invalid_type: { status: 400, title: 'Invalid type' },
  invalid_type_level: { status: 400, title: 'Invalid type_level' },
  invalid_format: { status: 400, title: 'Invalid format' },
  invalid_channels: { status: 400, title: 'Invalid channels' },
  invalid_bg_color: { status: 400, title: 'Invalid bg_color' },
  invalid_crop: { status: 400, title: 'Invalid crop' },
  invalid_crop_margin: { status: 400, title: 'Invalid crop_margin' },
  invalid_roi: { status: 400, title: 'Invalid roi' },
  invalid_scale: { status: 400, title: 'Invalid scale' },
  invalid_position: { status: 400, title: 'Invalid position' },
  invalid_parameter: { status: 400, title: 'Invalid parameter' },
  multiple_bg_sources: { status: 400, title: 'Multiple background sources given' },
  unknown_foreground: { status: 400, title: 'Could not identify foreground in image' },
  invalid_request: { status: 400, title: 'Invalid request' },
  insufficient_credits: { status: 402, title: 'Insufficient credits' },
  auth_failed: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  rate_limit_exceeded: { status: 429, title: 'Rate limit exceeded' },
  unknown_error: { status: 500, title: 'Unknown error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  timeout: { status: 504, title: 'Timeout' },
} as const satisfies Record<string, { status: number; title: string }>;

export type RemoveBgErrorCode = keyof typeof REMOVEBG_ERRORS;

export class RemoveBgError extends Error {
  readonly code: RemoveBgErrorCode;
  readonly status: number;
  readonly title: string;
  /** Extra headers (Retry-After, X-RateLimit-*). */
  readonly headers: Record<string, string>;

  constructor(
    code: RemoveBgErrorCode,
    detail: string,
    options: { title?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'RemoveBgError';
    this.code = code;
    this.status = REMOVEBG_ERRORS[code].status;
    this.title = options.title ?? REMOVEBG_ERRORS[code].title;
    this.headers = options.headers ?? {};
  }

  toResponse(requestId: string): Response {
    const body = { errors: [{ title: this.title, code: this.code, detail: this.message }] };
    return new Response(JSON.stringify(body), {
      status: this.status,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'x-request-id': requestId,
        ...this.headers,
      },
    });
  }
}

/** How the native API's errors read in remove.bg's terms (uploads, the backend, limits). */
const FROM_NATIVE: Partial<Record<ErrorCode, RemoveBgErrorCode>> = {
  invalid_request: 'invalid_request',
  unauthorized: 'auth_failed',
  forbidden: 'auth_failed',
  payload_too_large: 'file_too_large',
  unsupported_media_type: 'invalid_file_type',
  invalid_image: 'failed_to_read_image',
  image_too_large: 'resolution_too_high',
  rate_limited: 'rate_limit_exceeded',
  not_found: 'not_found',
  overloaded: 'service_unavailable',
  backend_unavailable: 'service_unavailable',
  storage_unavailable: 'service_unavailable',
  backend_timeout: 'timeout',
};

export function fromAppError(error: AppError): RemoveBgError {
  const code = FROM_NATIVE[error.code] ?? 'unknown_error';
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  const detail = code === 'unknown_error' ? 'Internal error.' : error.message;
  return new RemoveBgError(code, detail, { headers });
}
