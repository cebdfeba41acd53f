/** Plain-text report of the GPU-throughput mode, for a terminal and docs/PERFORMANCE.md. */
import { table } from './report';
import { SOAK_MAX_GROWTH } from './soak';
import { SWEEP_TARGETS } from './sweep';
import type { ThroughputResults } from './throughput-bench';

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const ips = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : '–');
const loads = (l: readonly number[]) => l.map((v) => v.toFixed(2)).join(' ');
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

function machineSection(r: ThroughputResults): string {
  const m = r.machine;
  return [
    `machine   ${m.cpuModel}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.kernel}`,
    `gpu       ${r.gpus?.join('; ') ?? 'none (no nvidia-smi)'}`,
    `software  node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, sharp ${m.sharp} (libvips ${m.libvips})`,
    `load avg  ${loads(m.loadAverageAtStart)} at start, ${loads(r.loadAverageAtEnd)} at end; whole bench ${r.wallSeconds.toFixed(0)} s`,
  ].join('\n');
}

function serverSection(r: ThroughputResults): string {
  const env = Object.entries(r.serverEnv)
    .map(([k, v]) => `${k}=${v ?? '(default)'}`)
    .join(' ');
  const d = r.diagnostics;
  const lines = [`SERVER: ${r.serverCommand}`, `  env ${env}`];
  if (d) {
    lines.push(
      `  /v1/diagnostics providers: requested ${JSON.stringify(d.requested)}, inUse ${JSON.stringify(d.inUse)}, everyNodeOnFirstProvider ${JSON.stringify(d.everyNodeOnFirstProvider)}, available ${JSON.stringify(d.available)}, sessionsPerModel ${JSON.stringify(d.sessionsPerModel)}`,
      `  nodes by provider (ORT profiler, warm-up run) ${JSON.stringify(d.nodesByProvider)}; limits ${JSON.stringify(d.limits)}`,
    );
  }
  return lines.join('\n');
}

