import type { ErrorCode } from '@bgremove/shared';

/** The fake backend's behaviour switches and call records (shared by Node and workerd sides). */
export interface BackendMode {
  kind:
    | 'ok'
    | 'down'
    | 'unavailable'
    | 'overloaded'
    | 'hang'
    | 'problem'
    | 'error'
    | 'other-weights'
    /** 200 whose Content-Type is not the image asked for (a proxy's page, say). */
    | 'wrong-type'
    /** 200 with the right Content-Type whose body is no image of that type. */
    | 'not-an-image'
    /** 200 whose body stops halfway: Content-Length promises more, then the connection drops. */
    | 'truncated'
    /** 200 whose headers come at once and whose body never finishes. */
    | 'slow-body'
    /** Results say X-Foreground-Box: none (nothing found). */
    | 'no-foreground';
  /** Extra latency before answering remove-background (ok mode). */
  delayMs?: number;
  /** Answer this many remove-background calls 503 before behaving as `kind`. */
  failFirst?: number;
  /** In down mode: start accepting connections again after this many ms. */
  upAfterMs?: number;
  /** `extensions`: members sent beside the standard ones, as they are. */
  problem?: { status: number; code: ErrorCode; detail: string; extensions?: Record<string, unknown> };
}

export interface RecordedRequest {
  method: string;
  path: string;
  signature: 'ok' | 'missing' | 'bad' | 'not-required';
  requestId: string | undefined;
  /** X-Time-Left-Ms: what the edge said it would still wait. */
  timeLeft: string | undefined;
  contentType: string | undefined;
  bodySha256: string;
  authorization: string | undefined;
  /** With bg_image: the SHA-256 of the multipart part bg_image (checked against the query). */
  bgImageSha256?: string;
}
