/**
 * The GPU image's install steps, as one script that Dockerfile.gpu runs in its build stage and that
 * deploy/test/image-contents.test.ts runs into a temporary folder (there is no Docker engine in CI):
 *
 *   node --import tsx deploy/image/build-image-contents.ts <out-dir>
 *
 * From an installed checkout (`npm ci`) it writes the complete /app of the runtime image:
 *   <out>/gpu-backend/dist/        the esbuild bundle (server, session worker, CLI) + package.json
 *   <out>/node_modules/            the backend's production dependencies only, from package-lock.json
 *   <out>/models/weights/          weights from `npm run models` (size + SHA-256 verified)
 *   <out>/image-contents.json      what went in (models, ORT providers, Node version)
 * Environment: ONNXRUNTIME_NODE_INSTALL (cuda12 in the image: fetches ORT's CUDA provider and fails
 * the build if it is missing; skip: CPU/WebGPU only), MODELS and MODELS_MIRROR as for `npm run models`.
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { productionDependencyFolders } from './production-deps';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ORT_BIN = 'node_modules/onnxruntime-node/bin';
const ORT_CUDA_PROVIDER = 'libonnxruntime_providers_cuda.so';

export interface ImageContents {
  models: string[];
  ortInstall: string;
  ortProviders: string[];
  node: string;
  dependencies: number;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): void {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
}

const log = (message: string) => process.stderr.write(`[image] ${message}\n`);

/** ORT's own install script fetches the CUDA 12 provider libraries (not in the npm package). */
function installOrtProviders(mode: string): void {
  if (mode === 'skip') {
    log('ONNXRUNTIME_NODE_INSTALL=skip: no CUDA provider (CPU and WebGPU only)');
    return;
  }
  log(`onnxruntime-node install (${mode})`);
  run(process.execPath, ['node_modules/onnxruntime-node/script/install.js'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: mode },
  });
  const lib = join(REPO_ROOT, ORT_BIN, 'napi-v6', 'linux', 'x64', ORT_CUDA_PROVIDER);
  if (mode === 'cuda12' && !existsSync(lib))
    throw new Error(`the CUDA provider is missing after install: ${lib}`);
}

/** Only this platform's ORT binaries (the package carries darwin and win32 ones too: ~220 MB). */
function keepForThisPlatform(source: string): boolean {
  const rel = relative(join(REPO_ROOT, ORT_BIN), source).split(sep);
  if (rel[0] === '..' || rel.length < 2) return true;
  if (rel[1] !== process.platform) return false;
  return rel.length < 3 || rel[2] === process.arch;
}

export function buildImageContents(outDir: string, env: NodeJS.ProcessEnv = process.env): ImageContents {
  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`${out} is not empty`);
  mkdirSync(out, { recursive: true });
  const ortInstall = env.ONNXRUNTIME_NODE_INSTALL || 'skip';
  installOrtProviders(ortInstall);

  log('build gpu-backend (esbuild)');
  const backend = join(REPO_ROOT, 'gpu-backend');
  run(process.execPath, ['scripts/build.mjs'], { cwd: backend });
  cpSync(join(backend, 'dist'), join(out, 'gpu-backend/dist'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(backend, 'package.json'), 'utf8')) as Record<string, unknown>;
  // The bundle is ESM (.js): the nearest package.json must say "type": "module".
  writeFileSync(
    join(out, 'gpu-backend/package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`,
  );

  const folders = productionDependencyFolders(REPO_ROOT, 'gpu-backend');
  log(`copy ${folders.length} production dependencies`);
  for (const folder of folders) {
    // Nested node_modules are separate entries of their own (or dev-only): copied only when listed.
    cpSync(join(REPO_ROOT, folder), join(out, folder), {
      recursive: true,
      filter: (source) =>
        keepForThisPlatform(source) &&
        (source === join(REPO_ROOT, folder) ||
          !relative(join(REPO_ROOT, folder), source).startsWith('node_modules')),
    });
  }

  log('install model weights (npm run models: verified by size and SHA-256)');
  const weights = join(out, 'models/weights');
  run('npm', ['run', 'models', '--', '--dir', weights], { cwd: REPO_ROOT, env });
  const models = readdirSync(weights).filter((name) => !name.endsWith('.partial'));

  const ortProviders = readdirSync(join(out, ORT_BIN, 'napi-v6', process.platform, process.arch));
  const contents: ImageContents = {
    models,
    ortInstall,
    ortProviders,
    node: process.version,
    dependencies: folders.length,
  };
  writeFileSync(join(out, 'image-contents.json'), `${JSON.stringify(contents, null, 2)}\n`);
  log(`done: ${out}`);
  return contents;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let positionals: string[] = [];
  try {
    ({ positionals } = parseArgs({ options: {}, allowPositionals: true, strict: true }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
  }
  const [outDir] = positionals;
  if (!outDir || positionals.length > 1) {
    process.stderr.write('usage: node --import tsx deploy/image/build-image-contents.ts <out-dir>\n');
    process.exitCode = 2;
  } else {
    buildImageContents(outDir);
  }
}
