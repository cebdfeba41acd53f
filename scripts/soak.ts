/**
 * `npm run soak`: a long mixed run through the edge (wrangler dev) to the built backend on CPU,
 * both started here on free ports with fresh state, watching memory and open files.
 *
 *   npm run soak                         # 2,000 requests, 4 at a time
 *   npm run soak -- --requests 500 --concurrency 2 --miss-share 0.01
 *   npm run soak -- --requests 8000 --only hit     # one kind: healthz, lookup, bad or hit
 *   npm run soak -- --heap --baseline              # + the isolate's heap, + an empty Worker
 *   npm run soak -- --rest-s 5                     # shorter wait before the at-rest sample
 *
 * The mix (seeded): 20% lookups of earlier and unknown hashes, 15% bad inputs (text, a truncated
 * JPEG, a PNG declaring 40000x40000, an empty body), --miss-share (0.1) new uploads (misses, the
 * model runs: on a busy CPU, what the run's length depends on), the rest repeats of earlier
 * uploads (hits). Every 5% of the run it samples the RSS and the open file descriptors of the
 * backend's node process and of both workerd processes of wrangler dev: the one running the
 * Worker and wrangler's dev proxy in front of it.
 *
 * --heap: at every sample also the Worker isolate's JavaScript heap after a forced full GC (read
 * through workerd's inspector, scripts/lib/inspector.ts): if RSS grows and this does not, the
 * growth is not the Worker's objects. --baseline: an empty Worker in its own wrangler dev (same
 * wrangler, workerd and compatibility date) gets one request for each of the edge's and is
 * sampled the same way, so the runtime's own growth per request is measured in the same run.
 *
 * Passes when, after the first 20% (warm-up), every RSS (and with --heap the heap after GC) grows
 * at most 10% and the descriptors not at all (a slack of 8 for sockets in flight; for the
 * Worker's process not counting the SQLite files of live Durable Objects, 3 per distinct upload
 * of the last ~70 s), the Worker's process has no more descriptors open at rest, all counted
 * (--rest-s, 90, after the last answer: past workerd's eviction of idle objects), than after
 * warm-up, and no answer is a 5xx other than 503 with Retry-After. The baseline is reported, never subtracted: the
 * bound holds for the edge's processes as measured. Writes soak.json to --out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@bgremove/shared';
import { rng } from './lib/fuzz';
import { BASELINE_PATH, BASELINE_WORKER_NAME, startBaselineWorker } from './lib/baseline-worker';
import { heapAfterGcRetrying, heapNow, inspectorTargets, type InspectorTarget } from './lib/inspector';
import {
  BACKEND_PROCESSES,
  fdKinds,
  machineLoad,
  mib,
  serviceStats,
  startLocalStack,
  workerdProcesses,
} from './lib/local-stack';
import { REPO_ROOT } from './lib/stack';
import { numberOption, parseToolArgs } from './lib/tool-args';

const values = parseToolArgs(
  'soak',
  'A long mixed run through the edge (wrangler dev) to the built backend on CPU, watching the RSS and\nopen files of both; fails on growth after warm-up. Writes soak.json to --out.',
  {
    requests: { type: 'string', default: '2000', description: 'requests in all' },
    concurrency: { type: 'string', default: '4', description: 'requests in flight at once' },
    seed: { type: 'string', default: '13', description: 'seed of the mix' },
    'miss-share': { type: 'string', default: '0.1', description: 'share of new uploads (the model runs)' },
    only: { type: 'string', description: 'one kind of request: healthz, lookup, bad or hit' },
    heap: { type: 'boolean', default: false, description: "also the Worker isolate's JS heap after GC" },
    baseline: { type: 'boolean', default: false, description: 'an empty Worker measured in the same run' },
    'rest-s': {
      type: 'string',
      default: '90',
      description: 'seconds after the last answer for the at-rest sample',
    },
    out: { type: 'string', default: join(REPO_ROOT, 'test-artifacts', 'soak'), description: 'report folder' },
  },
);
const total = numberOption('soak', 'requests', values.requests, 1);
const concurrency = numberOption('soak', 'concurrency', values.concurrency, 1);
const missShare = numberOption('soak', 'miss-share', values['miss-share']);
const restSeconds = numberOption('soak', 'rest-s', values['rest-s']);
const KINDS = ['healthz', 'lookup', 'bad', 'hit'] as const;
const only = values.only as (typeof KINDS)[number] | undefined;
if (only !== undefined && !KINDS.includes(only)) {
  console.error(`--only takes one of ${KINDS.join(', ')}`);
  process.exit(2);
}
const r = rng(numberOption('soak', 'seed', values.seed));
const photo = new Uint8Array(readFileSync(join(REPO_ROOT, 'edge', 'test', 'fixtures', 'photo-96x64.jpg')));

const unique = () => {
  const body = new Uint8Array(photo.length + 16);
  body.set(photo);
  crypto.getRandomValues(body.subarray(photo.length));
  return body;
};
const pngDeclaring40k = () => {
  const b = new Uint8Array(64);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, 40_000);
  new DataView(b.buffer).setUint32(20, 40_000);
  return b;
};
const BAD: (() => Uint8Array)[] = [
  () => new TextEncoder().encode('hello, this is not an image'),
  () => photo.slice(0, 300),
  pngDeclaring40k,
  () => new Uint8Array(0),
];

interface Sample {
  at: number;
  backendRssMiB: number;
  backendFds: number;
  /** The workerd process that runs the Worker. */
  workerdRssMiB: number;
  workerdFds: number;
  /**
   * Of those, the local Durable Objects' SQLite files (3 per live coalescer object, one object
   * per result key, closed when workerd evicts it, about 70 s after its last request).
   */
  workerdDoFiles: number;
  /** wrangler's dev proxy (a second workerd, in front of the Worker's). */
  proxyRssMiB: number;
  proxyFds: number;
  /** --heap: the Worker isolate's JS heap in use after a full GC. */
  heapMiB?: number;
  /**
   * --heap: the heaps (no GC) of the other isolates in the Worker's workerd process: wrangler's
   * services for its bindings and assets (cache, R2, D1, asset router, entry).
   */
  otherIsolatesHeapMiB?: number;
  /** --baseline: the same for the empty Worker. */
  baselineWorkerdRssMiB?: number;
  baselineProxyRssMiB?: number;
  baselineHeapMiB?: number;
  baselineOtherIsolatesHeapMiB?: number;
}
type Measure = Exclude<keyof Sample, 'at'>;