function floorSection(r: ThroughputResults): string {
  const lines: string[] = [];
  const f = r.floor;
  if (f) {
    const part = (label: string, run: typeof f.before) =>
      `  ${label} median ${ms(run.summary.median)} ms, p90 ${ms(run.summary.p90)} ms (min ${ms(run.summary.min)}); create ${ms(run.createMs)} ms, warm-up ${ms(run.warmupMs)} ms`;
    lines.push(
      `FLOOR: back-to-back session.run, batch 1, ${f.before.input.width}×${f.before.input.height}, fetching only "${f.before.output}", server's session options`,
      `  all    median ${ms(f.summary.median)} ms (n=${f.summary.n}): ${ips(f.imagesPerSecond)} images/s`,
      part('before', f.before),
      part('after ', f.after),
    );
  }
  const b = r.batchFloor;
  if (b) {
    const one = b.sizes.find((s) => s.batch === 1)!;
    lines.push(
      `BATCH FLOOR: ${b.file}, one session (create ${ms(b.createMs)} ms), ${b.rounds} rounds, sizes interleaved`,
      table(
        ['batch', 'run median', 'run min', 'per image', 'images/s', 'vs batch 1'],
        b.sizes.map((s) => [
          String(s.batch),
          ms(s.summary.median),
          ms(s.summary.min),
          ms(s.perImageMs),
          ips(s.imagesPerSecond),
          `${(s.imagesPerSecond / one.imagesPerSecond).toFixed(2)}×`,
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function sweepSection(r: ThroughputResults): string {
  return r.sweeps
    .map((s) => {
      const rows = s.levels.map((l) => [
        String(l.concurrency),
        String(l.requests),
        String(l.errorCount),
        ips(l.imagesPerSecond),
        pct(l.toFloor),
        ms(l.latencyMs.p50),
        ms(l.latencyMs.p99),
        (l.latencyMs.p99 / l.latencyMs.p50).toFixed(2),
        ms(l.stages.decode ?? Number.NaN),
        ms(l.stages.inference ?? Number.NaN),
        ms(l.stages.encode ?? Number.NaN),
        ms(l.stages.other ?? Number.NaN),
        mb(l.rssBytes),
        ms(l.eventLoopMaxMs),
        loads(l.loadAverage.slice(0, 1)),
      ]);
      const errors = s.levels.flatMap((l) =>
        Object.entries(l.errors).map(([m, n]) => `  conc ${l.concurrency}: ${n} × ${m}`),
      );
      return [
        `SWEEP: ${s.image.label}, ${(s.image.bytes / 1e6).toFixed(2)} MB, matte. ×floor: images/s ÷ floor images/s; stages: Server-Timing medians (ms); other: handler time outside the stages (queueing)`,
        table(
          [
            'conc',
            'requests',
            'errors',
            'images/s',
            '×floor',
            'p50',
            'p99',
            'p99/p50',
            'decode',
            'infer',
            'encode',
            'other',
            'RSS',
            'loop max',
            'load',
          ],
          rows,
        ),
        `  knee (lowest concurrency with ≥ ${SWEEP_TARGETS.kneeFraction * 100} % of the best ${ips(s.best.imagesPerSecond)} images/s): ${s.knee.concurrency}`,
        ...errors,
      ].join('\n');
    })
    .join('\n\n');
}

function soakSection(r: ThroughputResults): string {
  const s = r.soak;
  if (!s) return '';
  const gpu = s.samples.some((x) => x.gpuMemoryMiB !== undefined)
    ? `; GPU memory (nvidia-smi) ${s.samples.map((x) => x.gpuMemoryMiB ?? '?').join(' ')} MiB`
    : '';
  return [
    `SOAK: ${s.requests} requests, ${s.image.label} matte, concurrency ${s.concurrency}; ${ips(s.imagesPerSecond)} images/s, p50 ${ms(s.latencyMs.p50)} ms, p99 ${ms(s.latencyMs.p99)} ms, ${s.errorCount} errors`,
    `  RSS every ${s.sampleEvery} requests (MB): ${s.samples.map((x) => (x.rssBytes / 1e6).toFixed(0)).join(' ')}${gpu}`,
    `  first-quartile median ${mb(s.firstQuartileMedianBytes)}, last-quartile median ${mb(s.lastQuartileMedianBytes)}: growth ${(s.growth * 100).toFixed(1)} %; VmHWM ${mb(s.peakRssBytes)}`,
  ].join('\n');
}

function coldStartSection(r: ThroughputResults): string {
  if (r.coldStarts.length === 0) return '';
  const fastest = r.coldStarts.reduce((a, b) => (b.startup.readyMs < a.startup.readyMs ? b : a));
  return [
    `COLD START: fastest of ${r.coldStarts.length} (spawn → /readyz 200: ${r.coldStarts.map((c) => ms(c.startup.readyMs)).join(', ')} ms)`,
    table(
      ['part', 'ms'],
      [
        ...fastest.parts.map((p) => [p.part, ms(p.ms)]),
        ['total: spawn → /readyz 200', ms(fastest.startup.readyMs)],
      ],
    ),
  ].join('\n');
}

function targetsSection(r: ThroughputResults): string {
  const lines = ['TARGETS (GPU throughput, docs/PERFORMANCE.md)'];
  for (const s of r.sweeps) {
    const name = `${((s.image.width * s.image.height) / 1e6).toFixed(0)}-MP (${s.image.width}×${s.image.height})`;
    lines.push(
      `  ${verdict(s.best.toFloor >= SWEEP_TARGETS.toFloor)}  ${name}: end-to-end ≥ ${SWEEP_TARGETS.toFloor * 100} % of the floor: ${pct(s.best.toFloor)} (${ips(s.best.imagesPerSecond)} images/s at concurrency ${s.best.concurrency} vs ${ips(r.floor?.imagesPerSecond ?? Number.NaN)})`,
      `  ${verdict(s.knee.latencyMs.p99 <= SWEEP_TARGETS.p99ToP50 * s.knee.latencyMs.p50)}  ${name}: p99 ≤ ${SWEEP_TARGETS.p99ToP50} × p50 at the knee (concurrency ${s.knee.concurrency}): p99 ${ms(s.knee.latencyMs.p99)} ms = ${(s.knee.latencyMs.p99 / s.knee.latencyMs.p50).toFixed(2)} × p50 ${ms(s.knee.latencyMs.p50)} ms`,
    );
  }
  if (r.soak) {
    lines.push(
      `  ${verdict(r.soak.growth <= SOAK_MAX_GROWTH)}  no memory growth over ${r.soak.requests} requests (≤ ${SOAK_MAX_GROWTH * 100} % first → last quartile): ${(r.soak.growth * 100).toFixed(1)} %`,
    );
  }
  const every = r.diagnostics?.everyNodeOnFirstProvider;
  if (every && typeof every === 'object') {
    const all = Object.values(every).every((v) => v === true);
    lines.push(`  ${all ? 'PASS' : 'FAIL'}  every node on the first provider: ${JSON.stringify(every)}`);
  }
  return lines.length > 1 ? lines.join('\n') : '';
}

export function formatThroughputReport(r: ThroughputResults): string {
  return [
    machineSection(r),
    serverSection(r),
    floorSection(r),
    sweepSection(r),
    soakSection(r),
    coldStartSection(r),
    targetsSection(r),
  ]
    .filter(Boolean)
    .join('\n\n');
}
