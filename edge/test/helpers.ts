import type { Problem } from '@bgremove/shared';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env as workersEnv } from 'cloudflare:workers';
import { inject } from 'vitest';
import worker from '../src/index';
import type { BackendMode, RecordedRequest } from './backend-control';
import './provided-context';

/** The test bindings (vitest.config.ts): the Worker's Env plus the test-only ones (env.d.ts). */
export const env: Env = workersEnv;

export interface BackendCalls {
  counts: Record<string, number>;
  requests: RecordedRequest[];
  tokenAssertions: string[];
}

async function control(path: string, body?: unknown): Promise<BackendCalls> {
  const response = await fetch(`${env.TEST_CONTROL_URL}/__control/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? null : JSON.stringify(body),
  });
  return response.json();
}

export const backend = {
  reset: () => control('reset', {}),
  setMode: (mode: BackendMode) => control('mode', mode),
  calls: () => control('calls'),
  removeBackgroundCalls: async () => (await control('calls')).counts['POST /v1/remove-background'] ?? 0,
};

/** A real image file from test/fixtures (see fixtures/generate.ts). */
export function fixture(name: string): Uint8Array {
  const base64 = inject('fixtures')[name];
  if (!base64) throw new Error(`no fixture ${name}`);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * The fixture with random bytes appended after its end (decoders ignore trailing data), so every
 * test has its own source hash and result key and no test sees another's stored results.
 */
export function uniqueImage(name = 'photo-96x64.jpg'): Uint8Array {
  const base = fixture(name);
  const out = new Uint8Array(base.length + 16);
  out.set(base);
  crypto.getRandomValues(out.subarray(base.length));
  return out;
}

let ipCounter = 0;
/** Each call site gets a fresh client IP unless it names one, so the rate limit is per test. */
export const freshIp = () => `198.51.100.${(ipCounter++ % 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;

/**
 * Calls the Worker's fetch handler in this isolate, then waits for its waitUntil work (the R2 and
 * cache writes), so a following request sees what this one stored.
 */
export interface RequestOptions extends RequestInit {
  ip?: string;
  /** Bindings to use instead of the test config's (e.g. another var). */
  env?: typeof env;
}

export async function request(path: string, init: RequestOptions = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', init.ip ?? freshIp());
  const req = new Request(`https://edge.test${path}`, { ...init, headers });
  const ctx = createExecutionContext();
  const response = await worker.fetch(req, init.env ?? env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function upload(bytes: Uint8Array, query = '', init: RequestOptions = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'image/jpeg');
  return request(`/v1/remove-background${query}`, { method: 'POST', body: bytes, ...init, headers });
}

export async function expectProblem(response: Response, status: number, code: string) {
  const body = await response.json<Problem>();
  if (response.status !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${response.status} ${JSON.stringify(body)}`);
  }
  if (response.headers.get('content-type') !== 'application/problem+json')
    throw new Error('not problem+json');
  if (response.headers.get('cache-control') !== 'no-store') throw new Error('problem without no-store');
  return body;
}

export const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());