const EDGE_WORKER_NAME = /^name\s*=\s*"([^"]+)"/m.exec(
  readFileSync(join(REPO_ROOT, 'wrangler.toml'), 'utf8'),
)?.[1];
const loadBefore = machineLoad();
console.log(`starting the stack; ${loadBefore}`);
const stack = await startLocalStack({});
const baseline = values.baseline ? await startBaselineWorker() : undefined;
/** --heap: the Worker's isolate and the others in its workerd process. */
const isolatesOf = async (root: number, name: string | undefined) => {
  const worker = workerdProcesses(root).worker;
  const targets = worker ? await inspectorTargets(worker.pid) : [];
  const own = targets.find((t) => t.id === `core:user:${name ?? ''}`);
  if (!own) throw new Error(`--heap: no inspector found for the isolate of ${name ?? '(no name)'}`);
  return { own: own.webSocketDebuggerUrl, others: targets.filter((t) => t !== own) };
};
const isolates = values.heap ? await isolatesOf(stack.edge.pid, EDGE_WORKER_NAME) : undefined;
const baselineIsolates =
  values.heap && baseline ? await isolatesOf(baseline.pid, BASELINE_WORKER_NAME) : undefined;
const uploaded: Uint8Array[] = [];
const statuses: Record<string, number> = {};
const problems: string[] = [];
const samples: Sample[] = [];
let next = 0;
let done = 0;
let pokes = 0;
const heapMisses: string[] = [];
let atRest: Sample | undefined;
let atRestWorkerdFdKinds: Record<string, number> | undefined;
const sampleEvery = Math.max(1, Math.floor(total / 20));
const started = performance.now();

