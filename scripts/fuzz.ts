/**
 * `npm run fuzz`: hostile images against the header check in process, then against both running
 * services (the built backend on CPU and the edge in wrangler dev, started here on free ports).
 *
 *   npm run fuzz                                   # 100,000 header cases, 2,000 requests to each service
 *   npm run fuzz -- --header-cases 1000000 --requests 0
 *   npm run fuzz -- --seed 7 --only 4711           # one case: its mutations and outcome
 *
 * Options: --seed <n> (13), --header-cases <n> (100000), --requests <n> per service (2000),
 * --concurrency <n> (4), --only <index>, --model <id> (the one model both services serve; default
 * the manifest's), --out <dir> (test-artifacts/fuzz).
 * Passes when: every header case ends in a result or a documented refusal, none slower than
 * 1 s (a hang; generous, as the machine may be busy); every answer from either service a result
 * or a problem+json with a documented code for a bad upload and that code's status (so no 5xx
 * but 503 shedding with Retry-After; scripts/lib/fuzz-requests.ts); neither service dies;
 * both are ready throughout and at the end; each service's RSS peak after the first 10% of its
 * requests at most 1.5x what it was then.
 * Writes report.json (counts per outcome and status) and the bytes of every finding to --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzCase, type Mutant } from './lib/fuzz';
import { fuzzRequest, judgeAnswer } from './lib/fuzz-requests';
import { loadSeeds } from './lib/fuzz-seeds';
import { headerCase, runHeaderFuzz } from './lib/header-fuzz';
import {
  BACKEND_PROCESSES,
  machineLoad,
  mainProcess,
  mib,
  serviceStats,
  startLocalStack,
  type LocalStack,
} from './lib/local-stack';
import { REPO_ROOT } from './lib/stack';
import { numberOption, parseToolArgs } from './lib/tool-args';

const values = parseToolArgs(
  'fuzz',
  'Mutated images against the header check in process, then against the running backend and edge;\nevery answer judged. Writes report.json and the bytes of every finding to --out.',
  {
    seed: { type: 'string', default: '13', description: 'seed of the mutations' },
    'header-cases': { type: 'string', default: '100000', description: 'cases against the header check' },
    requests: { type: 'string', default: '2000', description: 'requests to each service' },
    concurrency: { type: 'string', default: '4', description: 'requests in flight at once' },
    only: { type: 'string', description: 'replay one case by its index' },
    model: { type: 'string', description: 'the one model both services serve (else the default)' },
    out: { type: 'string', default: join(REPO_ROOT, 'test-artifacts', 'fuzz'), description: 'report folder' },
  },
);
const seed = numberOption('fuzz', 'seed', values.seed);
const headerCases = numberOption('fuzz', 'header-cases', values['header-cases']);
const requests = numberOption('fuzz', 'requests', values.requests);
const concurrency = numberOption('fuzz', 'concurrency', values.concurrency, 1);
const seeds = loadSeeds();
const failures: string[] = [];
mkdirSync(values.out, { recursive: true });

const save = (name: string, mutant: Mutant) => {
  writeFileSync(join(values.out, `${name}.bin`), mutant.bytes);
  writeFileSync(
    join(values.out, `${name}.json`),
    JSON.stringify({ seed: mutant.seed, mutations: mutant.mutations }),
  );
};

if (values.only !== undefined) {
  const index = numberOption('fuzz', 'only', values.only);
  const mutant = fuzzCase(seeds, seed, index);
  let outcome: string;
  try {
    outcome = headerCase(mutant.bytes, 50_000_000);
  } catch (error) {
    outcome = `FINDING ${String(error)}`;
  }
  save(`case-${seed}-${index}`, mutant);
  console.log(
    JSON.stringify({
      seed,
      index,
      from: mutant.seed,
      mutations: mutant.mutations,
      length: mutant.bytes.length,
      outcome,
    }),
  );
  process.exit(0);
}

const report: Record<string, unknown> = {
  seed,
  model: values.model ?? 'default',
  startedAt: new Date().toISOString(),
  loadBefore: machineLoad(),
};

// 1. In process: the header check the edge runs on every upload (and the backend first).
console.log(`header fuzz: ${headerCases} cases, seed ${seed}`);
const header = runHeaderFuzz({ seeds, seed, count: headerCases });
console.log(
  `  ${header.cases} cases in ${(header.totalMs / 1000).toFixed(1)} s, slowest ${header.slowestMs.toFixed(1)} ms:`,
  header.outcomes,
);
for (const finding of header.findings.slice(0, 50)) {
  save(`header-${seed}-${finding.index}`, finding.mutant);
  failures.push(`header case ${finding.index}: ${finding.problem}`);
}
report.header = {
  cases: header.cases,
  outcomes: header.outcomes,
  findings: header.findings.length,
  slowestMs: header.slowestMs,
};

// 2. Against the running services.
interface ServiceTally {
  statuses: Record<string, number>;
  findings: number;
  readyChecks: number;
  notReady: number;
  rssMiB: number[];
}

async function fuzzService(
  stack: LocalStack,
  target: 'backend' | 'edge',
  offset: number,
): Promise<ServiceTally> {
  const tally: ServiceTally = { statuses: {}, findings: 0, readyChecks: 0, notReady: 0, rssMiB: [] };
  const root = target === 'backend' ? stack.backend.pid : stack.edge.pid;
  // The backend: its server and session processes together; the edge: workerd.
  const main = () =>
    target === 'backend' ? serviceStats(root, BACKEND_PROCESSES) : mainProcess(root, /workerd/);
  let next = 0;
  let done = 0;
  const one = async (index: number) => {
    const request = fuzzRequest(seeds, seed, offset + index, target);
    const { mutant } = request;
    let response: Response;
    try {
      response =
        target === 'backend'
          ? await stack.signedBackendPost(request.pathAndQuery, request.body as Uint8Array, request.headers)
          : await fetch(`${stack.edgeUrl}${request.pathAndQuery}`, {
              method: 'POST',
              body: request.body,
              headers: request.headers,
              signal: AbortSignal.timeout(300_000),
            });
    } catch (error) {
      tally.findings++;
      save(`${target}-${seed}-${offset + index}`, mutant);
      failures.push(`${target} case ${offset + index}: no answer (${String(error)})`);
      return;
    }
    const { key, wrong } = await judgeAnswer(response);
    tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
    if (wrong !== undefined) {
      tally.findings++;
      save(`${target}-${seed}-${offset + index}`, mutant);
      failures.push(`${target} case ${offset + index}: ${wrong} (${mutant.mutations.join(', ')})`);
    }
  };
  const worker = async () => {
    while (next < requests) {
      const index = next++;
      await one(index);
      done++;
      if (done % Math.max(1, Math.floor(requests / 20)) === 0) {
        const ready = await fetch(
          target === 'backend' ? `${stack.backendUrl}/readyz` : `${stack.edgeUrl}/healthz`,
        )
          .then((res) => res.status === 200)
          .catch(() => false);
        tally.readyChecks++;
        if (!ready) tally.notReady++;
        const stats = main();
        tally.rssMiB.push(stats ? mib(stats.rssBytes) : 0);
        console.log(
          `  ${target}: ${done}/${requests}, ready=${ready}, rss=${stats ? mib(stats.rssBytes) : '?'} MiB`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

if (requests > 0) {
  console.log('starting the backend and the edge (free ports, fresh state)');
  // --model: the one model both services serve (e.g. u2netp, ~7x the throughput of IS-Net on CPU:
  // the fuzz is about what reaches the model, decoding and validation, not the model itself).
  const models: Record<string, string> = values.model === undefined ? {} : { MODELS: values.model };
  const stack = await startLocalStack({
    backendEnv: models,
    // Uploads get their answer, not a 429: the edge's own limits are tested elsewhere.
    edgeVars: {
      RATE_LIMIT_RETRY_AFTER_SECONDS: '1',
      ...models,
      ...(values.model !== undefined && { DEFAULT_MODEL: values.model }),
    },
  });
  try {
    for (const [target, offset] of [
      ['backend', 1_000_000],
      ['edge', 2_000_000],
    ] as const) {
      console.log(`${target}: ${requests} requests, ${concurrency} at a time`);
      const started = Date.now();
      const tally = await fuzzService(stack, target, offset);
      const service = target === 'backend' ? stack.backend : stack.edge;
      const alive = !service.hasExited();
      const ready = await fetch(
        target === 'backend' ? `${stack.backendUrl}/readyz` : `${stack.edgeUrl}/healthz`,
      )
        .then((res) => res.status === 200)
        .catch(() => false);
      const warm = Math.floor(tally.rssMiB.length / 10);
      const base = tally.rssMiB[warm] ?? 0;
      const peak = Math.max(...tally.rssMiB.slice(warm), 0);
      const last = tally.rssMiB.at(-1) ?? 0;
      if (peak > 1.5 * base) failures.push(`${target} RSS grew from ${base} to ${peak} MiB`);
      console.log(`  ${target} done in ${((Date.now() - started) / 1000).toFixed(0)} s:`, tally.statuses);
      console.log(
        `  alive=${alive} ready=${ready} rss MiB first=${tally.rssMiB[0]} warm=${base} peak=${peak} last=${last}`,
      );
      if (!alive) failures.push(`${target} died`);
      if (!ready || tally.notReady > 0)
        failures.push(`${target} not ready (${tally.notReady} of ${tally.readyChecks} checks, end ${ready})`);
      report[target] = {
        requests,
        seconds: (Date.now() - started) / 1000,
        ...tally,
        alive,
        readyAtEnd: ready,
      };
    }
  } finally {
    await stack.stop();
  }
}

report.loadAfter = machineLoad();
report.failures = failures;
writeFileSync(join(values.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${machineLoad()}; report: ${join(values.out, 'report.json')}`);
if (failures.length > 0) {
  console.log(`${failures.length} finding(s):\n  ${failures.slice(0, 50).join('\n  ')}`);
  process.exit(1);
}
console.log('no findings');
