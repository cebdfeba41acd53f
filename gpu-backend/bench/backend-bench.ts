/**
 * `npm run bench -w gpu-backend`: the model's floor, then the real server as a child process,
 * end to end over HTTP (latency, throughput, memory, event loop), then the floor again, all
 * checked against the CPU targets (docs/PERFORMANCE.md, "Targets"). A benchmark, not a test: it prints PASS/FAIL and exits 0.
 * With --sweep, --soak, --batch or --cold-starts it runs the GPU-throughput mode instead
 * (throughput-bench.ts).
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { OutputKind } from '@bgremove/shared';
import { parseConfig, type BackendConfig } from '../src/config';
import { combineFloor, measureFloor } from './floor';
import { measureLatency, measureThroughput, type RequestSample, type ThroughputResult } from './http-load';
import { benchInputs, type BenchInput as Input } from './inputs';
import { describeMachine } from './machine';
import { observed } from './observe';
import { measurePixelWork } from './pixel-work';
import { parseBenchOptions, USAGE, UsageError, type BenchOptions } from './options';
import { formatComparison, formatReport } from './report';
import { latencyCase, throughputCase, type BenchResults, type PhaseObservations } from './results';
import { SERVER_ENTRY, ServerProcess } from './server-process';
import { checkTargets } from './targets';
import { runThroughputBench } from './throughput-bench';
import { formatThroughputReport } from './throughput-report';

const progress = (message: string) => process.stderr.write(`· ${message}\n`);

interface Phase<T> {
  name: string;
  input: Input;
  output: OutputKind;
  result: T;
  observations: PhaseObservations;
}

/** Everything measured through the server, raw; the server is stopped before this returns. */
async function measureServer(
  env: NodeJS.ProcessEnv,
  entry: string,
  inputs: { small: Input; large: Input },
  runs: number,
) {
  progress(`server: node ${entry}`);
  const { server, startup } = await ServerProcess.start(env, entry);
  try {
    const startupEventLoopMaxMs = await server.eventLoopMaxMs();
    const peakRssAfterReadyBytes = server.peakRssBytes();
    const diagnostics = (await server.getJson('/v1/diagnostics')) as {
      providers?: { inUse?: unknown };
      models?: { coldStart?: unknown }[];
    };
    const latency: Phase<RequestSample[]>[] = [];
    for (const [name, input, output] of [
      ['480×360 matte', inputs.small, 'matte'],
      ['480×360 cutout', inputs.small, 'cutout'],
      ['12-MP matte', inputs.large, 'matte'],
      ['12-MP cutout', inputs.large, 'cutout'],
    ] as const) {
      progress(`latency: ${name}, ${runs} runs after a warm-up`);
      const phase = await observed(server, () => measureLatency(server.baseUrl, input.body, output, runs));
      latency.push({ name, input, output, ...phase });
    }
    const throughput: Phase<ThroughputResult>[] = [];
    for (const [name, input] of [
      ['12-MP matte', inputs.large],
      ['480×360 matte', inputs.small],
    ] as const) {
      progress(`throughput: ${name}, concurrency 2 × ${runs} requests`);
      const phase = await observed(server, () =>
        measureThroughput(server.baseUrl, input.body, 'matte', 2, runs),
      );
      throughput.push({ name, input, output: 'matte', ...phase });
    }
    // The raw matte of the small photo, for the in-process pixel-work timings.
    const rawMatte = await fetch(
      `${server.baseUrl}/v1/remove-background?output=matte&refine=none&subject=all`,
      {
        method: 'POST',
        body: inputs.small.body,
        headers: { 'content-type': 'image/jpeg' },
      },
    );
    const rawMatteBytes = Buffer.from(await rawMatte.arrayBuffer());
    return {
      rawMatteBytes,
      port: new URL(server.baseUrl).port,
      startup,
      startupEventLoopMaxMs,
      diagnostics,
      latency,
      throughput,
      memory: {
        peakRssBytes: server.peakRssBytes(),
        rssAtEndBytes: server.rssBytes(),
        peakRssAfterReadyBytes,
      },
    };
  } finally {
    await server.stop();
  }
}