const poke = (url: string) => async () => {
  pokes++;
  await (await fetch(url)).arrayBuffer();
};
const toMiB = (bytes: number) => +(bytes / 2 ** 20).toFixed(2);
const heapMiB = async (url: string | undefined, pokeUrl: string) =>
  url === undefined ? undefined : toMiB((await heapAfterGcRetrying(url, poke(pokeUrl))).usedBytes);
const othersMiB = async (targets: InspectorTarget[] | undefined) => {
  if (targets === undefined) return undefined;
  let bytes = 0;
  for (const t of targets) bytes += (await heapNow(t.webSocketDebuggerUrl)).usedBytes;
  return toMiB(bytes);
};

/** Open files of `pid` under the local state's Durable Object folder (`<persist>/v3/do/`). */
const durableObjectFiles = (pid: number) =>
  Object.entries(fdKinds(pid))
    .filter(([kind]) => kind.includes('/v3/do/'))
    .reduce((sum, [, n]) => sum + n, 0);

const sample = async (label = `${done}/${total}`): Promise<Sample> => {
  const at = done;
  // The server and its session processes together (the model's memory is in the latter).
  const backend = serviceStats(stack.backend.pid, BACKEND_PROCESSES);
  const edge = workerdProcesses(stack.edge.pid);
  const base = baseline ? workerdProcesses(baseline.pid) : undefined;
  const s: Sample = {
    at,
    backendRssMiB: backend ? mib(backend.rssBytes) : 0,
    backendFds: backend?.openFiles ?? 0,
    workerdRssMiB: edge.worker ? mib(edge.worker.rssBytes) : 0,
    workerdFds: edge.worker?.openFiles ?? 0,
    workerdDoFiles: edge.worker ? durableObjectFiles(edge.worker.pid) : 0,
    proxyRssMiB: edge.proxy ? mib(edge.proxy.rssBytes) : 0,
    proxyFds: edge.proxy?.openFiles ?? 0,
    ...(base && {
      baselineWorkerdRssMiB: base.worker ? mib(base.worker.rssBytes) : 0,
      baselineProxyRssMiB: base.proxy ? mib(base.proxy.rssBytes) : 0,
    }),
  };
  // RSS first, then the GCs (they change RSS).
  try {
    s.heapMiB = await heapMiB(isolates?.own, `${stack.edgeUrl}/healthz`);
    s.otherIsolatesHeapMiB = await othersMiB(isolates?.others);
    if (baseline) {
      s.baselineHeapMiB = await heapMiB(baselineIsolates?.own, `${baseline.url}${BASELINE_PATH}`);
      s.baselineOtherIsolatesHeapMiB = await othersMiB(baselineIsolates?.others);
    }
  } catch (error) {
    // A measurement that did not answer, not a fault of the service: reported, not failed on.
    heapMisses.push(`heap sample at ${at}: ${String(error)}`);
  }
  const heap =
    s.heapMiB === undefined
      ? ''
      : `, heap after GC ${s.heapMiB} MiB (other isolates ${s.otherIsolatesHeapMiB} MiB)`;
  const base2 =
    s.baselineWorkerdRssMiB === undefined
      ? ''
      : `; empty Worker: workerd ${s.baselineWorkerdRssMiB} + proxy ${s.baselineProxyRssMiB} MiB${s.baselineHeapMiB === undefined ? '' : `, heap ${s.baselineHeapMiB} MiB (others ${s.baselineOtherIsolatesHeapMiB})`}`;
  console.log(
    `  ${label}: backend ${s.backendRssMiB} MiB ${s.backendFds} fds, workerd ${s.workerdRssMiB} MiB ${s.workerdFds} fds (${s.workerdDoFiles} DO files), proxy ${s.proxyRssMiB} MiB ${s.proxyFds} fds${heap}${base2}`,
  );
  return s;
};

