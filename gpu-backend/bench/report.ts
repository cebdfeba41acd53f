/** Plain-text report of one run, for a terminal and for pasting into docs/PERFORMANCE.md. */
import { STAGES } from './http-load';
import type { BenchResults } from './results';

const ms = (v: number) => v.toFixed(0);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const ratio = (v: number) => `${v.toFixed(2)}×`;

/** Columns padded to their widest cell; the first left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function machineSection(r: BenchResults): string {
  const m = r.machine;
  return [
    `machine   ${m.cpuModel}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.kernel}`,
    `software  node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, sharp ${m.sharp} (libvips ${m.libvips})`,
    `provider  ${m.provider}, ${m.intraOpThreads} intra-op threads; model ${r.floor.before.model} (${r.floor.before.file})`,
    `load avg  ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')} at start, ${r.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' ')} at end`,
    `runs      ${r.runs} timed per measurement after one warm-up; whole bench ${r.wallSeconds.toFixed(0)} s`,
  ].join('\n');
}

function floorSection(r: BenchResults): string {
  const { before, after, summary } = r.floor;
  const part = (label: string, f: typeof before) =>
    `  ${label} median ${ms(f.summary.median)} ms, p90 ${ms(f.summary.p90)} ms (min ${ms(f.summary.min)}, max ${ms(f.summary.max)}); session create ${ms(f.createMs)} ms, warm-up run ${ms(f.warmupMs)} ms`;
  return [
    `FLOOR: session.run on a preprocessed ${before.input.width}×${before.input.height} tensor (car-1), fetching only "${before.output}", server's session options`,
    `  all   median ${ms(summary.median)} ms, p90 ${ms(summary.p90)} ms (min ${ms(summary.min)}, max ${ms(summary.max)}, n=${summary.n})`,
    part('before', before),
    part('after ', after),
  ].join('\n');
}

function serverSection(r: BenchResults): string {
  const s = r.server;
  return [
    `SERVER: ${s.command}`,
    `  spawn → listening ${ms(s.startup.listeningMs)} ms, spawn → /readyz 200 ${ms(s.startup.readyMs)} ms; providers in use ${JSON.stringify(s.providersInUse)}`,
    `  cold start (server's own figures, ms): ${JSON.stringify(s.coldStart)}`,
  ].join('\n');
}

function latencySection(r: BenchResults): string {
  const header = [
    'case',
    'input',
    'median',
    'p90',
    '×floor',
    'p90×fl',
    '×inf',
    ...STAGES,
    'other',
    'http',
    'out',
  ];
  const rows = r.latency.map((c) => [
    c.name,
    `${(c.image.bytes / 1e6).toFixed(2)} MB`,
    ms(c.summary.median),
    ms(c.summary.p90),
    ratio(c.ratioToFloor.median),
    ratio(c.ratioToFloor.p90),
    ratio(c.ratioToServerInference),
    ...STAGES.map((st) => ms(c.stages[st] ?? 0)),
    ms(c.stages.other ?? 0),
    ms(c.stages.http ?? 0),
    `${(c.outputBytes / 1e6).toFixed(2)} MB`,
  ]);
  return [
    'END-TO-END LATENCY (ms, client-side, sequential requests). ×floor: median / floor median; p90×fl: p90 / floor p90;',
    "×inf: median / the same requests' server-side inference (immune to drift between floor and server runs).",
    'Stages: medians of Server-Timing. other: handler time outside the stages (body read, queue);',
    'http: client time beyond the handler (upload and download over loopback).',
    table(header, rows),
  ].join('\n');
}

function throughputSection(r: BenchResults): string {
  const rows = r.throughput.map((t) => [
    t.name,
    String(t.concurrency),
    String(t.images),
    (t.wallMs / 1000).toFixed(1),
    t.imagesPerSecond.toFixed(3),
    ms(t.latency.median),
    ms(t.latency.p90),
  ]);
  return [
    'THROUGHPUT (plain fetch loops)',
    table(['case', 'conc', 'images', 'wall s', 'images/s', 'lat median', 'lat p90'], rows),
  ].join('\n');
}

function resourcesSection(r: BenchResults): string {
  const phases = [
    ...r.latency.map((c) => ({ ...c, kind: 'latency' })),
    ...r.throughput.map((t) => ({ ...t, kind: `conc ${t.concurrency}` })),
  ];
  const rows = phases.map((p) => [
    `${p.name} (${p.kind})`,
    ms(p.eventLoopMaxMs),
    ms(p.probeMaxMs),
    mb(p.peakRssBytes),
  ]);
  return [
    'MEMORY AND EVENT LOOP (server process)',
    `  peak RSS (VmHWM at the end) ${mb(r.memory.peakRssBytes)}; after ready ${mb(r.memory.peakRssAfterReadyBytes)}; RSS at the end ${mb(r.memory.rssAtEndBytes)}`,
    `  event-loop max delay ${ms(r.eventLoop.maxMs)} ms (${r.eventLoop.source}); slowest /healthz probe ${ms(r.eventLoop.probeMaxMs)} ms`,
    `  startup (spawn → ready) event-loop max ${ms(r.server.startupEventLoopMaxMs)} ms`,
    table(['phase', 'loop max ms', 'probe max ms', 'VmHWM after'], rows),
  ].join('\n');
}

function pixelWorkSection(r: BenchResults): string {
  const p = r.pixelWork;
  return [
    'PIXEL WORK (in process, one thread, medians; the server runs it on its pixel workers)',
    `  matte refinement at the model's 1024² (the same for a 1-MP and a 12-MP photo): ${ms(p.refineMs)} ms`,
    `  cutout colour estimate: 1 MP ${ms(p.foreground1MpMs)} ms, 12 MP ${ms(p.foreground12MpMs)} ms`,
  ].join('\n');
}

function targetsSection(r: BenchResults): string {
  return [
    'TARGETS (CPU, docs/PERFORMANCE.md)',
    ...r.targets.map((t) => `  ${t.verdict.padEnd(4)}  ${t.name}: ${t.detail}`),
  ].join('\n');
}

export function formatReport(r: BenchResults): string {
  return [
    machineSection(r),
    floorSection(r),
    serverSection(r),
    latencySection(r),
    throughputSection(r),
    resourcesSection(r),
    pixelWorkSection(r),
    targetsSection(r),
  ].join('\n\n');
}

/**
 * Several models benched in one run, side by side: the floor, end-to-end medians and throughput,
 * memory, each with its ratio to the first model (× < 1: faster or smaller than the first).
 */
