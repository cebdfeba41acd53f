/**
 * `npm run burst`: N distinct uploads at once through the edge (wrangler dev) to the built backend
 * on CPU, both started here on free ports with fresh state. Every upload is a different file (the
 * seed photo with its own trailing bytes), so nothing is coalesced or served from the cache.
 *
 *   npm run burst                       # 40 at once
 *   npm run burst -- --concurrency 100 --photo some.jpg
 *
 * Prints and writes (--out, test-artifacts/burst/burst-<n>.json) the count per status and code,
 * whether every refusal carried Retry-After, latency percentiles per outcome, and the backend's
 * deadline refusals and model runs during the burst; exits non-zero on any 504, any refusal
 * without Retry-After, or any model run beyond the 200s (a run for a caller who was gone): the
 * deadline logic promises none of them happens.
 * The backend's own defaults apply (MAX_CONCURRENCY, MAX_QUEUE); the edge's too, except
 * --edge-timeout-ms (BACKEND_TIMEOUT_MS) when given.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineLoad, metricValue, startLocalStack } from './lib/local-stack';
import { REPO_ROOT } from './lib/stack';
import { numberOption, parseToolArgs } from './lib/tool-args';

const values = parseToolArgs(
  'burst',
  "N distinct uploads at once through the edge (wrangler dev) to the built backend on CPU; counts\nper status and code, Retry-After on every refusal, latencies, the backend's deadline refusals and\nmodel runs. Fails on any 504, a refusal without Retry-After, or a model run without a 200.",
  {
    concurrency: { type: 'string', default: '40', description: 'uploads at once' },
    photo: {
      type: 'string',
      default: join(REPO_ROOT, 'edge', 'test', 'fixtures', 'photo-96x64.jpg'),
      description: 'the photo each upload is made from',
    },
    'edge-timeout-ms': { type: 'string', description: "the edge's BACKEND_TIMEOUT_MS (else its default)" },
    out: {
      type: 'string',
      default: join(REPO_ROOT, 'test-artifacts', 'burst'),
      description: 'report folder',
    },
  },
);
const n = numberOption('burst', 'concurrency', values.concurrency, 1);
const photo = new Uint8Array(readFileSync(values.photo));

interface Result {
  status: number;
  code: string;
  retryAfter: string | null;
  ms: number;
  xCache: string | null;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const loadBefore = machineLoad();
const edgeVars: Record<string, string> = {};
if (values['edge-timeout-ms']) edgeVars.BACKEND_TIMEOUT_MS = values['edge-timeout-ms'];
console.log(`starting the stack; ${loadBefore}`);
const stack = await startLocalStack({ edgeVars });
let results: Result[];
let wallMs: number;
let backendCounts: Record<string, number> | undefined;
const modelRuns = (metrics: string) =>
  metricValue(metrics, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"');
try {
  // The warm-up run (and anything else before the burst) is not the burst's.
  const runsBefore = modelRuns(await (await stack.signedBackendGet('/metrics')).text());
  const started = performance.now();
  results = await Promise.all(
    Array.from({ length: n }, async (_, i): Promise<Result> => {
      const body = new Uint8Array(photo.length + 16);
      body.set(photo);
      crypto.getRandomValues(body.subarray(photo.length));
      const t0 = performance.now();
      const response = await fetch(`${stack.edgeUrl}/v1/remove-background?output=matte`, {
        method: 'POST',
        body,
        // One client IP each: the edge's rate limits are not what is measured here.
        headers: { 'content-type': 'image/jpeg', 'cf-connecting-ip': `198.51.100.${i % 250}` },
        signal: AbortSignal.timeout(600_000),
      });
      const text = response.status === 200 ? '' : await response.text();
      if (response.status === 200) await response.arrayBuffer().catch(() => undefined);
      let code: string;
      try {
        const parsed = text ? (JSON.parse(text) as { code?: unknown }).code : undefined;
        code = typeof parsed === 'string' ? parsed : '';
      } catch {
        code = 'not-json';
      }
      return {
        status: response.status,
        code,
        retryAfter: response.headers.get('retry-after'),
        ms: performance.now() - t0,
        xCache: response.headers.get('x-cache'),
      };
    }),
  );
  wallMs = performance.now() - started;
  const metrics = await (await stack.signedBackendGet('/metrics')).text();
  backendCounts = {
    refusedAtAdmission: metricValue(metrics, 'bgremove_deadline_refusals_total', 'at="admission"'),
    droppedFromQueue: metricValue(metrics, 'bgremove_deadline_refusals_total', 'at="queue"'),
    modelRuns: modelRuns(metrics) - runsBefore,
  };
} finally {
  await stack.stop();
}

const byOutcome = new Map<string, number[]>();
for (const r of results) {
  const key = `${r.status}${r.code ? ` ${r.code}` : ''}`;
  byOutcome.set(key, [...(byOutcome.get(key) ?? []), r.ms]);
}
const summary = Object.fromEntries(
  [...byOutcome].map(([key, ms]) => {
    const sorted = ms.sort((a, b) => a - b);
    return [
      key,
      {
        count: ms.length,
        p50s: +(percentile(sorted, 50) / 1000).toFixed(1),
        p90s: +(percentile(sorted, 90) / 1000).toFixed(1),
        maxs: +(sorted.at(-1)! / 1000).toFixed(1),
      },
    ];
  }),
);
const refusals = results.filter((r) => r.status === 503 || r.status === 429);
const withoutRetryAfter = refusals.filter((r) => r.retryAfter === null).length;
const timeouts = results.filter((r) => r.status === 504).length;
const served = results.filter((r) => r.status === 200).length;
// Every model run of the burst should be one upload's 200: a run beyond them was for nobody.
const runsForNobody = Math.max(0, (backendCounts.modelRuns ?? 0) - served);
const report = {
  concurrency: n,
  photo: values.photo,
  wallSeconds: +(wallMs / 1000).toFixed(1),
  outcomes: summary,
  refusals: refusals.length,
  refusalsWithoutRetryAfter: withoutRetryAfter,
  retryAfterValues: [...new Set(refusals.map((r) => r.retryAfter))].sort(),
  timeouts504: timeouts,
  // The backend's side during the burst: deadline refusals, and model runs (the warm-up excluded).
  backend: backendCounts,
  runsForNobody,
  loadBefore,
  loadAfter: machineLoad(),
};
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `burst-${n}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
console.log(`written to ${file}`);
if (timeouts > 0 || withoutRetryAfter > 0 || runsForNobody > 0) process.exit(1);
