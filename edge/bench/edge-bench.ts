/**
 * Edge benchmark on local workerd (wrangler dev), not a test. Prints the machine, then:
 *  1. cache-hit GET /v1/results/<key> vs the trivial GET /healthz of the same Worker, 50 connections;
 *  2. a miss for a 4 MB JPEG: the edge's own time (body read, validation, hashing, lookups) apart
 *     from the backend's, and how long after the answer the result is stored and served.
 * The backend is test/fake-backend.ts (instant answers), so only the edge is measured.
 *   npm run bench -w edge        (BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_MISSES=20)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { parseServerTiming } from '@bgremove/shared';
import { freePort } from '../../scripts/lib/processes';
import { FakeBackend } from '../test/fake-backend';
import { load, summarize, timedRequest, type LoadResult } from './load';
import { makeJpeg } from './make-jpeg';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MISSES = Number(process.env.BENCH_MISSES ?? 20);
const SECRET = 'bench-shared-secret-0123456789';

async function startWorker(backendUrl: string) {
  const port = await freePort();
  const state = await mkdtemp(join(tmpdir(), 'edge-bench-'));
  const child = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '--config',
      '../wrangler.toml',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      state,
      '--log-level',
      'warn',
      '--var',
      `BACKEND_URL:${backendUrl}`,
      '--var',
      `BACKEND_SHARED_SECRET:${SECRET}`,
    ],
    {
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_HIDE_BANNER: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const base = new URL(`http://127.0.0.1:${port}`);
  const agent = new Agent({ keepAlive: true });
  for (let i = 0; ; i++) {
    try {
      if ((await timedRequest(agent, new URL('/healthz', base))).status === 200) break;
    } catch {
      if (i > 120) throw new Error(`wrangler dev did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  agent.destroy();
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await rm(state, { recursive: true, force: true });
  };
  return { base, stop };
}

const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  (${r.requests} ok, ${r.errors} errors)`;

const serverTimingDur = (header: string | string[] | undefined, name: string): number =>
  parseServerTiming(String(header ?? ''))[name] ?? NaN;

async function main() {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  );
  console.log(
    `load average before the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const backend = new FakeBackend({ secret: SECRET });
  const { port } = await backend.start();
  const worker = await startWorker(`http://127.0.0.1:${port}`);
  try {
    const agent = new Agent({ keepAlive: true });
    const small = await makeJpeg(96, 64, 0);
    const seeded = await timedRequest(agent, new URL('/v1/remove-background', worker.base), {
      method: 'POST',
      body: small,
      headers: { 'content-type': 'image/jpeg' },
    });
    if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.status} ${seeded.body.toString()}`);
    const key = String(seeded.headers['x-result-key']);
    const resultUrl = new URL(`/v1/results/${key}`, worker.base);
    const trivialUrl = new URL('/healthz', worker.base);
    await load(resultUrl, CONNECTIONS, 2); // warm the isolate and this colo's cache
    await load(trivialUrl, CONNECTIONS, 2);

    console.log(
      `\n1. cache hit vs trivial route, ${CONNECTIONS} connections, ${SECONDS} s each (local workerd)`,
    );
    const trivial = await load(trivialUrl, CONNECTIONS, SECONDS);
    const hit = await load(resultUrl, CONNECTIONS, SECONDS);
    console.log(`   GET /healthz            ${fmt(trivial)}`);
    console.log(`   GET /v1/results/<key>   ${fmt(hit)}`);
    const trivial1 = await load(trivialUrl, 1, Math.max(2, SECONDS / 2));
    const hit1 = await load(resultUrl, 1, Math.max(2, SECONDS / 2));
    console.log(`   unloaded latency, 1 connection:`);
    console.log(`   GET /healthz            ${fmt(trivial1)}`);
    console.log(`   GET /v1/results/<key>   ${fmt(hit1)}`);
    console.log(
      `   hit/trivial throughput ${((100 * hit.rps) / trivial.rps).toFixed(0)}% (target >= 50%); hit p99 ${hit.p99.toFixed(1)} ms at ${CONNECTIONS} connections, ${hit1.p99.toFixed(1)} ms unloaded (target <= 20 ms)`,
    );

    console.log(`\n2. miss for a 4 MB JPEG, ${MISSES} sequential uploads of distinct images`);
    const jpeg = await makeJpeg(2600, 1950, 4 * 1024 * 1024);
    const validates: number[] = [];
    const hashes: number[] = [];
    await timedRequest(agent, new URL('/v1/remove-background', worker.base), {
      method: 'POST',
      body: Buffer.concat([jpeg, Buffer.from('warm-up')]),
      headers: { 'content-type': 'image/jpeg' },
    }); // the first miss also starts the Durable Object: not measured
    const totals: number[] = [];
    const backends: number[] = [];
    const edges: number[] = [];
    const stored: number[] = [];
    for (let i = 0; i < MISSES; i++) {
      const body = Buffer.concat([jpeg, Buffer.from(`${i}-${Math.random()}`)]); // distinct source hash
      const res = await timedRequest(agent, new URL('/v1/remove-background', worker.base), {
        method: 'POST',
        body,
        headers: { 'content-type': 'image/jpeg' },
      });
      if (res.status !== 200 || res.headers['x-cache'] !== 'MISS')
        throw new Error(`miss ${i}: ${res.status}`);
      const answeredAt = Date.now();
      const backendMs = serverTimingDur(res.headers['server-timing'], 'backend');
      totals.push(res.ms);
      backends.push(backendMs);
      edges.push(res.ms - backendMs);
      validates.push(serverTimingDur(res.headers['server-timing'], 'validate'));
      hashes.push(serverTimingDur(res.headers['server-timing'], 'hash'));
      const url = new URL(String(res.headers['content-location']), worker.base);
      while ((await timedRequest(agent, url, { method: 'HEAD' })).status !== 200)
        await new Promise((r) => setTimeout(r, 2));
      stored.push(Date.now() - answeredAt);
    }
    const t = summarize(totals);
    const b = summarize(backends);
    const e = summarize(edges);
    const s = summarize(stored);
    console.log(`   upload size ${(jpeg.length / 1024 / 1024).toFixed(2)} MiB`);
    console.log(`   client round trip        p50 ${t.p50.toFixed(1)} ms  p99 ${t.p99.toFixed(1)} ms`);
    console.log(
      `   backend (as the edge saw it, incl. sending 4 MB to it)  p50 ${b.p50.toFixed(1)} ms  p99 ${b.p99.toFixed(1)} ms`,
    );
    console.log(
      `   edge overhead = round trip - backend  p50 ${e.p50.toFixed(1)} ms  p99 ${e.p99.toFixed(1)} ms (target <= 40 ms)`,
    );
    const v = summarize(validates);
    const h = summarize(hashes);
    console.log(
      `   of which (edge Server-Timing) reading + validating p50 ${v.p50} ms, hashing p50 ${h.p50} ms`,
    );
    console.log(
      `   stored and served (R2 + cache, after the answer)  p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms`,
    );
    agent.destroy();
  } finally {
    await worker.stop();
    await backend.stop();
  }
}

await main();
