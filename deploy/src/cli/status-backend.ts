/** `npm run status:backend -- --project P --region R [--service NAME] [--json]`. */
import { backendStatus, formatStatus, parseStatusArgs, STATUS_USAGE } from '../backend/status';
import { createCloudRunClients } from '../cloud-run/clients';
import { emulatorUrl, processIo, runCli } from './run-cli';

process.exitCode = await runCli(process.argv.slice(2), STATUS_USAGE, parseStatusArgs, async (options) => {
  const clients = createCloudRunClients({ emulatorUrl: emulatorUrl(process.env) });
  try {
    const status = await backendStatus(options, clients);
    processIo.out(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return 0;
  } finally {
    await clients.close();
  }
});
