/**
 * A short, seeded run of `npm run fuzz` against both running services (the real backend and the
 * edge in wrangler dev): mutated images of every accepted type, random content types and options,
 * at the edge sometimes multipart. Every answer is a result or a problem+json with a documented
 * code for a bad upload and that code's status (scripts/lib/fuzz-requests.ts), and both services
 * are ready afterwards, the backend's memory bounded. `npm run fuzz` runs the full count.
 *
 * The requests ask for the small model when it is installed (global-setup.ts: CI installs it, and
 * both services then serve it beside the default): about a quarter of the cases decode and run
 * the model on CPU, and on IS-Net those runs were nearly all of the time (1024² inference plus
 * refinement, seconds each), on u2netp a fraction of it. What is checked is the same either way.
 */
import { EMPTY_BODY_SHA256, HEADERS, sha256Hex, signRequest } from '@bgremove/shared';
import { describe, expect, inject, it } from 'vitest';
import { fuzzRequest, judgeAnswer, type FuzzTarget } from '../../scripts/lib/fuzz-requests';
import { loadSeeds } from '../../scripts/lib/fuzz-seeds';
import { edgeUrl } from './support/stack-client';

/**
 * Per service: 64 on the small model (about a quarter decode and run it: seconds in all), 24 on
 * IS-Net, where each of those runs takes seconds on CPU (a fresh clone without the small model).
 */
const REQUESTS = Number(process.env.E2E_FUZZ_REQUESTS ?? (inject('fuzzModel') === 'u2netp' ? 64 : 24));
const SEED = 13;
const seeds = loadSeeds();

async function signedHeaders(method: string, pathAndQuery: string, body?: Uint8Array) {
  return {
    [HEADERS.signature]: await signRequest({
      secret: inject('secret'),
      method,
      pathAndQuery,
      bodySha256: body ? await sha256Hex(body) : EMPTY_BODY_SHA256,
    }),
  };
}

/** The backend's server process and its session processes (where the model's memory is), together. */
async function backendRssBytes(): Promise<number> {
  const path = '/v1/diagnostics';
  const response = await fetch(`${inject('backendUrl')}${path}`, {
    headers: await signedHeaders('GET', path),
  });
  return ((await response.json()) as { process: { totalRssBytes: number } }).process.totalRssBytes;
}

async function fuzz(target: FuzzTarget, offset: number) {
  const tally: Record<string, number> = {};
  const wrong: string[] = [];
  const model = inject('fuzzModel');
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const index = offset + next++;
      const request = fuzzRequest(seeds, SEED, index, target, model);
      const base = target === 'backend' ? inject('backendUrl') : edgeUrl();
      const headers =
        target === 'backend'
          ? {
              ...request.headers,
              ...(await signedHeaders('POST', request.pathAndQuery, request.body as Uint8Array)),
            }
          : request.headers;
      const response = await fetch(`${base}${request.pathAndQuery}`, {
        method: 'POST',
        body: request.body,
        headers,
      });
      const judgement = await judgeAnswer(response);
      // The backend names the model that made a result: the one asked for.
      if (target === 'backend' && response.status === 200 && response.headers.get(HEADERS.model) !== model)
        wrong.push(`case ${index}: a result of ${response.headers.get(HEADERS.model)}, not ${model}`);
      tally[judgement.key] = (tally[judgement.key] ?? 0) + 1;
      if (judgement.wrong)
        wrong.push(`case ${index} (${request.mutant.mutations.join(', ')}): ${judgement.wrong}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return { tally, wrong };
}

describe('fuzzed uploads against both services (short seeded run)', () => {
  it.each([
    ['backend', 1_000_000],
    ['edge', 2_000_000],
  ] as const)(
    '%s: every answer is a result or the right problem+json; ready afterwards',
    async (target, offset) => {
      const rssBefore = await backendRssBytes();
      const { tally, wrong } = await fuzz(target, offset);
      expect(wrong).toEqual([]);
      // The run saw both kinds of answer: results and refusals of bad bytes.
      expect(tally['200'] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(tally).some((key) => /^4\d\d /.test(key))).toBe(true);
      expect((await fetch(`${inject('backendUrl')}/readyz`)).status).toBe(200);
      expect((await fetch(`${edgeUrl()}/healthz`)).status).toBe(200);
      expect(await backendRssBytes()).toBeLessThan(rssBefore * 1.5);
    },
    240_000,
  );
});
