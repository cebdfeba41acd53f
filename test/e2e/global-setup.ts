/**
 * Starts the stack once for every e2e file: the built backend (real IS-Net weights, CPU) and the
 * edge in workerd (wrangler dev, fresh local state), wired with a secret made for this run. A small
 * control server lets the tests stop and restart the backend on the same port. Child logs go to
 * test-artifacts/e2e/*.log.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalStack, type LocalStack } from '../../scripts/lib/local-stack';
import { generateSecret, REPO_ROOT } from '../../scripts/lib/stack';
import { MODEL_MANIFEST } from '@bgremove/shared';
import { installModels, parseInstallCommand } from '../../gpu-backend/scripts/install-models';
import { ensureTestWeights } from '../../gpu-backend/test/support/weights';
import { ARTIFACTS, E2E_EDGE_VARS, SHOPIFY_TEST_SECRET } from './support/config';
import { PHOTOS, writePhotos } from './support/images';
import './support/provided-context';

export default async function setup(project: TestProject) {
  mkdirSync(join(ARTIFACTS, 'e2e'), { recursive: true });
  // The real weights (installed the way `npm start` installs them, when missing) and the photos.
  await ensureTestWeights();
  const fuzzModel = await smallModelIfInstalled();
  // Served beside the default (which stays the default for every other test).
  const models: Record<string, string> =
    fuzzModel === MODEL_MANIFEST.default ? {} : { MODELS: `${MODEL_MANIFEST.default},${fuzzModel}` };
  await writePhotos();
  const logTo = (name: string) => {
    const stream = createWriteStream(join(ARTIFACTS, 'e2e', `${name}.log`));
    return (line: string) => stream.write(`${line}\n`);
  };
  const logs = { backend: logTo('backend'), edge: logTo('edge') };
  const adminToken = generateSecret();
  const photoServer = await servePhotos();
  const photoServerUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}`;
  let stack: LocalStack;
  try {
    // The same start-up as the reliability tools (scripts/lib/local-stack.ts), with the D1
    // migrations applied and the backend at its default log level.
    stack = await startLocalStack({
      migrate: true,
      backendEnv: { LOG_LEVEL: 'info', ...models },
      backendReadyMs: 120_000,
      edgeReadyMs: 60_000,
      edgeVars: {
        ...E2E_EDGE_VARS,
        ...models,
        SHOPIFY_APP_SECRET: SHOPIFY_TEST_SECRET,
        ADMIN_TOKEN: adminToken,
        IMAGE_URL_DEV_HOSTS: photoServerUrl.replace('http://', ''),
      },
      log: (source, line) => logs[source](line),
    });
  } catch (error) {
    photoServer.close();
    throw error;
  }
  const { backendUrl, secret } = stack;

  const control = createServer((req, res) => {
    const action =
      req.url === '/backend/stop'
        ? async () => ({ stopped: await stack.stopBackend().then(() => true) })
        : req.url === '/backend/start'
          ? async () => ({ readyMs: await stack.restartBackend() })
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

  project.provide('edgeUrl', stack.edgeUrl);
  project.provide('backendUrl', backendUrl);
  project.provide('controlUrl', `http://127.0.0.1:${address.port}`);
  project.provide('secret', secret);
  project.provide('adminToken', adminToken);
  project.provide('repoRoot', REPO_ROOT);
  project.provide('photoServerUrl', photoServerUrl);
  project.provide('fuzzModel', fuzzModel);
  return async () => {
    control.close();
    photoServer.close();
    await stack.stop();
  };
}

/** The small model the fuzz runs on (~6% of IS-Net's inference cost on CPU). */
const SMALL_MODEL = 'u2netp';

/**
 * The model for the fuzz's requests: u2netp when its weights are installed and verify (they come
 * only from a mirror: \`.ci/run\` installs them, a fresh clone has none), else the default model,
 * on which the same fuzz passes too, only slower. The fuzz is about what reaches the model, not
 * the model: decoding, validation, refinement and encoding are the same code for both.
 */
async function smallModelIfInstalled(): Promise<string> {
  const command = parseInstallCommand(['--models', SMALL_MODEL], process.env, REPO_ROOT);
  if (command.help) return MODEL_MANIFEST.default;
  const installed = await installModels({ ...command.options, log: () => {} }).then(
    () => true,
    () => false,
  );
  if (!installed) {
    console.log(
      `e2e: ${SMALL_MODEL} weights not installed (MODELS=${SMALL_MODEL} MODELS_MIRROR=<folder> npm run models): ` +
        `the fuzz runs on ${MODEL_MANIFEST.default}, which takes longer`,
    );
  }
  return installed ? SMALL_MODEL : MODEL_MANIFEST.default;
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
