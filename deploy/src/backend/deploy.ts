import type { CloudRunClients } from '../cloud-run/clients';
import { isNotFound, shortName } from '../cloud-run/names';
import type { DeployOptions } from './deploy-options';
import { setInvokers } from './invokers';
import { checkReadyz, type IdTokenSource } from './readyz-check';
import { buildServiceResource, serviceName, serviceParent, type Service } from './service-resource';

export interface DeployDeps {
  clients: CloudRunClients;
  idToken: IdTokenSource;
  out: (line: string) => void;
  readyzTimeoutMs?: number;
  readyzIntervalMs?: number;
}

export interface DeployResult {
  action: 'create' | 'update';
  service: Service;
  revision: string | undefined;
  url: string | undefined;
  ready: boolean | undefined;
}

/** What `--dry-run` prints: the Service resource exactly as deployBackend would send it. */
export const dryRunOutput = (options: DeployOptions): string =>
  JSON.stringify(buildServiceResource(options), null, 2);

/**
 * Creates the service or replaces its spec, waits for the long-running operation (Cloud Run only
 * finishes it once the new revision passed its startup probe), then checks /readyz via the URL.
 */
export async function deployBackend(options: DeployOptions, deps: DeployDeps): Promise<DeployResult> {
  const resource = buildServiceResource(options);
  const { services } = deps.clients;
  const name = serviceName(options);
  const exists = await services.getService({ name }).then(
    () => true,
    (error: unknown) => {
      if (isNotFound(error)) return false;
      throw error;
    },
  );
  const action = exists ? 'update' : 'create';
  deps.out(`${action === 'create' ? 'creating' : 'updating'} ${name} with ${options.image}`);
  const [operation] = exists
    ? await services.updateService({ service: resource })
    : await services.createService({
        parent: serviceParent(options),
        serviceId: options.service,
        service: resource,
      });
  deps.out(`waiting for ${operation.name} (the new revision must pass its startup probe on /readyz)`);
  const [service] = await operation.promise();

  const revision = shortName(service.latestReadyRevision);
  if (service.latestCreatedRevision && service.latestCreatedRevision !== service.latestReadyRevision) {
    throw new Error(
      `revision ${shortName(service.latestCreatedRevision)} is not ready; traffic stays on ${revision ?? 'none'}`,
    );
  }
  deps.out(`revision: ${revision ?? 'unknown'}`);
  deps.out(`url: ${service.uri ?? 'unknown'}`);

  if (options.invokers.length > 0) {
    await setInvokers(deps.clients, name, options.invokers);
    deps.out(`roles/run.invoker: ${options.invokers.join(', ')} (only)`);
  }

  let ready: boolean | undefined;
  if (options.readyzCheck && service.uri) {
    const check = await checkReadyz(service.uri, {
      idToken: deps.idToken,
      timeoutMs: deps.readyzTimeoutMs,
      intervalMs: deps.readyzIntervalMs,
      log: deps.out,
    });
    ready = check.ok;
    deps.out(
      check.ok
        ? `readyz: 200 through ${service.uri} (${check.attempts} attempt${check.attempts === 1 ? '' : 's'})`
        : `readyz: not confirmed (${check.status ?? 'no answer'}): ${check.detail}`,
    );
  }
  return { action, service, revision, url: service.uri ?? undefined, ready };
}