export function formatComparison(all: readonly BenchResults[]): string {
  const [first] = all;
  if (first === undefined) return '';
  const latency = (r: BenchResults, name: string) => r.latency.find((c) => c.name === name)?.summary.median;
  const perSecond = (r: BenchResults, name: string) =>
    r.throughput.find((t) => t.name === name)?.imagesPerSecond;
  const metrics: [string, (r: BenchResults) => number | undefined, (v: number) => string][] = [
    ['floor median (ms)', (r) => r.floor.summary.median, ms],
    ['480×360 matte median (ms)', (r) => latency(r, '480×360 matte'), ms],
    ['480×360 cutout median (ms)', (r) => latency(r, '480×360 cutout'), ms],
    ['12-MP matte median (ms)', (r) => latency(r, '12-MP matte'), ms],
    ['12-MP cutout median (ms)', (r) => latency(r, '12-MP cutout'), ms],
    ['12-MP matte images/s (conc 2)', (r) => perSecond(r, '12-MP matte'), (v) => v.toFixed(3)],
    ['480×360 matte images/s (conc 2)', (r) => perSecond(r, '480×360 matte'), (v) => v.toFixed(3)],
    ['server spawn → ready (ms)', (r) => r.server.startup.readyMs, ms],
    ['peak RSS (MB)', (r) => r.memory.peakRssBytes, (v) => (v / 1e6).toFixed(0)],
  ];
  const header = [
    'measure',
    ...all.flatMap((r, i) => (i === 0 ? [model(r)] : [model(r), `×${model(first)}`])),
  ];
  const rows = metrics.map(([name, get, format]) => {
    const base = get(first);
    const cells = all.flatMap((r, i) => {
      const value = get(r);
      const shown = value === undefined ? '-' : format(value);
      if (i === 0) return [shown];
      return [shown, value === undefined || base === undefined || base === 0 ? '-' : ratio(value / base)];
    });
    return [name, ...cells];
  });
  return [
    `MODELS COMPARED (this run, one after another: ${all.map(model).join(', ')}; ×: ratio to ${model(first)})`,
    table(header, rows),
  ].join('\n');
}

const model = (r: BenchResults) => r.floor.before.model;