/** --only: one kind of request (after one miss for `hit`), to see which kind memory follows. */
function rollFor(kind: (typeof KINDS)[number] | undefined): number {
  const roll = r.next();
  switch (kind) {
    case undefined:
      return roll;
    case 'healthz':
      return -1;
    case 'lookup':
      return roll * 0.2;
    case 'bad':
      return 0.2 + roll * 0.15;
    case 'hit':
      return 0.999;
  }
}

async function one(i: number): Promise<void> {
  const roll = rollFor(only);
  const ip = `192.0.2.${i % 250}`;
  let response: Response;
  let kind: string;
  if (roll < 0) {
    kind = 'healthz';
    response = await fetch(`${stack.edgeUrl}/healthz`, { headers: { 'cf-connecting-ip': ip } });
  } else if (roll < 0.2) {
    kind = 'lookup';
    const known = uploaded.length > 0 && r.chance(0.7) ? r.pick(uploaded) : unique();
    response = await fetch(`${stack.edgeUrl}/v1/lookup?sha256=${await sha256Hex(known)}&output=matte`, {
      headers: { 'cf-connecting-ip': ip },
    });
  } else {
    let body: Uint8Array;
    if (roll < 0.35) {
      kind = 'bad';
      body = r.pick(BAD)();
    } else if (roll < 0.35 + missShare || uploaded.length === 0) {
      kind = 'miss';
      body = unique();
      uploaded.push(body);
    } else {
      kind = 'hit';
      body = r.pick(uploaded);
    }
    response = await fetch(`${stack.edgeUrl}/v1/remove-background?output=matte`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'image/jpeg', 'cf-connecting-ip': ip },
      signal: AbortSignal.timeout(300_000),
    });
  }
  await response.arrayBuffer();
  if (baseline) await (await fetch(`${baseline.url}${BASELINE_PATH}`)).arrayBuffer();
  const key = `${kind} ${response.status}${response.headers.get('x-cache') ? ` ${response.headers.get('x-cache')}` : ''}`;
  statuses[key] = (statuses[key] ?? 0) + 1;
  const shed = response.status === 503 && response.headers.get('retry-after') !== null;
  if (response.status >= 500 && !shed) problems.push(`request ${i} (${kind}): ${response.status}`);
}

try {
  samples.push(await sample());
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await one(i).catch((error: unknown) => problems.push(`request ${i}: ${String(error)}`));
        done++;
        if (done % sampleEvery === 0) samples.push(await sample());
      }
    }),
  );
  // Once nothing is in flight and workerd has evicted the idle Durable Objects (one coalescer
  // per result key, 3 SQLite files open each, evicted about 70 s after their last request):
  // what is still open then is kept by nobody or leaked.
  await new Promise((resolve) => setTimeout(resolve, restSeconds * 1000));
  atRest = await sample(`at rest, ${restSeconds} s after the last answer`);
  const workerPid = workerdProcesses(stack.edge.pid).worker?.pid;
  atRestWorkerdFdKinds = workerPid === undefined ? {} : fdKinds(workerPid);
} finally {
  await baseline?.stop(5_000);
  await stack.stop();
}

