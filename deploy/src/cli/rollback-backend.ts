/** `npm run rollback:backend -- --project P --region R (--to-revision REV | --previous)` (see --help). */
import { parseRollbackArgs, ROLLBACK_USAGE, rollbackBackend } from '../backend/rollback';
import { createCloudRunClients } from '../cloud-run/clients';
import { emulatorUrl, processIo, runCli } from './run-cli';

process.exitCode = await runCli(process.argv.slice(2), ROLLBACK_USAGE, parseRollbackArgs, async (options) => {
  const clients = createCloudRunClients({ emulatorUrl: emulatorUrl(process.env) });
  try {
    await rollbackBackend(options, { clients, out: processIo.out });
    return 0;
  } finally {
    await clients.close();
  }
});
