import type { protos } from '@google-cloud/run';
import type { DeployOptions } from './deploy-options';

export type Service = protos.google.cloud.run.v2.IService;

/** The backend listens on PORT, which Cloud Run sets to the container port below. */
export const CONTAINER_PORT = 8080;
export const CONTAINER_NAME = 'gpu-backend';
export const GPU_TYPE = 'nvidia-l4';

export const serviceParent = (o: Pick<DeployOptions, 'project' | 'region'>) =>
  `projects/${o.project}/locations/${o.region}`;
export const serviceName = (o: Pick<DeployOptions, 'project' | 'region' | 'service'>) =>
  `${serviceParent(o)}/services/${o.service}`;

/**
 * Set unless given with --env: the project for trace ids in logs, and a drain that fits Cloud Run's
 * shutdown (SIGTERM, then SIGKILL 10 s later; the backend's own default grace is 25 s).
 */
const defaultEnv = (o: DeployOptions) => [
  { name: 'GOOGLE_CLOUD_PROJECT', value: o.project },
  { name: 'SHUTDOWN_GRACE_MS', value: '8000' },
];

/**
 * The whole Cloud Run v2 Service as the deploy sends it (create and update alike: on create the
 * API composes the name from parent + serviceId, on update it is the resource's identity). The
 * tool is declarative: what is not here is reset by an update, and traffic always goes to the
 * new revision (a rollback pins it to an older one until the next deploy).
 *
 * GPU rules (Cloud Run): one nvidia-l4 per instance needs at least 4 vCPU and 16 GiB, CPU always
 * allocated (cpuIdle false, instance-based billing) and the second-generation environment.
 */
export function buildServiceResource(o: DeployOptions): Service {
  const labels = { app: 'bgremove', component: 'gpu-backend' };
  return {
    name: serviceName(o),
    description: 'bgremove GPU inference backend (only the edge Worker may invoke it)',
    labels,
    // Reachable from the internet (the Worker calls it), but IAM decides: roles/run.invoker only.
    ingress: 'INGRESS_TRAFFIC_ALL',
    invokerIamDisabled: false,
    template: {
      labels,
      executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
      ...(o.serviceAccount ? { serviceAccount: o.serviceAccount } : {}),
      scaling: { minInstanceCount: o.minInstances, maxInstanceCount: o.maxInstances },
      maxInstanceRequestConcurrency: o.concurrency,
      timeout: { seconds: o.timeoutSeconds },
      nodeSelector: { accelerator: GPU_TYPE },
      gpuZonalRedundancyDisabled: !o.gpuZonalRedundancy,
      containers: [
        {
          name: CONTAINER_NAME,
          image: o.image,
          ports: [{ name: 'http1', containerPort: CONTAINER_PORT }],
          env: [
            // Logs carry logging.googleapis.com/trace when the project is known.
            ...defaultEnv(o).filter((d) => !o.env.some((e) => e.name === d.name)),
            ...o.env.map(({ name, value }) => ({ name, value })),
            ...o.secrets.map(({ name, secret, version }) => ({
              name,
              valueSource: { secretKeyRef: { secret, version } },
            })),
          ],
          resources: {
            limits: { cpu: o.cpu, memory: o.memory, 'nvidia.com/gpu': '1' },
            cpuIdle: false,
            startupCpuBoost: true,
          },
          // Traffic only once every model is loaded and has run once (/readyz 200). Loading the
          // weights onto the GPU plus a warm-up takes seconds; the probe allows 4 minutes.
          startupProbe: {
            httpGet: { path: '/readyz', port: CONTAINER_PORT },
            initialDelaySeconds: 0,
            periodSeconds: 5,
            timeoutSeconds: 4,
            failureThreshold: 48,
          },
          // /healthz is the event loop answering; a wedged process is restarted.
          livenessProbe: {
            httpGet: { path: '/healthz', port: CONTAINER_PORT },
            periodSeconds: 30,
            timeoutSeconds: 5,
            failureThreshold: 3,
          },
        },
      ],
    },
    traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
  };
}
