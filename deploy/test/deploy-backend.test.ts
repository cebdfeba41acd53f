import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployBackend, dryRunOutput, type DeployDeps } from '../src/backend/deploy';
import { parseDeployArgs, type DeployOptions } from '../src/backend/deploy-options';
import { createCloudRunClients, type CloudRunClients } from '../src/cloud-run/clients';
import { FakeCloudRun, normalizeService, type Json } from './fake-cloud-run';

const NAME = 'projects/shop-prod-123/locations/europe-west4/services/bgremove-backend';
const IMAGE = 'europe-west4-docker.pkg.dev/shop-prod-123/bgremove/gpu-backend@sha256:' + 'a'.repeat(64);
const baseArgs = ['--project', 'shop-prod-123', '--region', 'europe-west4', '--image', IMAGE];

const options = (...extra: string[]): DeployOptions => parseDeployArgs([...baseArgs, ...extra])!;

let api: FakeCloudRun;
let clients: CloudRunClients;
let lines: string[];

const deps = (overrides: Partial<DeployDeps> = {}): DeployDeps => ({
  clients,
  idToken: () => Promise.resolve('invoker-token'),
  out: (line) => lines.push(line),
  readyzIntervalMs: 10,
  readyzTimeoutMs: 2000,
  ...overrides,
});

beforeAll(async () => {
  api = new FakeCloudRun({ invokerToken: 'invoker-token' });
  clients = createCloudRunClients({ emulatorUrl: await api.start() });
});
afterAll(async () => {
  await clients.close();
  await api.stop();
});
beforeEach(() => {
  lines = [];
  api.services.clear();
  api.calls.length = 0;
});

