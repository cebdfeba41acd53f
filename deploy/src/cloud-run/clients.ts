import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import { PassThroughClient } from 'google-auth-library';

export interface CloudRunClients {
  services: ServicesClient;
  revisions: RevisionsClient;
  close(): Promise<void>;
}

export interface CloudRunClientOptions {
  /**
   * An emulator or test server, e.g. `http://127.0.0.1:8123`: plain HTTP and no credentials.
   * Unset: https://run.googleapis.com with Application Default Credentials.
   */
  emulatorUrl?: string | undefined;
}

/**
 * The Cloud Run v2 clients, always over REST (`fallback: true`): the transport the tests exercise
 * against their local server is the one used in production.
 */
export function createCloudRunClients(options: CloudRunClientOptions = {}): CloudRunClients {
  const settings: ClientSettings = options.emulatorUrl
    ? emulatorSettings(options.emulatorUrl)
    : { fallback: true };
  const services = new ServicesClient(settings);
  const revisions = new RevisionsClient(settings);
  return {
    services,
    revisions,
    close: async () => {
      await Promise.all([services.close(), revisions.close()]);
    },
  };
}

type ClientSettings = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

function emulatorSettings(emulatorUrl: string): ClientSettings {
  const url = new URL(emulatorUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`CLOUD_RUN_EMULATOR_URL: expected an http(s) URL, got "${emulatorUrl}"`);
  }
  return {
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol.slice(0, -1),
    // Without an auth client the REST fallback looks for credentials and, finding none, rejects
    // outside any promise the caller holds (TOOLCHAIN.md): pass requests through unauthenticated.
    // (google-gax types it against its own copy of google-auth-library's class union.)
    authClient: new PassThroughClient() as unknown as ClientSettings['authClient'],
  };
}
