/**
 * `npm start`: the whole product on this machine. Installs missing model weights, builds and
 * starts the backend on CPU, starts the edge in workerd wired to it with a secret made for this
 * run, waits until both are ready and prints the URL to open. Ctrl-C or SIGTERM stops both
 * (their whole process groups). Local R2, Cache, D1 and Durable Object state persists in .state/;
 * the D1 migrations are applied to it first. The local admin token (.state/admin-token) and API
 * key (.state/api-key.json) are made on the first run and kept; the key is printed with a curl
 * example of the remove.bg-compatible API.
 *
 * Environment: EDGE_PORT (8787), BACKEND_PORT (8080), MODELS_MIRROR and MODELS (for the model
 * installer, the backend and the edge; the first is the default), STATE_DIR (.state), CORS_ORIGINS
 * (extra origins for the edge); everything else is passed through to the backend (LOG_LEVEL,
 * ORT_*, ...).
 */
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { formatBackendLine, formatEdgeLine, prefix, type Source } from './lib/log-format';
import { isPortFree, runToCompletion, StartError, type ManagedProcess } from './lib/processes';
import { AdminClient, ensureLocalKey, localAdminToken } from './lib/admin-client';
import {
  applyLocalMigrations,
  BACKEND_DIR,
  generateSecret,
  REPO_ROOT,
  startBackend,
  startEdge,
  waitUntilReady,
} from './lib/stack';

interface StartEnv {
  /** The models both services serve (the backend reads MODELS itself); the first is the default. */
  MODELS: string[] | undefined;
  EDGE_PORT: number;
  BACKEND_PORT: number;
  STATE_DIR: string;
  CORS_ORIGINS: string | undefined;
  BACKEND_READY_TIMEOUT_MS: number;
}

