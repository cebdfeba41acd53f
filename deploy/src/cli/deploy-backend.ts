/** `npm run deploy:backend -- --project P --region R --image I [options]` (see --help). */
import { deployBackend, dryRunOutput } from '../backend/deploy';
import { DEPLOY_USAGE, parseDeployArgs } from '../backend/deploy-options';
import { defaultIdTokenSource } from '../backend/readyz-check';
import { createCloudRunClients } from '../cloud-run/clients';
import { emulatorUrl, processIo, runCli } from './run-cli';

process.exitCode = await runCli(process.argv.slice(2), DEPLOY_USAGE, parseDeployArgs, async (options) => {
  if (options.dryRun) {
    processIo.out(dryRunOutput(options));
    return 0;
  }
  const emulator = emulatorUrl(process.env);
  const clients = createCloudRunClients({ emulatorUrl: emulator });
  try {
    const result = await deployBackend(options, {
      clients,
      idToken: defaultIdTokenSource(process.env, emulator === undefined),
      out: processIo.out,
    });
    // The rollout succeeded either way; a readiness check that could not confirm is a warning.
    return result.ready === false ? 3 : 0;
  } finally {
    await clients.close();
  }
});
