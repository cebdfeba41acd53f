/**
 * Fuzz requests against the running services, shared by `npm run fuzz` and the short e2e run:
 * case `index` (deterministic per seed) as a request (a mutated image with a random content type,
 * output options, and at the edge sometimes a multipart body), and the judgement of its answer:
 * a result, or a problem+json whose code is one of the documented ones for a bad upload and whose
 * status is that code's.
 */
import { ERRORS, PROBLEM_CONTENT_TYPE, isErrorCode } from '@bgremove/shared';
import { fuzzCase, rng, type Mutant } from './fuzz';
import type { loadSeeds } from './fuzz-seeds';

export type FuzzTarget = 'backend' | 'edge';

const CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/avif',
  'application/octet-stream',
  'text/plain',
  '',
];

export interface FuzzRequest {
  mutant: Mutant;
  pathAndQuery: string;
  headers: Record<string, string>;
  body: Uint8Array | FormData;
}

/**
 * Case `index` of `seed` for `target`; with `model`, asked of that model (the query's other
 * parameters, and the bytes, are the same as without).
 */
export function fuzzRequest(
  seeds: ReturnType<typeof loadSeeds>,
  seed: number,
  index: number,
  target: FuzzTarget,
  model?: string,
): FuzzRequest {
  const mutant = fuzzCase(seeds, seed, index);
  const r = rng(index);
  const contentType = r.pick(CONTENT_TYPES);
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const q = rng(index ^ 0x5bd1e995);
  const query = new URLSearchParams({ output: q.pick(['matte', 'cutout']), format: q.pick(['png', 'webp']) });
  if (q.chance(0.5)) query.set('max_side', String(q.pick([64, 256, 1024])));
  if (model !== undefined) query.set('model', model);
  let body: Uint8Array | FormData = mutant.bytes;
  if (target === 'edge') {
    if (r.chance(0.15)) {
      const form = new FormData();
      form.set('image', new Blob([mutant.bytes]), 'upload.bin');
      body = form;
      delete headers['content-type'];
    }
    headers['cf-connecting-ip'] = `203.0.113.${index % 250}`;
  }
  return { mutant, pathAndQuery: `/v1/remove-background?${query.toString()}`, headers, body };
}

/** What an upload of arbitrary bytes may be answered with, besides a result. */
const EXPECTED_REFUSALS = new Set([400, 413, 415, 422, 429, 503]);

export interface Judgement {
  /** `status code`, e.g. `422 invalid_image`, or `200`. */
  key: string;
  /** Why the answer is wrong, when it is. */
  wrong?: string;
}

/** Reads the answer to a fuzz request and says whether it is a right one. */
export async function judgeAnswer(response: Response): Promise<Judgement> {
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 200) {
    await response.arrayBuffer();
    return type.startsWith('image/')
      ? { key: '200' }
      : { key: '200', wrong: `200 with content type "${type}"` };
  }
  const text = await response.text();
  let problem: { code?: unknown; status?: unknown } = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    return { key: `${response.status} not-json`, wrong: `${response.status} whose body is not JSON` };
  }
  const code = isErrorCode(problem.code) ? problem.code : undefined;
  const key = `${response.status} ${code ?? String(problem.code)}`;
  if (!type.startsWith(PROBLEM_CONTENT_TYPE))
    return { key, wrong: `content type "${type}", not problem+json` };
  if (code === undefined) return { key, wrong: `undocumented code ${JSON.stringify(problem.code)}` };
  if (ERRORS[code].status !== response.status || problem.status !== response.status) {
    return { key, wrong: `status ${response.status} for ${code} (documented: ${ERRORS[code].status})` };
  }
  if (!EXPECTED_REFUSALS.has(response.status)) return { key, wrong: `${key} is no answer to a bad upload` };
  if ((response.status === 503 || response.status === 429) && response.headers.get('retry-after') === null) {
    return { key, wrong: `${key} without Retry-After` };
  }
  return { key };
}
