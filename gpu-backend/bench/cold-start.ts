/**
 * Cold start, from spawn to /readyz 200, in parts: the bench's clock for the spawn and the
 * polls, the server's log for when its clock started and when it listened, and /v1/models'
 * coldStart (read, hash, create, warm-up; hash overlaps create) for the model load.
 */
import { loadavg } from 'node:os';
import { ServerProcess, type LogMilestones, type StartupTimes } from './server-process';

/** /v1/models' coldStart for one model (ms; readyAtMs on the server's clock). */
export interface ModelColdStart {
  readMs: number;
  hashMs: number;
  createMs: number;
  warmupMs: number;
  readyAtMs: number;
}

export interface ColdStartPart {
  part: string;
  ms: number;
}

export interface ColdStart {
  startup: StartupTimes;
  milestones: LogMilestones;
  model: ModelColdStart | undefined;
  /** Consecutive parts that add up to spawn → /readyz (where the log and /v1/models said enough). */
  parts: ColdStartPart[];
  loadAverage: number[];
}

export function coldStartParts(
  startup: StartupTimes,
  milestones: LogMilestones,
  spawnedAtEpochMs: number,
  model: ModelColdStart | undefined,
): ColdStartPart[] {
  const { listeningAtMs, listeningAtEpochMs } = milestones;
  if (listeningAtMs === undefined || listeningAtEpochMs === undefined || !model) {
    return [
      { part: 'spawn → listening (/healthz 200)', ms: startup.listeningMs },
      { part: 'listening → /readyz 200', ms: startup.readyMs - startup.listeningMs },
    ];
  }
  // The log's wall clock has 1 ms resolution; the server's clock starts as node boots.
  const beforeClock = Math.max(0, listeningAtEpochMs - spawnedAtEpochMs - listeningAtMs);
  const loadMs = model.readMs + model.hashMs + model.createMs + model.warmupMs;
  return [
    { part: 'spawn → node clock starts (exec, V8 boot)', ms: beforeClock },
    { part: 'process start → listening (imports: ORT, sharp, hono; config)', ms: listeningAtMs },
    {
      part: 'listening → ready, outside the parts below (session process start and ORT import, node placement)',
      ms: model.readyAtMs - listeningAtMs - loadMs,
    },
    { part: 'read the weights', ms: model.readMs },
    { part: 'SHA-256 (ORT builds the session meanwhile)', ms: model.hashMs },
    { part: 'session create, after the hash', ms: model.createMs },
    { part: 'warm-up run (1024², profiler on)', ms: model.warmupMs },
    { part: 'ready → /readyz 200 seen (25 ms polling)', ms: startup.readyMs - beforeClock - model.readyAtMs },
  ];
}

/** The breakdown of a server that has just become ready. */
export async function describeColdStart(server: ServerProcess, startup: StartupTimes): Promise<ColdStart> {
  const models = (await server.getJson('/v1/models')) as { models?: { coldStart?: ModelColdStart }[] };
  const model = models.models?.[0]?.coldStart;
  return {
    startup,
    milestones: { ...server.milestones },
    model,
    parts: coldStartParts(startup, server.milestones, server.spawnedAtEpochMs, model),
    loadAverage: loadavg(),
  };
}

/** Starts the server, takes its breakdown and stops it. */
export async function measureColdStart(env: NodeJS.ProcessEnv, entry: string): Promise<ColdStart> {
  const { server, startup } = await ServerProcess.start(env, entry);
  try {
    return await describeColdStart(server, startup);
  } finally {
    await server.stop();
  }
}
