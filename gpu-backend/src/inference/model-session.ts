import { fork, type ChildProcess } from 'node:child_process';
import type { ModelSpec } from '@bgremove/shared';
import type { ProviderName } from './providers';
import type { MemoryProfile } from './session-options';
import type {
  LoadedInfo,
  NodePlacement,
  RunResult,
  SessionReply,
  SessionRequest,
  SessionProcessStatus,
  SessionResult,
  SessionTask,
  SessionWorkerData,
} from './worker-protocol';

export interface ModelSessionOptions {
  spec: ModelSpec;
  modelPath: string;
  providers: ProviderName[];
  intraOpThreads: number;
  memoryProfile: MemoryProfile;
  /** Session processes, each with its own session. */
  sessions: number;
  /** Delay before starting a replacement after the nth death in a row with no task done between. */
  restartDelayMs?: (consecutiveDeaths: number) => number;
  /** How long close() waits for queued work, then for each process to exit before it is killed. */
  exitGraceMs?: number;
}

// From source (tests, tsx) the child is TypeScript and needs tsx's loader; from the bundle in
// dist/ it sits next to server.js.
const fromSource = import.meta.url.endsWith('.ts');
const WORKER_PATH = new URL(fromSource ? './session-worker.ts' : './session-worker.js', import.meta.url)
  .pathname;

/**
 * The first replacement starts at once; a process that dies again before it has completed a
 * task waits 1 s, then 2, 4, … up to 30 s, so a model that crashes on every load cannot spin.
 */
export function defaultRestartDelayMs(consecutiveDeaths: number): number {
  return consecutiveDeaths <= 1 ? 0 : Math.min(1000 * 2 ** (consecutiveDeaths - 2), 30_000);
}

