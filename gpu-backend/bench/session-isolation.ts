/**
 * `npm run bench:sessions -w gpu-backend`: what running each ONNX session in its own child
 * process (the server's design: a crash takes down only that process) costs against a worker
 * thread (the design before), measured in one run so the ratios hold on a loaded machine:
 *
 * 1. Transport alone: one 1024² task's bytes, 3 MB of RGB in and a 1 MB matte out, to an echo on
 *    a worker thread (postMessage, structured clone) and to an echo child process (IPC with V8
 *    serialization, as ModelSession sends them), interleaved; medians and their ratio.
 * 2. The real model (IS-Net, the first of MODELS) on a worker thread and in a session process
 *    (ModelSession, the production class), interleaved: each run's round trip minus the
 *    session's own preprocess + inference + postprocess time (what the transport adds as the
 *    server sees it), the load time (start → session created), and RSS per session (the
 *    child's RSS; for the thread, what it added to this process's RSS). Both from source under
 *    tsx; the built session process (dist/session-worker.js, no tsx) is loaded once more for the
 *    production start-up time.
 * 3. With --compare-server <other build's dist/server.js> (e.g. one whose sessions are threads):
 *    cold starts of that server and of this package's built server, interleaved (--cold-starts,
 *    default 3 each): spawn → /readyz 200 and RSS once ready (the server and its session
 *    processes together).
 *
 * A benchmark, not a test: it prints its figures (and writes them as JSON with --json) and exits 0.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { findModel } from '@bgremove/shared';
import { parseConfig } from '../src/config';
import { ModelSession } from '../src/inference/model-session';
import type {
  RunResult,
  SessionReply,
  SessionRequest,
  SessionResult,
  SessionTask,
  SessionWorkerData,
} from '../src/inference/worker-protocol';
import { describeMachine } from './machine';
import { SERVER_ENTRY, ServerProcess } from './server-process';
import { summarize, type Summary } from './stats';

const USAGE = `usage: npm run bench:sessions -w gpu-backend -- [--rounds N] [--runs N] [--json out.json]
       [--compare-server /path/to/other/dist/server.js [--cold-starts N]]
  --rounds          transport round trips per variant, after 10 warm-ups (default 200)
  --runs            model runs per variant, after one warm-up (default 5)
  --json            also write the results to this file
  --compare-server  another build's server: cold starts of it and of this build, interleaved
  --cold-starts     starts of each server with --compare-server (default 3)`;

const progress = (message: string) => process.stderr.write(`· ${message}\n`);
const MiB = 2 ** 20;
const SIDE = 1024;

/** A process's resident set, from /proc (Linux). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Request/reply over a worker thread's port or a child's IPC channel. */
class Endpoint {
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: SessionReply) => void>();
  readonly ready: Promise<void>;

  constructor(private readonly target: Worker | ChildProcess) {
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    target.on('message', (reply: SessionReply) => {
      if ('ready' in reply) return markReady();
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  async send(task: SessionTask): Promise<SessionResult> {
    const id = ++this.nextId;
    const reply = new Promise<SessionReply>((resolve) => this.waiting.set(id, resolve));
    const request: SessionRequest = { id, task };
    if (this.target instanceof Worker) this.target.postMessage(request);
    else this.target.send(request);
    const answer = await reply;
    if ('ready' in answer) throw new Error('unexpected ready');
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.result;
  }

  async close(): Promise<void> {
    if (this.target instanceof Worker) await this.target.terminate();
    else {
      const exited = new Promise((r) => this.target.once('exit', r));
      this.target.kill('SIGKILL');
      await exited;
    }
  }
}

// The echo: a 1 MB "matte" back for 3 MB of RGB in, as a session's reply.
const ECHO_BODY = `const matte = new Uint8Array(m.task.rgb.length / 3); matte[0] = m.task.rgb[0];
  reply({ id: m.id, ok: true, result: { kind: 'ran', matte, timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 } } });`;

function threadEcho(): Endpoint {
  return new Endpoint(
    new Worker(
      `const { parentPort } = require('node:worker_threads'); const reply = (r) => parentPort.postMessage(r);
       parentPort.on('message', (m) => { ${ECHO_BODY} }); reply({ ready: true });`,
      { eval: true },
    ),
  );
}

function processEcho(): Endpoint {
  return new Endpoint(
    spawn(
      process.execPath,
      [
        '-e',
        `const reply = (r) => process.send(r); process.on('message', (m) => { ${ECHO_BODY} }); reply({ ready: true });`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' },
    ),
  );
}

function runTask(rgb: Uint8Array): SessionTask {
  return { kind: 'run', rgb, width: SIDE, height: SIDE };
}

/** The round trip of `send`, in ms. */
async function time(send: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await send();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '200' },
      runs: { type: 'string', default: '5' },
      json: { type: 'string' },
      'compare-server': { type: 'string' },
      'cold-starts': { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rounds = Number(values.rounds);
  const runs = Number(values.runs);
  const coldStarts = Number(values['cold-starts']);
  const other = values['compare-server'];
  if ([rounds, runs, coldStarts].some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write(`--rounds, --runs and --cold-starts take positive integers\n${USAGE}\n`);
    process.exit(2);
  }
  if (other !== undefined && !existsSync(other)) {
    process.stderr.write(`--compare-server: ${other} does not exist\n`);
    process.exit(2);
  }
  const config = parseConfig(process.env);
  const spec = findModel(config.MODELS[0]!, config.manifest)!;
  const data: SessionWorkerData = {
    modelPath: join(config.MODELS_DIR, spec.file),
    spec,
    providers: config.ORT_PROVIDERS,
    intraOpThreads: config.ORT_INTRA_OP_THREADS,
    memoryProfile: config.ORT_MEMORY_PROFILE,
  };
  const machine = describeMachine(config.ORT_PROVIDERS[0]!, config.ORT_INTRA_OP_THREADS);
  const started = performance.now();

  // 1. Transport alone.
  const rgb = new Uint8Array(SIDE * SIDE * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 2654435761) >>> 24;
  progress(`transport: ${rounds} round trips each, 3 MB in / 1 MB out, thread and process interleaved`);
  const echoes = { thread: threadEcho(), process: processEcho() };
  await Promise.all([echoes.thread.ready, echoes.process.ready]);
  const transport = { thread: [] as number[], process: [] as number[] };
  for (let i = 0; i < 10 + rounds; i++) {
    const order = i % 2 === 0 ? (['thread', 'process'] as const) : (['process', 'thread'] as const);
    for (const variant of order) {
      const ms = await time(() => echoes[variant].send(runTask(rgb)));
      if (i >= 10) transport[variant].push(ms);
    }
  }
  await Promise.all([echoes.thread.close(), echoes.process.close()]);

  // 2. The real model. The thread first, while this process has not loaded ONNX Runtime yet, so
  // that what it adds to this process's RSS is all of what a thread session costs.
  const input = new Uint8Array(spec.input.width * spec.input.height * 3);
  for (let y = 0, i = 0; y < spec.input.height; y++)
    for (let x = 0; x < spec.input.width; x++, i += 3) {
      input[i] = (x * 255) / spec.input.width;
      input[i + 1] = (y * 255) / spec.input.height;
      input[i + 2] = 128;
    }
  const model = (task: Promise<SessionResult>) => task as Promise<RunResult>;
  progress(`model ${spec.id}: a session on a worker thread (load, warm-up)`);
  const rssBeforeThread = process.memoryUsage().rss;
  let t0 = performance.now();
  const thread = new Endpoint(
    // tsx's loader registered in the thread itself (`--import tsx` in a worker's execArgv does not
    // take here), then the TypeScript entry.
    new Worker(
      `import('tsx/esm/api').then((tsx) => tsx.register()).then(() => import(${JSON.stringify(
        new URL('./thread-session.ts', import.meta.url).href,
      )}))`,
      {
        eval: true,
        workerData: data,
        env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
      },
    ),
  );
  await thread.ready;
  await thread.send({ kind: 'load' });
  const threadLoadMs = performance.now() - t0;
  await thread.send(runTask(input));
  const threadRss = process.memoryUsage().rss - rssBeforeThread;

  progress(`model ${spec.id}: a session process (ModelSession; load, warm-up)`);
  t0 = performance.now();
  const session = new ModelSession({
    spec,
    modelPath: data.modelPath,
    providers: data.providers,
    intraOpThreads: data.intraOpThreads,
    memoryProfile: data.memoryProfile,
    sessions: 1,
  });
  await session.load();
  const processLoadMs = performance.now() - t0;
  await session.run(input, spec.input.width, spec.input.height);
  const processRss = rssOf(session.pids[0]!);

  progress(`model ${spec.id}: ${runs} runs each, interleaved`);
  const own = (r: RunResult) => r.timings.preprocessMs + r.timings.inferenceMs + r.timings.postprocessMs;
  const real = {
    thread: { roundTrip: [] as number[], overhead: [] as number[], inference: [] as number[] },
    process: { roundTrip: [] as number[], overhead: [] as number[], inference: [] as number[] },
  };
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? (['thread', 'process'] as const) : (['process', 'thread'] as const);
    for (const variant of order) {
      const t = performance.now();
      const result =
        variant === 'thread'
          ? await model(thread.send(runTask(input)))
          : await session.run(input, spec.input.width, spec.input.height);
      const ms = performance.now() - t;
      real[variant].roundTrip.push(ms);
      real[variant].overhead.push(ms - own(result));
      real[variant].inference.push(result.timings.inferenceMs);
    }
  }
  await thread.close();
  await session.close();

  // The production start-up: the bundled session process, no TypeScript loader.
  const built = new URL('../dist/session-worker.js', import.meta.url).pathname;
  let builtLoadMs: number | undefined;
  let builtRss: number | undefined;
  if (existsSync(built)) {
    progress('model: the built session process (dist/session-worker.js): load');
    t0 = performance.now();
    const child = fork(built, [JSON.stringify(data)], {
      serialization: 'advanced',
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const endpoint = new Endpoint(child);
    await endpoint.ready;
    await endpoint.send({ kind: 'load' });
    builtLoadMs = performance.now() - t0;
    builtRss = rssOf(child.pid!);
    await endpoint.close();
  }

  // 3. Whole-server cold starts, this build against another, interleaved.
  let servers: { entry: string; readyMs: Summary; rssAfterReadyBytes: Summary }[] | undefined;
  if (other !== undefined) {
    const entries = [other, SERVER_ENTRY];
    const samples = entries.map(() => ({ readyMs: [] as number[], rss: [] as number[] }));
    const env: NodeJS.ProcessEnv = { ...process.env, MODELS: spec.id, MODELS_DIR: config.MODELS_DIR };
    delete env.BACKEND_SHARED_SECRET;
    for (let i = 0; i < coldStarts; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        progress(`cold start ${i + 1}/${coldStarts}: node ${entries[k]}`);
        const { server, startup } = await ServerProcess.start(env, entries[k]);
        samples[k]!.readyMs.push(startup.readyMs);
        samples[k]!.rss.push(server.rssBytes());
        await server.stop();
      }
    }
    servers = entries.map((entry, k) => ({
      entry,
      readyMs: summarize(samples[k]!.readyMs),
      rssAfterReadyBytes: summarize(samples[k]!.rss),
    }));
  }

  const s = (xs: number[]) => summarize(xs);
  const results = {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    machine,
    model: spec.id,
    transport: {
      bytesIn: rgb.length,
      bytesOut: rgb.length / 3,
      rounds,
      threadMs: s(transport.thread),
      processMs: s(transport.process),
    },
    sessions: {
      runs,
      thread: {
        loadMs: threadLoadMs,
        rssBytes: threadRss,
        roundTripMs: s(real.thread.roundTrip),
        overheadMs: s(real.thread.overhead),
        inferenceMs: s(real.thread.inference),
      },
      process: {
        loadMs: processLoadMs,
        rssBytes: processRss,
        roundTripMs: s(real.process.roundTrip),
        overheadMs: s(real.process.overhead),
        inferenceMs: s(real.process.inference),
      },
      builtProcess: builtLoadMs === undefined ? undefined : { loadMs: builtLoadMs, rssBytes: builtRss },
    },
    servers,
    loadAverageAtEnd: loadavg(),
    wallSeconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${format(results)}\n`);
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
    progress(`results written to ${values.json}`);
  }
}

const f = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
const line = (x: Summary) => `median ${f(x.median)} ms, p90 ${f(x.p90)} ms`;

function format(r: {
  machine: ReturnType<typeof describeMachine>;
  model: string;
  transport: { rounds: number; threadMs: Summary; processMs: Summary };
  sessions: {
    runs: number;
    thread: {
      loadMs: number;
      rssBytes: number;
      roundTripMs: Summary;
      overheadMs: Summary;
      inferenceMs: Summary;
    };
    process: {
      loadMs: number;
      rssBytes: number;
      roundTripMs: Summary;
      overheadMs: Summary;
      inferenceMs: Summary;
    };
    builtProcess: { loadMs: number; rssBytes: number | undefined } | undefined;
  };
  servers: { entry: string; readyMs: Summary; rssAfterReadyBytes: Summary }[] | undefined;
  loadAverageAtEnd: number[];
}): string {
  const { machine: m, transport: t, sessions: x } = r;
  const load = (l: number[]) => l.map((v) => v.toFixed(1)).join(' ');
  return [
    `session isolation: worker thread (before) vs child process (now), one run`,
    `machine   ${m.cpuModel}, ${m.cores} cores, node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, ${m.provider}; load ${load(m.loadAverageAtStart)} → ${load(r.loadAverageAtEnd)}`,
    ``,
    `transport (3 MB RGB in, 1 MB matte out, echo; ${t.rounds} round trips each)`,
    `  thread   ${line(t.threadMs)}`,
    `  process  ${line(t.processMs)}`,
    `  ratio    ×${(t.processMs.median / t.threadMs.median).toFixed(2)} (process / thread, medians); +${f(t.processMs.median - t.threadMs.median)} ms per run`,
    ``,
    `model ${r.model} at its input size (${x.runs} runs each)`,
    `  thread   round trip ${line(x.thread.roundTripMs)}; inference median ${f(x.thread.inferenceMs.median)} ms; transport+scheduling median ${f(x.thread.overheadMs.median)} ms`,
    `  process  round trip ${line(x.process.roundTripMs)}; inference median ${f(x.process.inferenceMs.median)} ms; transport+scheduling median ${f(x.process.overheadMs.median)} ms`,
    `  ratio    round trip ×${(x.process.roundTripMs.median / x.thread.roundTripMs.median).toFixed(3)}; the process's transport is ${((100 * x.process.overheadMs.median) / x.process.roundTripMs.median).toFixed(2)}% of its round trip`,
    `  load     thread ${f(x.thread.loadMs)} ms, process ${f(x.process.loadMs)} ms (×${(x.process.loadMs / x.thread.loadMs).toFixed(2)}; both from source under tsx)${x.builtProcess ? `; built process ${f(x.builtProcess.loadMs)} ms` : ''}`,
    `  RSS      thread +${(x.thread.rssBytes / MiB).toFixed(0)} MiB in this process; process ${(x.process.rssBytes / MiB).toFixed(0)} MiB (×${(x.process.rssBytes / x.thread.rssBytes).toFixed(2)})${x.builtProcess?.rssBytes ? `; built process after load ${(x.builtProcess.rssBytes / MiB).toFixed(0)} MiB` : ''}`,
    ...(r.servers
      ? [
          ``,
          `cold starts, interleaved (spawn → /readyz 200; RSS of the server and its session processes once ready)`,
          ...r.servers.map(
            (v) =>
              `  ${v.entry}: median ${f(v.readyMs.median)} ms, min ${f(v.readyMs.min)} ms; RSS median ${(v.rssAfterReadyBytes.median / MiB).toFixed(0)} MiB`,
          ),
          `  ratio    ×${(r.servers[1]!.readyMs.median / r.servers[0]!.readyMs.median).toFixed(2)} (this build / the other, medians); RSS ×${(r.servers[1]!.rssAfterReadyBytes.median / r.servers[0]!.rssAfterReadyBytes.median).toFixed(2)}`,
        ]
      : []),
  ].join('\n');
}

await main();
