/**
 * `npm run soak`: a long mixed run through the edge (wrangler dev) to the built backend on CPU,
 * both started here on free ports with fresh state, watching memory and open files.
 *
 *   npm run soak                         # 2,000 requests, 4 at a time
 *   npm run soak -- --requests 500 --concurrency 2 --miss-share 0.01
 *   npm run soak -- --requests 8000 --only hit     # one kind: healthz, lookup, bad or hit
 *
 * The mix (seeded): 20% lookups of earlier and unknown hashes, 15% bad inputs (text, a truncated
 * JPEG, a PNG declaring 40000x40000, an empty body), --miss-share (0.1) new uploads (misses, the
 * model runs: on a busy CPU, what the run's length depends on), the rest repeats of earlier
 * uploads (hits). Every 5% of the run it samples the RSS and the open
 * file descriptors of the backend's node process and of workerd. Passes when, after the first
 * 20% (warm-up), RSS grows at most 10% and the descriptors not at all (a slack of 8 for sockets
 * in flight), and no answer is a 5xx other than 503 with Retry-After. Writes soak.json to --out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256Hex } from '@bgremove/shared';
import { rng } from './lib/fuzz';
import { machineLoad, mainProcess, mib, startLocalStack } from './lib/local-stack';
import { REPO_ROOT } from './lib/stack';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: '13' },
    'miss-share': { type: 'string', default: '0.1' },
    only: { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'test-artifacts', 'soak') },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const missShare = Number(values['miss-share']);
const KINDS = ['healthz', 'lookup', 'bad', 'hit'] as const;
const only = values.only as (typeof KINDS)[number] | undefined;
if (only !== undefined && !KINDS.includes(only)) {
  console.error(`--only takes one of ${KINDS.join(', ')}`);
  process.exit(2);
}
const r = rng(Number(values.seed));
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
  workerdRssMiB: number;
  workerdFds: number;
}

const loadBefore = machineLoad();
console.log(`starting the stack; ${loadBefore}`);
const stack = await startLocalStack({});
const uploaded: Uint8Array[] = [];
const statuses: Record<string, number> = {};
const problems: string[] = [];
const samples: Sample[] = [];
let next = 0;
let done = 0;
const sampleEvery = Math.max(1, Math.floor(total / 20));
const started = performance.now();

const sample = () => {
  const backend = mainProcess(stack.backend.pid, /dist\/server\.js/);
  const workerd = mainProcess(stack.edge.pid, /workerd/);
  const s: Sample = {
    at: done,
    backendRssMiB: backend ? mib(backend.rssBytes) : 0,
    backendFds: backend?.openFiles ?? 0,
    workerdRssMiB: workerd ? mib(workerd.rssBytes) : 0,
    workerdFds: workerd?.openFiles ?? 0,
  };
  samples.push(s);
  console.log(
    `  ${done}/${total}: backend ${s.backendRssMiB} MiB ${s.backendFds} fds, workerd ${s.workerdRssMiB} MiB ${s.workerdFds} fds`,
  );
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
  const key = `${kind} ${response.status}${response.headers.get('x-cache') ? ` ${response.headers.get('x-cache')}` : ''}`;
  statuses[key] = (statuses[key] ?? 0) + 1;
  const shed = response.status === 503 && response.headers.get('retry-after') !== null;
  if (response.status >= 500 && !shed) problems.push(`request ${i} (${kind}): ${response.status}`);
}

try {
  sample();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await one(i).catch((error: unknown) => problems.push(`request ${i}: ${String(error)}`));
        done++;
        if (done % sampleEvery === 0) sample();
      }
    }),
  );
} finally {
  await stack.stop();
}

const warm = samples.filter((s) => s.at >= total * 0.2);
const first = warm[0]!;
const growth = (key: 'backendRssMiB' | 'workerdRssMiB') =>
  Math.max(...warm.map((s) => s[key])) / Math.max(1, first[key]) - 1;
const fdGrowth = (key: 'backendFds' | 'workerdFds') => Math.max(...warm.map((s) => s[key])) - first[key];
const report = {
  requests: total,
  concurrency,
  missShare,
  only: only ?? 'mixed',
  seconds: +((performance.now() - started) / 1000).toFixed(0),
  statuses,
  problems,
  afterWarmup: {
    backendRssGrowth: +growth('backendRssMiB').toFixed(3),
    workerdRssGrowth: +growth('workerdRssMiB').toFixed(3),
    backendFdGrowth: fdGrowth('backendFds'),
    workerdFdGrowth: fdGrowth('workerdFds'),
  },
  samples,
  loadBefore,
  loadAfter: machineLoad(),
};
if (report.afterWarmup.backendRssGrowth > 0.1) problems.push('backend RSS grew more than 10% after warm-up');
if (report.afterWarmup.workerdRssGrowth > 0.1) problems.push('workerd RSS grew more than 10% after warm-up');
if (report.afterWarmup.backendFdGrowth > 8) problems.push('backend open files grew');
if (report.afterWarmup.workerdFdGrowth > 8) problems.push('workerd open files grew');
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify({ ...report, samples: undefined }, null, 2));
if (problems.length > 0) {
  console.log(`problems:\n  ${problems.slice(0, 30).join('\n  ')}`);
  process.exit(1);
}