/** A task's session process died under it (the session is being replaced). */
export class SessionWorkerLost extends Error {
  constructor(cause: unknown) {
    super(
      `the session process running this task died: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

interface Pending {
  task: SessionTask;
  /** Only this slot's process may take it (loads, which every process must do). */
  slot?: number;
  resolve: (result: SessionResult) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  index: number;
  child?: ChildProcess;
  /** The child listens for tasks (its `ready` message came). */
  ready: boolean;
  running?: Pending & { id: number };
  consecutiveDeaths: number;
  restartAt?: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * One model's ONNX sessions, each in its own child process (session-worker.ts), fed from one
 * FIFO queue, one task per process at a time. A process that dies (a native crash or abort in
 * ONNX Runtime, an out-of-memory kill, a SIGKILL), idle or in the middle of a run, takes only
 * itself down: the task it was running rejects with SessionWorkerLost, `onWorkerLost` is told so
 * the owner can say it is not ready meanwhile, and a replacement starts (after a back-off when
 * it keeps dying) whose session loads on its first task.
 */
export class ModelSession {
  readonly spec: ModelSpec;
  private readonly workerData: SessionWorkerData;
  /** The environment every process of this session starts with (replacements too). */
  private readonly env: NodeJS.ProcessEnv;
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private readonly restartDelayMs: (n: number) => number;
  private readonly exitGraceMs: number;
  private nextId = 0;
  private deaths = 0;
  private closing = false;
  private lostListener: ((error?: unknown) => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(options: ModelSessionOptions) {
    this.spec = options.spec;
    this.workerData = {
      modelPath: options.modelPath,
      spec: options.spec,
      providers: options.providers,
      intraOpThreads: options.intraOpThreads,
      memoryProfile: options.memoryProfile,
    };
    // Keeps ONNX Runtime from writing under ~/.cache (read-only filesystems).
    this.env = { ...process.env, ORT_DISABLE_TELEMETRY: '1' };
    this.restartDelayMs = options.restartDelayMs ?? defaultRestartDelayMs;
    this.exitGraceMs = options.exitGraceMs ?? 5000;
    this.slots = Array.from({ length: options.sessions }, (_, index) => ({
      index,
      ready: false,
      consecutiveDeaths: 0,
    }));
    for (const slot of this.slots) this.start(slot);
  }

  private start(slot: Slot): void {
    delete slot.restartAt;
    delete slot.restartTimer;
    const child = fork(WORKER_PATH, [JSON.stringify(this.workerData)], {
      execArgv: fromSource ? ['--import', 'tsx'] : ['--enable-source-maps'],
      env: this.env,
      // Typed arrays go as bytes (JSON would turn 3 MB of pixels into a 10 MB object).
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.ready = false;
    child.on('message', (reply: SessionReply) => this.onReply(slot, child, reply));
    child.on('exit', (code, signal) =>
      this.onDeath(
        slot,
        child,
        new Error(`session process ${child.pid} exited (code ${code}, signal ${signal})`),
      ),
    );
    child.on('error', (error) => {
      // Could not be started, or a message could not be sent: either way it is of no more use.
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
        this.onDeath(slot, child, error);
      else child.kill('SIGKILL');
    });
    this.pump();
  }

  /**
   * A process with nothing to do does not keep the server's event loop alive (idle worker threads
   * did not either); one that runs a task, or that queued tasks wait for, does.
   */
  private updateRefs(): void {
    const waiting = this.queue.length > 0;
    for (const slot of this.slots) {
      const child = slot.child;
      if (!child) continue;
      if (slot.running || waiting) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    }
  }

  private onReply(slot: Slot, child: ChildProcess, reply: SessionReply): void {
    if (slot.child !== child) return;
    if ('ready' in reply) {
      slot.ready = true;
      this.pump();
      return;
    }
    const running = slot.running;
    if (running?.id !== reply.id) return;
    delete slot.running;
    slot.consecutiveDeaths = 0;
    if (reply.ok) running.resolve(reply.result);
    else running.reject(Object.assign(new Error(reply.error.message), reply.error));
    this.pump();
  }

  private onDeath(slot: Slot, child: ChildProcess, error: Error): void {
    if (slot.child !== child) return; // reported already ('error' then 'exit')
    delete slot.child;
    const running = slot.running;
    delete slot.running;
    if (running) running.reject(new SessionWorkerLost(error));
    if (this.closing) {
      this.pump();
      return;
    }
    this.deaths++;
    slot.consecutiveDeaths++;
    const delay = this.restartDelayMs(slot.consecutiveDeaths);
    slot.restartAt = Date.now() + delay;
    // Not unref'd: tasks may be waiting for this replacement (close() clears it).
    slot.restartTimer = setTimeout(() => this.start(slot), delay);
    this.updateRefs();
    this.lostListener?.(error);
  }

  /** Gives every idle process the first task it may take. */
  private pump(): void {
    for (const slot of this.slots) {
      const child = slot.child;
      if (!child || !slot.ready || slot.running || !child.connected) continue;
      const i = this.queue.findIndex((p) => p.slot === undefined || p.slot === slot.index);
      if (i < 0) continue;
      const pending = this.queue.splice(i, 1)[0]!;
      const id = ++this.nextId;
      slot.running = { ...pending, id };
      const request: SessionRequest = { id, task: pending.task };
      // A failed send ends in 'error' (→ the process is killed → SessionWorkerLost).
      child.send(request, (error) => {
        if (error) child.emit('error', error);
      });
    }
    this.updateRefs();
    if (!this.closing) return;
    // Closing with no process left to run what is queued (they died; none is replaced now).
    if (this.slots.every((s) => !s.child))
      for (const p of this.queue.splice(0)) p.reject(new Error(`model ${this.spec.id}: sessions closed`));
    if (this.queue.length === 0 && this.slots.every((s) => !s.running)) this.drained?.();
  }

  private submit(task: SessionTask, slot?: number): Promise<SessionResult> {
    if (this.closing) return Promise.reject(new Error(`model ${this.spec.id}: sessions are closing`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject, ...(slot !== undefined && { slot }) });
      this.pump();
    });
  }

  /** Called when a session process dies unexpectedly (it is being replaced). */
  onWorkerLost(listener: (error?: unknown) => void): void {
    this.lostListener = listener;
  }

  /** Session processes that died unexpectedly since start. */
  get lost(): number {
    return this.deaths;
  }

  /** The session processes' pids (undefined while one waits to be replaced): diagnostics, tests. */
  get pids(): readonly (number | undefined)[] {
    return this.slots.map((s) => s.child?.pid);
  }

  /** Each session process: pid, busy or idle, and whether it is waiting out a crash back-off. */
  processes(): SessionProcessStatus[] {
    return this.slots.map((s) => {
      const restarting = s.child === undefined;
      return {
        ...(s.child?.pid !== undefined && { pid: s.child.pid }),
        state: restarting ? 'restarting' : s.running ? 'busy' : 'idle',
        consecutiveDeaths: s.consecutiveDeaths,
        ...(restarting &&
          s.restartAt !== undefined && { restartInMs: Math.max(0, s.restartAt - Date.now()) }),
      };
    });
  }

  /** Loads (or confirms) the session in every process; rejects with the load error, which is not cached. */
  async load(): Promise<LoadedInfo> {
    const results = await Promise.all(this.slots.map((s) => this.submit({ kind: 'load' }, s.index)));
    return results[0] as LoadedInfo;
  }

  async run(rgb: Uint8Array, width: number, height: number): Promise<RunResult> {
    return (await this.submit({ kind: 'run', rgb, width, height })) as RunResult;
  }

  /** Where the first session placed the graph's nodes (call after a run). */
  async placement(): Promise<NodePlacement> {
    return (await this.submit({ kind: 'placement' }, 0)) as NodePlacement;
  }

  /** Tasks waiting for a free session. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Finishes what is queued and running (for up to `exitGraceMs`; the server has drained its
   * requests before), then closes every process's channel: they exit (killed if they have not
   * after another `exitGraceMs`).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    const busy = this.queue.length > 0 || this.slots.some((s) => s.running);
    if (busy) {
      // What is queued and running finishes, for as long as a process gets to exit.
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      this.pump();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        drained,
        new Promise((resolve) => (timer = setTimeout(resolve, this.exitGraceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const p of this.queue.splice(0)) p.reject(new Error(`model ${this.spec.id}: sessions closed`));
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.ref();
        if (child.connected) child.disconnect();
        else child.kill('SIGKILL');
        const timer = setTimeout(() => child.kill('SIGKILL'), this.exitGraceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