describe('deploy:backend against the local Cloud Run API', () => {
  it('creates the service with the GPU spec, waits for the operation, and checks /readyz with an ID token', async () => {
    const result = await deployBackend(
      options('--min-instances', '1', '--max-instances', '3', '--concurrency', '4', '--env', 'MAX_QUEUE=32'),
      deps(),
    );
    expect(result.action).toBe('create');

    const [create] = api.callsTo('POST', /\/locations\/europe-west4\/services$/);
    expect(create!.query.serviceId).toBe('bgremove-backend');
    // On the wire: proto3 JSON with integer enums, as the real client sends it.
    const raw = create!.raw as Json & { template: Json; traffic: Json[] };
    expect(raw.ingress).toBe(1);
    expect(raw.traffic).toEqual([{ type: 1, percent: 100 }]);
    expect(raw.template.timeout).toBe('300s');

    const sent = create!.service! as Json & { template: Json & { containers: Json[] } };
    expect(sent.template.nodeSelector).toEqual({ accelerator: 'nvidia-l4' });
    expect(sent.template.gpuZonalRedundancyDisabled).toBeFalsy();
    expect(sent.template.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 3 });
    expect(sent.template.maxInstanceRequestConcurrency).toBe(4);
    expect(sent.template.executionEnvironment).toBe('EXECUTION_ENVIRONMENT_GEN2');
    const container = sent.template.containers[0] as Json & {
      resources: Json;
      startupProbe: Json;
      env: Json[];
    };
    expect(container.image).toBe(IMAGE);
    expect(container.resources).toEqual({
      limits: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1' },
      cpuIdle: false,
      startupCpuBoost: true,
    });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/readyz', port: 8080 } });
    expect(container.env).toEqual([
      { name: 'GOOGLE_CLOUD_PROJECT', value: 'shop-prod-123' },
      { name: 'SHUTDOWN_GRACE_MS', value: '8000' },
      { name: 'MAX_QUEUE', value: '32' },
    ]);

    // The operation was polled until done (the fake says "not yet" first).
    expect(api.callsTo('GET', /\/operations\//).length).toBeGreaterThanOrEqual(2);
    expect(result.revision).toMatch(/^bgremove-backend-00001-/);
    expect(lines).toContain(`revision: ${result.revision}`);
    expect(lines).toContain(`url: ${api.url}/run-app/bgremove-backend`);
    expect(result.ready).toBe(true);
    const readyz = api.callsTo('GET', /\/readyz$/);
    expect(readyz.at(-1)!.authorization).toBe('Bearer invoker-token');
  });

  it('--dry-run prints exactly the Service the deploy sends', async () => {
    const opts = options(
      '--secret',
      'BACKEND_SHARED_SECRET=bgremove-backend-secret:3',
      '--env',
      'SESSIONS_PER_MODEL=2',
      '--no-gpu-zonal-redundancy',
      '--cpu',
      '4',
      '--memory',
      '16Gi',
      '--timeout',
      '2m',
    );
    const printed = JSON.parse(dryRunOutput(opts)) as Json;
    await deployBackend(opts, deps());
    const sent = api.callsTo('POST', /\/services$/)[0]!.service!;
    expect(sent).toEqual(normalizeService(printed));
    expect(printed).toMatchObject({
      name: NAME,
      template: {
        gpuZonalRedundancyDisabled: true,
        timeout: { seconds: 120 },
        containers: [
          {
            resources: { limits: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
            env: [
              { name: 'GOOGLE_CLOUD_PROJECT', value: 'shop-prod-123' },
              { name: 'SHUTDOWN_GRACE_MS', value: '8000' },
              { name: 'SESSIONS_PER_MODEL', value: '2' },
              {
                name: 'BACKEND_SHARED_SECRET',
                valueSource: { secretKeyRef: { secret: 'bgremove-backend-secret', version: '3' } },
              },
            ],
          },
        ],
      },
    });
  });

  it('updates an existing service in place (PATCH), makes a new revision, and moves traffic to it', async () => {
    const first = await deployBackend(options('--no-readyz-check'), deps());
    const image2 = IMAGE.replace(/a{64}$/, 'b'.repeat(64));
    const second = await deployBackend(
      parseDeployArgs(['--project', 'shop-prod-123', '--region', 'europe-west4', '--image', image2])!,
      deps(),
    );
    expect(second.action).toBe('update');
    const [patch] = api.callsTo('PATCH', /\/services\/bgremove-backend$/);
    expect(patch!.path).toBe(`/v2/${NAME}`);
    expect(((patch!.service!.template as Json).containers as Json[])[0]!.image).toBe(image2);
    expect(second.revision).not.toBe(first.revision);
    expect(second.revision).toMatch(/-00002-/);
    expect(api.callsTo('POST', /\/services$/)).toHaveLength(1);
  });

  it('--env overrides a default variable instead of sending it twice', async () => {
    await deployBackend(options('--no-readyz-check', '--env', 'SHUTDOWN_GRACE_MS=5000'), deps());
    const env = ((api.callsTo('POST', /\/services$/)[0]!.service!.template as Json).containers as Json[])[0]!
      .env;
    expect(env).toEqual([
      { name: 'GOOGLE_CLOUD_PROJECT', value: 'shop-prod-123' },
      { name: 'SHUTDOWN_GRACE_MS', value: '5000' },
    ]);
  });

  it('grants roles/run.invoker to exactly the given members', async () => {
    api.policies.clear();
    await deployBackend(
      options('--no-readyz-check', '--invoker', 'serviceAccount:edge@shop-prod-123.iam.gserviceaccount.com'),
      deps(),
    );
    const [set] = api.callsTo('POST', /:setIamPolicy$/);
    expect((set!.raw as { policy: Json }).policy.bindings).toEqual([
      { role: 'roles/run.invoker', members: ['serviceAccount:edge@shop-prod-123.iam.gserviceaccount.com'] },
    ]);
  });

  it('fails when the new revision does not become ready, naming it', async () => {
    await deployBackend(options('--no-readyz-check'), deps());
    api.failNextRollout = 'Startup probe failed: /readyz returned 503';
    const image2 = IMAGE.replace(/a{64}$/, 'c'.repeat(64));
    await expect(
      deployBackend(parseDeployArgs([...baseArgs.slice(0, 4), '--image', image2])!, deps()),
    ).rejects.toThrow(/bgremove-backend-\d{5}-\w+' is not ready: Startup probe failed/);
  });

  it('reports a private service it cannot reach without a token, without failing the deploy', async () => {
    const result = await deployBackend(options(), deps({ idToken: () => Promise.resolve(undefined) }));
    expect(result.ready).toBe(false);
    expect(lines.join('\n')).toMatch(/readyz: not confirmed \(401\): the service is private and no ID token/);
  });

  it('surfaces an API refusal of a spec (here: a GPU without enough memory)', async () => {
    const opts = { ...options(), memory: '8Gi' };
    await expect(deployBackend(opts, deps())).rejects.toThrow(/at least 16Gi/);
  });
});

afterEach(() => {
  api.failNextRollout = undefined;
});
