/**
 * Starts the stack once for every e2e file: the built backend (real IS-Net weights, CPU) and the
 * edge in workerd (wrangler dev, fresh local state), wired with a secret made for this run. A small
 * control server lets the tests stop and restart the backend on the same port. Child logs go to
 * test-artifacts/e2e/*.log.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, runToCompletion, type ManagedProcess } from '../../scripts/lib/processes';
import {
  applyLocalMigrations,
  BACKEND_DIR,
  generateSecret,
  REPO_ROOT,
  startBackend,
  startEdge,
  waitUntilReady,
  type EdgeProcess,
} from '../../scripts/lib/stack';
import { ensureTestWeights } from '../../gpu-backend/test/support/weights';
import { ARTIFACTS, E2E_EDGE_VARS, SHOPIFY_TEST_SECRET } from './support/config';
import { PHOTOS, writePhotos } from './support/images';
import './support/provided-context';

export default async function setup(project: TestProject) {
  mkdirSync(join(ARTIFACTS, 'e2e'), { recursive: true });
  // The real weights (installed the way `npm start` installs them, when missing) and the photos.
  await ensureTestWeights();
  await writePhotos();
  const logTo = (name: string) => {
    const stream = createWriteStream(join(ARTIFACTS, 'e2e', `${name}.log`));
    return (line: string) => stream.write(`${line}\n`);
  };
  const backendLog = logTo('backend');
  await runToCompletion('the backend build', process.execPath, ['scripts/build.mjs'], {
    cwd: BACKEND_DIR,
    env: process.env,
  });
  const secret = generateSecret();
  const [backendPort, edgePort] = [await freePort(), await freePort()];
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const scratch = await mkdtemp(join(tmpdir(), 'bgremove-e2e-'));

  let backend: ManagedProcess | undefined;
  let edge: EdgeProcess | undefined;
  const startTheBackend = async () => {
    backend = startBackend({ port: backendPort, secret, onLine: backendLog });
    return waitUntilReady(backend, `${backendUrl}/readyz`, 120_000);
  };
  const stopAll = async () => {
    await edge?.stop(5_000);
    await backend?.stop(15_000);
    await rm(scratch, { recursive: true, force: true });
  };

  const adminToken = generateSecret();
  const photoServer = await servePhotos();
  const photoServerUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}`;
  try {
    await applyLocalMigrations(join(scratch, 'state'));
    edge = await startEdge({
      port: edgePort,
      backendUrl,
      secret,
      persistTo: join(scratch, 'state'),
      runDir: join(scratch, 'run'),
      vars: {
        ...E2E_EDGE_VARS,
        SHOPIFY_APP_SECRET: SHOPIFY_TEST_SECRET,
        ADMIN_TOKEN: adminToken,
        IMAGE_URL_DEV_HOSTS: photoServerUrl.replace('http://', ''),
      },
      onLine: logTo('edge'),
    });
    await Promise.all([startTheBackend(), waitUntilReady(edge, `${edge.url}/healthz`, 60_000)]);
  } catch (error) {
    photoServer.close();
    await stopAll();
    throw error;
  }

  const control = createServer((req, res) => {
    const action =
      req.url === '/backend/stop'
        ? async () => ({ stopped: await backend!.stop(15_000).then(() => true) })
        : req.url === '/backend/start'
          ? async () => ({ readyMs: await startTheBackend() })
          : undefined;
    if (req.method !== 'POST' || !action) {
      res.writeHead(404).end();
      return;
    }
    action().then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => res.writeHead(500).end(error instanceof Error ? error.message : String(error)),
    );
  });
  control.listen(0, '127.0.0.1');
  await new Promise((resolve) => control.once('listening', resolve));
  const address = control.address();
  if (!address || typeof address === 'string') throw new Error('control server has no port');

  project.provide('edgeUrl', edge.url);
  project.provide('backendUrl', backendUrl);
  project.provide('controlUrl', `http://127.0.0.1:${address.port}`);
  project.provide('secret', secret);
  project.provide('adminToken', adminToken);
  project.provide('repoRoot', REPO_ROOT);
  project.provide('photoServerUrl', photoServerUrl);
  return async () => {
    control.close();
    photoServer.close();
    await stopAll();
  };
}

/** The photos folder over plain HTTP on a free port, and /to?url= for a redirect (image_url tests). */
async function servePhotos(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/to') {
      res.writeHead(302, { location: url.searchParams.get('url') ?? '' }).end();
      return;
    }
    const name = url.pathname.slice(1);
    if (!/^[a-z0-9-]+(\.mask)?\.(jpg|png)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(PHOTOS, name)).then(
      (bytes) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
