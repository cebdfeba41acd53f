/**
 * A Worker that does nothing (`fetch` answers a constant JSON), in its own `wrangler dev` from
 * the same wrangler and workerd as the edge, with the edge's compatibility date and its static
 * assets (so each request takes the same way through wrangler's asset router to the Worker). The
 * soak sends it one request for each of its own (`--baseline`, to BASELINE_PATH, which is no
 * file) so that what the local runtime does per request, whatever the Worker, is measured in the
 * same run, beside the edge. It has none of the edge's storage bindings.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnManaged } from './processes';
import { REPO_ROOT, waitUntilReady, WRANGLER, WRANGLER_OFFLINE_ENV, type EdgeProcess } from './stack';

export const BASELINE_WORKER_NAME = 'soak-baseline';
export const BASELINE_PATH = '/healthz';

const SOURCE = `export default {
  async fetch() {
    return new Response('{"status":"ok"}', { headers: { 'content-type': 'application/json' } });
  },
};
`;

export async function startBaselineWorker(): Promise<EdgeProcess & { dir: string }> {
  const toml = readFileSync(join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!date) throw new Error('wrangler.toml has no compatibility_date');
  const assets = /^\[assets\]\s*\ndirectory\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const dir = await mkdtemp(join(tmpdir(), 'bgremove-baseline-'));
  await writeFile(join(dir, 'index.js'), SOURCE);
  await writeFile(
    join(dir, 'wrangler.toml'),
    [
      `name = "${BASELINE_WORKER_NAME}"`,
      'main = "index.js"',
      `compatibility_date = "${date}"`,
      ...(assets ? ['[assets]', `directory = ${JSON.stringify(join(REPO_ROOT, assets))}`] : []),
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const managed = spawnManaged(
    'baseline worker',
    WRANGLER,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
      '--inspector-port',
      '0',
    ],
    { cwd: dir, env: { ...process.env, ...WRANGLER_OFFLINE_ENV, FORCE_COLOR: '0' }, orphanGraceMs: 5_000 },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = managed.stop.bind(managed);
  const baseline = Object.assign(managed, {
    url,
    dir,
    stop: async (graceMs?: number) => {
      await stop(graceMs);
      await rm(dir, { recursive: true, force: true });
    },
  });
  try {
    await waitUntilReady(baseline, `${url}${BASELINE_PATH}`, 120_000);
  } catch (error) {
    await baseline.stop(5_000);
    throw error;
  }
  return baseline;
}