async function run(options: BenchOptions, model: string | undefined): Promise<BenchResults> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, ORT_PROVIDERS: options.provider };
  if (model !== undefined) env.MODELS = model; // the floor and the server both take MODELS[0]
  delete env.BACKEND_SHARED_SECRET; // unsigned requests; the signature check is not what is measured
  const config: BackendConfig = parseConfig(env);
  env.MODELS_DIR = config.MODELS_DIR; // the weights the floor ran, whichever build is spawned
  const machine = describeMachine(options.provider, config.ORT_INTRA_OP_THREADS);
  const small = await benchInputs.small();
  const large = await benchInputs.twelveMegapixel();

  progress(`floor (before the server): ${options.runs} runs of session.run after a warm-up`);
  const floorBefore = await measureFloor(config, small.body, options.runs);
  const entry = options.server ?? SERVER_ENTRY;
  const measured = await measureServer(env, entry, { small, large }, options.runs);
  progress(`floor (after the server): ${options.runs} runs of session.run after a warm-up`);
  const floor = combineFloor(floorBefore, await measureFloor(config, small.body, options.runs));
  progress(`pixel work: refinement and colour estimate, ${options.runs} runs in process`);
  const pixelWork = await measurePixelWork(Buffer.from(small.body), measured.rawMatteBytes, options.runs);

  const latency = measured.latency.map((p) =>
    latencyCase(p.name, p.input.image, p.output, p.result, floor.summary, p.observations),
  );
  const throughput = measured.throughput.map((p) =>
    throughputCase(p.name, p.input.image, p.output, p.result, p.observations),
  );
  const phases = [...latency, ...throughput];
  const caseNamed = (name: string) => latency.find((c) => c.name === name)!;
  return {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    runs: options.runs,
    machine,
    floor,
    server: {
      command: `node ${entry} (PORT=${measured.port}, MODELS_DIR=${config.MODELS_DIR}, ORT_PROVIDERS=${options.provider})`,
      startup: measured.startup,
      startupEventLoopMaxMs: measured.startupEventLoopMaxMs,
      providersInUse: measured.diagnostics.providers?.inUse,
      coldStart: measured.diagnostics.models?.[0]?.coldStart,
    },
    latency,
    throughput,
    pixelWork,
    memory: measured.memory,
    eventLoop: {
      maxMs: Math.max(...phases.map((p) => p.eventLoopMaxMs)),
      probeMaxMs: Math.max(...phases.map((p) => p.probeMaxMs)),
      source:
        "server's bgremove_nodejs_eventloop_lag_max_seconds from /metrics, reset per phase; includes the 10 ms sampling interval",
    },
    targets: checkTargets({
      floorMedianMs: floor.summary.median,
      matte12MpMedianMs: caseNamed('12-MP matte').summary.median,
      matte12MpInferenceMs: caseNamed('12-MP matte').stages.inference!,
      cutout12MpMedianMs: caseNamed('12-MP cutout').summary.median,
      cutout12MpInferenceMs: caseNamed('12-MP cutout').stages.inference!,
      peakRssBytes: measured.memory.peakRssBytes,
    }),
    loadAverageAtEnd: loadavg(),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (options.throughput === undefined && options.models !== undefined && options.models.length > 1) {
    // Several models in one run: each benched in full in turn, then side by side.
    const all: BenchResults[] = [];
    for (const model of options.models) {
      progress(`model ${model} (${all.length + 1} of ${options.models.length})`);
      all.push(await run(options, model));
    }
    process.stdout.write(`${all.map(formatReport).join('\n\n')}\n\n${formatComparison(all)}\n`);
    if (options.json) {
      await writeFile(options.json, `${JSON.stringify({ models: all }, null, 2)}\n`);
      progress(`results written to ${options.json}`);
    }
    return;
  }
  const results = options.throughput
    ? await runThroughputBench(options, options.throughput)
    : await run(options, options.models?.[0]);
  process.stdout.write(`${'mode' in results ? formatThroughputReport(results) : formatReport(results)}\n`);
  if (options.json) {
    await writeFile(options.json, `${JSON.stringify(results, null, 2)}\n`);
    progress(`results written to ${options.json}`);
  }
}

await main();
