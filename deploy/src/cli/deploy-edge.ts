/** `npm run deploy:edge -- --env dev|staging|production [--dry-run [--outdir DIR]]`. */
import {
  checkEdgeEnvironment,
  DEPLOY_EDGE_USAGE,
  EDGE_SECRETS,
  parseDeployEdgeArgs,
  runWranglerDeploy,
} from '../edge/deploy-edge';
import { UsageError } from './args';
import { processIo, runCli } from './run-cli';

process.exitCode = await runCli(
  process.argv.slice(2),
  DEPLOY_EDGE_USAGE,
  parseDeployEdgeArgs,
  async (options) => {
    const check = await checkEdgeEnvironment(options.env);
    processIo.out(
      `${check.name} (${options.env}): BACKEND_URL ${check.vars.BACKEND_URL}, routes ${check.routes.join(', ') || 'workers.dev'}`,
    );
    if (check.placeholders.length > 0) {
      const message = `placeholders in wrangler.toml [env.${options.env}]: ${check.placeholders.join(', ')}`;
      if (!options.dryRun) throw new UsageError(`--env ${options.env}: replace the ${message}`);
      processIo.err(`note: ${message} (fine for a dry run)`);
    }
    if (!options.dryRun) {
      processIo.out(
        `secrets it needs (wrangler secret put NAME --env ${options.env}): ${EDGE_SECRETS.join(', ')}`,
      );
    }
    return runWranglerDeploy(options);
  },
);
