/**
 * The GPU image without Docker: runs the same script Dockerfile.gpu runs (build-image-contents)
 * into a temporary /app, makes it read-only, and starts the backend from it the way the image
 * does (non-root, HOME read-only, no network-dependent step, only TMPDIR writable), then checks
 * /readyz, a real matte of a drawn photo against its known mask, SIGTERM, and that nothing was
 * written. The weights are copied from the checkout's own (installed once by the globalSetup, as
 * `npm run models` installs them).
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, waitForReady } from '../../scripts/lib/backend-server';
import { drawScene, sceneImage } from '../../gpu-backend/test/support/images';
import { buildImageContents, type ImageContents } from '../image/build-image-contents';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The checkout's installed weights (MODELS_DIR or models/weights): the image build copies them. */
const WEIGHTS = process.env.MODELS_DIR ? resolve(process.env.MODELS_DIR) : join(REPO_ROOT, 'models/weights');

/** As root, run the server as nobody so that read-only permissions actually bind (as in the image). */
const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

let root: string;
let app: string;
let home: string;
let scratch: string;
let contents: ImageContents;
let before: Map<string, string>;

function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const s = statSync(path);
        files.set(relative(dir, path), `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return files;
}

function chmodTree(dir: string, writable: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) chmodTree(path, writable);
    chmodSync(path, (statSync(path).mode & 0o777 & ~0o222) | (writable ? 0o200 : 0));
  }
  chmodSync(dir, (statSync(dir).mode & 0o777 & ~0o222) | (writable ? 0o200 : 0) | 0o555);
}

/** The image's server as the image runs it (Dockerfile.gpu), except ORT_PROVIDERS: no CUDA here. */
const startImageServer = (env: Record<string, string>) =>
  startServer({
    cwd: app,
    entry: 'gpu-backend/dist/server.js',
    env: { HOME: home, TMPDIR: scratch, NODE_ENV: 'production', ORT_DISABLE_TELEMETRY: '1', ...env },
    ...asNobody,
  });

async function alpha(input: Buffer | string, which: 'last' | 'first') {
  const { channels } = await sharp(input).metadata();
  const { data, info } = await sharp(input)
    .extractChannel(which === 'last' ? ((channels - 1) as 0 | 1 | 2 | 3) : 0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bgremove-image-'));
  chmodSync(root, 0o755);
  app = join(root, 'app');
  home = join(root, 'home');
  scratch = join(root, 'tmp');
  contents = buildImageContents(app, {
    ...process.env,
    MODELS: '',
    MODELS_DIR: '',
    MODELS_MIRROR: WEIGHTS,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
  for (const dir of [home, scratch]) mkdirSync(dir);
  chmodSync(home, 0o555);
  chmodSync(scratch, 0o1777);
  chmodTree(app, false);
  before = snapshot(app);
});

afterAll(() => {
  if (root) {
    chmodTree(root, true);
    rmSync(root, { recursive: true, force: true });
  }
});

describe('the GPU image contents (deploy/image/build-image-contents.ts)', () => {
  it('holds the bundle, production dependencies only, and verified weights', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    for (const needed of ['onnxruntime-node', 'sharp', 'hono', 'pino', 'piscina', 'zod'])
      expect(modules).toContain(needed);
    for (const dev of [
      'vitest',
      'typescript',
      'esbuild',
      'tsx',
      'wrangler',
      'eslint',
      'onnx-proto',
      '@google-cloud',
    ]) {
      expect(modules).not.toContain(dev);
    }
    expect(modules).not.toContain('@bgremove');
    // Only this platform's ORT binaries.
    expect(readdirSync(join(app, 'node_modules/onnxruntime-node/bin/napi-v6'))).toEqual([process.platform]);
    expect(existsSync(join(app, 'gpu-backend/dist/server.js'))).toBe(true);
    expect(existsSync(join(app, 'gpu-backend/dist/session-worker.js'))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models/manifest.json'), 'utf8')) as {
      default: string;
      models: { id: string; file: string; sha256: string }[];
    };
    const model = manifest.models.find((m) => m.id === manifest.default)!;
    expect(contents.models).toEqual([model.file]);
    const sha = createHash('sha256')
      .update(readFileSync(join(app, 'models/weights', model.file)))
      .digest('hex');
    expect(sha).toBe(model.sha256);
    expect(contents.ortInstall).toBe('skip');
  });

  it('with ORT_PROVIDERS=cuda (the image default) and no CUDA provider, the start fails loudly', async () => {
    const server = await startImageServer({ ORT_PROVIDERS: 'cuda' });
    expect(await server.exit).toBe(1);
    expect(server.output()).toMatch(/"severity":"CRITICAL".*cuda/i);
  });

  it('starts read-only as a non-root user, becomes ready, serves a real matte, drains on SIGTERM', async () => {
    const server = await startImageServer({ ORT_PROVIDERS: 'cpu' });
    try {
      await waitForReady(server);
      const scene = drawScene();
      const response = await fetch(`${server.url}/v1/remove-background?output=matte`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: new Uint8Array(await sceneImage(scene)),
      });
      expect(response.status).toBe(200);
      const ours = await alpha(Buffer.from(await response.arrayBuffer()), 'first');
      expect([ours.width, ours.height]).toEqual([scene.width, scene.height]);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < ours.data.length; i++) {
        const a = ours.data[i]! > 127;
        const b = scene.mask[i]! > 127;
        if (a && b) inter++;
        if (a || b) union++;
      }
      expect(inter / union).toBeGreaterThanOrEqual(0.9);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/draining/);
    // Nothing written to /app or HOME (the image runs with a read-only root; only /tmp is writable).
    expect(snapshot(app)).toEqual(before);
    expect(readdirSync(home)).toEqual([]);
  });
});

describe('Dockerfile.gpu and .dockerignore agree with the tested contents', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile.gpu'), 'utf8');

  it('builds /app with the same script, with the CUDA provider, and runs what the test ran', () => {
    expect(dockerfile).toMatch(
      /ONNXRUNTIME_NODE_INSTALL=cuda12 .*\\\n\s+node --import tsx deploy\/image\/build-image-contents\.ts \/app/,
    );
    expect(dockerfile).toMatch(
      /^FROM nvidia\/cuda:\S*|^ARG CUDA_IMAGE=nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu22\.04$/m,
    );
    expect(dockerfile).toMatch(/^\s+ORT_PROVIDERS=cuda \\$/m);
    expect(dockerfile).toMatch(/^\s+ORT_DISABLE_TELEMETRY=1 \\$/m);
    expect(dockerfile).toMatch(/^\s+HOME=\/tmp \\$/m);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    const cmd = /^CMD \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
    expect(cmd).toBe('gpu-backend/dist/server.js');
    expect(existsSync(join(app, cmd!))).toBe(true);
    const modelsDir = /MODELS_DIR=(\S+)/.exec(dockerfile)?.[1];
    expect(modelsDir).toBe('/app/models/weights');
    expect(readdirSync(join(app, 'models/weights'))).toEqual(contents.models);
  });

  it('.dockerignore keeps what the build needs and drops installs, weights and build outputs', () => {
    const patterns = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    // Docker matches a pattern against a path and every parent folder of it.
    const ignored = (path: string) =>
      path.split('/').some((_, i, parts) => {
        const prefix = parts.slice(0, i + 1).join('/');
        return patterns.some((pattern) => matchesGlob(prefix, pattern));
      });
    for (const needed of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'models/manifest.json',
      'shared/src/index.ts',
      'gpu-backend/src/server.ts',
      'gpu-backend/scripts/build.mjs',
      'gpu-backend/scripts/install-models.ts',
      'edge/package.json',
      'deploy/package.json',
      'deploy/image/build-image-contents.ts',
      'deploy/image/production-deps.ts',
    ]) {
      expect(ignored(needed), needed).toBe(false);
      expect(existsSync(join(REPO_ROOT, needed)), needed).toBe(true);
    }
    for (const dropped of [
      'node_modules/sharp/package.json',
      'gpu-backend/node_modules/x',
      'gpu-backend/dist/server.js',
      'models/weights/isnet_fp16.onnx',
      '.git/HEAD',
      '.wrangler/state/x',
    ]) {
      expect(ignored(dropped), dropped).toBe(true);
    }
  });
});