const warm = samples.filter((s) => s.at >= total * 0.2);
const first = warm[0]!;
/** Largest value after warm-up over the first one (samples where it was read: heap reads can miss). */
const growth = (key: Measure) => {
  const values = warm.map((s) => s[key]).filter((v) => v !== undefined);
  return values.length < 2 ? undefined : +(Math.max(...values) / Math.max(0.01, values[0]!) - 1).toFixed(3);
};
const firstRead = (key: Measure) => warm.find((s) => s[key] !== undefined)?.[key];
const lastRead = (key: Measure) => warm.findLast((s) => s[key] !== undefined)?.[key];
const fdGrowth = (fds: (s: Sample) => number) => Math.max(...warm.map(fds)) - fds(first);
const afterWarmup = {
  backendRssGrowth: growth('backendRssMiB'),
  workerdRssGrowth: growth('workerdRssMiB'),
  proxyRssGrowth: growth('proxyRssMiB'),
  heapAfterGcGrowth: growth('heapMiB'),
  otherIsolatesHeapGrowth: growth('otherIsolatesHeapMiB'),
  baselineWorkerdRssGrowth: growth('baselineWorkerdRssMiB'),
  baselineProxyRssGrowth: growth('baselineProxyRssMiB'),
  baselineHeapAfterGcGrowth: growth('baselineHeapMiB'),
  baselineOtherIsolatesHeapGrowth: growth('baselineOtherIsolatesHeapMiB'),
  backendFdGrowth: fdGrowth((s) => s.backendFds),
  /** During the run, without the Durable Objects' files (those are checked at rest). */
  workerdFdGrowth: fdGrowth((s) => s.workerdFds - s.workerdDoFiles),
  workerdFdGrowthWithDoFiles: fdGrowth((s) => s.workerdFds),
  proxyFdGrowth: fdGrowth((s) => s.proxyFds),
};
const over = (value: number | undefined) => value !== undefined && value > 0.1;
if (over(afterWarmup.backendRssGrowth)) problems.push('backend RSS grew more than 10% after warm-up');
if (over(afterWarmup.workerdRssGrowth))
  problems.push("workerd (the Worker's) RSS grew more than 10% after warm-up");
if (over(afterWarmup.proxyRssGrowth))
  problems.push("workerd (wrangler's dev proxy) RSS grew more than 10% after warm-up");
if (over(afterWarmup.heapAfterGcGrowth))
  problems.push("the Worker's JS heap after GC grew more than 10% after warm-up");
if (afterWarmup.backendFdGrowth > 8) problems.push('backend open files grew');
if (afterWarmup.workerdFdGrowth > 8)
  problems.push("workerd (the Worker's) open files grew (not counting its Durable Objects' files)");
if (atRest.workerdFds > first.workerdFds + 8)
  problems.push(`workerd (the Worker's) open files at rest (${atRest.workerdFds}) above the warm-up's`);
if (afterWarmup.proxyFdGrowth > 8) problems.push("workerd (wrangler's dev proxy) open files grew");
const pct = (value: number | undefined) => (value === undefined ? 'n/a' : `${(value * 100).toFixed(1)}%`);
/** How to read workerd's growth: beside the heap after GC and the empty Worker of this run. */
const reading: string[] = [
  `workerd after warm-up: the Worker's process ${pct(afterWarmup.workerdRssGrowth)}, dev proxy ${pct(afterWarmup.proxyRssGrowth)}`,
];
if (afterWarmup.heapAfterGcGrowth !== undefined)
  reading.push(
    `the Worker's heap after GC ${firstRead('heapMiB')} -> ${lastRead('heapMiB')} MiB (${pct(afterWarmup.heapAfterGcGrowth)}); the other isolates in its process, no GC, ${firstRead('otherIsolatesHeapMiB')} -> ${lastRead('otherIsolatesHeapMiB')} MiB`,
  );
if (afterWarmup.baselineWorkerdRssGrowth !== undefined)
  reading.push(
    `empty Worker, same run, same number of requests: its process ${pct(afterWarmup.baselineWorkerdRssGrowth)}, its dev proxy ${pct(afterWarmup.baselineProxyRssGrowth)}${afterWarmup.baselineHeapAfterGcGrowth === undefined ? '' : `, heap after GC ${pct(afterWarmup.baselineHeapAfterGcGrowth)}`}`,
  );
const report = {
  requests: total,
  concurrency,
  missShare,
  only: only ?? 'mixed',
  heap: values.heap,
  baseline: values.baseline,
  /** Extra /healthz (or baseline) requests sent to get the GC answered (--heap). */
  heapPokes: pokes,
  heapMisses,
  seconds: +((performance.now() - started) / 1000).toFixed(0),
  statuses,
  problems,
  afterWarmup,
  reading,
  samples,
  atRest,
  atRestWorkerdFdKinds,
  loadBefore,
  loadAfter: machineLoad(),
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify({ ...report, samples: undefined }, null, 2));
if (problems.length > 0) {
  console.log(`problems:\n  ${problems.slice(0, 30).join('\n  ')}`);
  process.exit(1);
}