/** `comm` and parent of a process, from /proc/<pid>/stat; undefined where there is no /proc. */
function procStat(pid: number): { comm: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** The parent of `pid` when `pid` is a shell (npm runs scripts through `sh -c`). */
function parentOfShell(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat && ['sh', 'dash', 'bash', 'zsh', 'ash'].includes(basename(stat.comm)) ? stat.ppid : undefined;
}

// isTTY is undefined (not false) when stdout is a pipe, whatever the types say.
const colour = (process.stdout.isTTY as boolean | undefined) === true && !process.env.NO_COLOR;
const say = (source: Source, text: string) => {
  for (const line of text.split('\n')) process.stdout.write(`${prefix(source, colour)}${line}\n`);
};

/** An integer variable in [min, max], its default when unset or empty; a bad value names itself. */
function intVar(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new StartError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function parseEnv(): StartEnv {
  const models = (process.env.MODELS ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const env: StartEnv = {
    MODELS: models.length > 0 ? models : undefined,
    EDGE_PORT: intVar('EDGE_PORT', 8787, 1, 65_535),
    BACKEND_PORT: intVar('BACKEND_PORT', 8080, 1, 65_535),
    STATE_DIR: process.env.STATE_DIR || '.state',
    CORS_ORIGINS: process.env.CORS_ORIGINS || undefined,
    BACKEND_READY_TIMEOUT_MS: intVar('BACKEND_READY_TIMEOUT_MS', 180_000, 1_000, 3_600_000),
  };
  if (env.EDGE_PORT === env.BACKEND_PORT) {
    throw new StartError(`EDGE_PORT and BACKEND_PORT are both ${env.EDGE_PORT}: pick two ports`);
  }
  return env;
}

/** The edge serves what the backend serves: MODELS, with its first as the default (as the backend). */
function edgeVars(env: StartEnv): Record<string, string> {
  return {
    ...(env.CORS_ORIGINS && { CORS_ORIGINS: env.CORS_ORIGINS }),
    ...(env.MODELS && { MODELS: env.MODELS.join(','), DEFAULT_MODEL: env.MODELS[0]! }),
  };
}

async function checkPorts(env: StartEnv): Promise<void> {
  for (const [name, value] of [
    ['BACKEND_PORT', env.BACKEND_PORT],
    ['EDGE_PORT', env.EDGE_PORT],
  ] as const) {
    if (!(await isPortFree(value))) {
      throw new StartError(
        `port ${value} (${name}) is already in use. Stop whatever listens there (\`lsof -i :${value}\` or \`ss -ltnp 'sport = :${value}'\` shows it), or choose another: ${name}=<port> npm start`,
      );
    }
  }
}

const npm = (): [string, string[]] =>
  process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];

const children: ManagedProcess[] = [];
let stopping: Promise<void> | undefined;

/** Stops the edge first (no new work reaches the backend), then the backend (it drains). */
function stopAll(reason: string): Promise<void> {
  stopping ??= (async () => {
    say('start', `${reason}; stopping`);
    for (const child of [...children].reverse()) {
      await child.stop(child.name === 'backend' ? 15_000 : 5_000);
      say('start', `${child.name} stopped`);
    }
  })();
  return stopping;
}

async function main(): Promise<void> {
  const env = parseEnv();
  await checkPorts(env);
  const stateDir = resolve(REPO_ROOT, env.STATE_DIR);
  const [npmCommand, npmArgs] = npm();
  const stepOptions = (source: Source) => ({
    cwd: REPO_ROOT,
    env: process.env,
    onLine: (line: string) => say(source, line),
  });

  say('start', 'checking model weights (npm run models)');
  await runToCompletion(
    'npm run models',
    npmCommand,
    [...npmArgs, 'run', '--silent', 'models'],
    stepOptions('start'),
  );
  say('start', 'building the backend');
  await runToCompletion('the backend build', process.execPath, ['scripts/build.mjs'], {
    ...stepOptions('start'),
    cwd: BACKEND_DIR,
  });

  const persistTo = join(stateDir, 'wrangler');
  say('start', 'applying the D1 migrations (edge/migrations) to the local database');
  await applyLocalMigrations(persistTo, (line) => {
    if (/migration|executed|error/i.test(line)) say('start', line.trim());
  });
  const adminToken = await localAdminToken(join(stateDir, 'admin-token'));

  const secret = generateSecret();
  const backendUrl = `http://127.0.0.1:${env.BACKEND_PORT}`;
  const backend = startBackend({
    port: env.BACKEND_PORT,
    secret,
    onLine: (line) => say('backend', formatBackendLine(line)),
  });
  children.push(backend);
  const edge = await startEdge({
    port: env.EDGE_PORT,
    backendUrl,
    secret,
    persistTo,
    runDir: join(stateDir, 'run'),
    vars: { ADMIN_TOKEN: adminToken, ...edgeVars(env) },
    onLine: (line) => {
      const formatted = formatEdgeLine(line);
      if (formatted !== undefined) say('edge', formatted);
    },
  });
  children.push(edge);

  const [backendMs, edgeMs] = await Promise.all([
    waitUntilReady(backend, `${backendUrl}/readyz`, env.BACKEND_READY_TIMEOUT_MS),
    waitUntilReady(edge, `${edge.url}/healthz`, 60_000),
  ]);
  const localKey = await ensureLocalKey(
    new AdminClient(edge.url, adminToken),
    join(stateDir, 'api-key.json'),
  );
  for (const child of children) {
    void child.exited.then(async ({ code, signal }) => {
      if (stopping) return;
      say('start', `the ${child.name} exited unexpectedly (${signal ?? `exit code ${code}`})`);
      process.exitCode = 1;
      await stopAll(`${child.name} is gone`);
    });
  }
  say(
    'start',
    [
      '',
      `ready: backend in ${(backendMs / 1000).toFixed(1)} s, edge in ${(edgeMs / 1000).toFixed(1)} s`,
      '',
      `  Open ${edge.url}/ to cut out a photo.`,
      '',
      `  edge API   ${edge.url}/v1/remove-background, /v1/lookup, /v1/results/<key>, /v1/status`,
      `  backend    ${backendUrl} (requests signed with a secret made for this run)`,
      `  state      ${stateDir} (local R2, Cache API, D1 and Durable Objects; delete it to start afresh)`,
      '',
      `  API key    ${localKey.key}   (${localKey.id}, ${localKey.created ? 'new' : 'kept'} in ${join(stateDir, 'api-key.json')})`,
      '  remove.bg-compatible API:',
      `    curl -s -H 'X-Api-Key: ${localKey.key}' -F image_file=@photo.jpg -F size=auto \\`,
      `      ${edge.url}/v1.0/removebg -o no-bg.png`,
      `    curl -s -H 'X-Api-Key: ${localKey.key}' ${edge.url}/v1.0/account`,
      `  keys       npm run keys -- list|create|revoke|usage   (EDGE_URL=${edge.url})`,
      '',
      '  Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
}

// A terminal's Ctrl-C reaches npm and this process at once, and npm forwards it again: signals
// within a second of the first count as one. A later one means "now": every group gets SIGKILL.
let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 1_000) return;
      say('start', 'second signal: killing everything now');
      process.exit(130); // the exit hook SIGKILLs every child group
    }
    firstSignalAt = Date.now();
    void stopAll(`${signal} received`).then(() => process.exit(process.exitCode ?? 0));
  });
}

// npm passes a SIGTERM to the shell that runs this script, and the shell dies without passing it
// on: a parent that goes away (we are re-parented) is a signal too, so nothing is orphaned. npm
// itself killed (SIGKILL passes nothing on) leaves that shell waiting for us, re-parented: so
// when our parent is a shell, its own parent is watched as well (Linux: /proc).
const parentPid = process.ppid;
const shellParent = parentOfShell(parentPid);
setInterval(() => {
  if (firstSignalAt !== undefined) return;
  const gone =
    process.ppid !== parentPid || (shellParent !== undefined && procStat(parentPid)?.ppid !== shellParent);
  if (gone) process.emit('SIGTERM');
}, 500).unref();

// If this process dies without stopping its children (SIGKILL), their guards do (lib/guard.mjs).

main().catch(async (error: unknown) => {
  const message = error instanceof StartError ? error.message : String((error as Error).stack ?? error);
  say('start', `cannot start: ${message}`);
  process.exitCode = 1;
  await stopAll('start failed');
});
