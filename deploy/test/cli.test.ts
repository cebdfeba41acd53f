import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudRun } from './fake-cloud-run';

const DEPLOY_DIR = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = 'europe-west4-docker.pkg.dev/shop-prod-123/bgremove/gpu-backend@sha256:' + 'e'.repeat(64);

/** Runs one of the CLI entry points the root npm scripts call, the way they call it (tsx). */
function cli(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
      cwd: DEPLOY_DIR,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let api: FakeCloudRun;
let env: Record<string, string>;
const where = ['--project', 'shop-prod-123', '--region', 'europe-west4'];

beforeAll(async () => {
  api = new FakeCloudRun({ invokerToken: 'cli-token' });
  env = { CLOUD_RUN_EMULATOR_URL: await api.start(), ID_TOKEN: 'cli-token' };
});
afterAll(() => api.stop());

describe('the deploy CLIs as processes', () => {
  it('deploy:backend --dry-run prints the Service JSON and calls nothing', async () => {
    const result = await cli('deploy-backend', [...where, '--image', IMAGE, '--dry-run'], env);
    expect(result.code).toBe(0);
    const service = JSON.parse(result.stdout) as { name: string; template: { nodeSelector: unknown } };
    expect(service.name).toBe('projects/shop-prod-123/locations/europe-west4/services/bgremove-backend');
    expect(service.template.nodeSelector).toEqual({ accelerator: 'nvidia-l4' });
    expect(api.calls).toHaveLength(0);
  });

  it('deploy:backend with a bad flag exits 2, naming it, before any call', async () => {
    const result = await cli('deploy-backend', [...where, '--image', IMAGE, '--cpu', '3'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/error: --cpu: an L4 service takes 4, 6 or 8 vCPUs/);
    expect(result.stderr).toMatch(/Usage: npm run deploy:backend/);
    expect(api.calls).toHaveLength(0);
  });

  it('deploys, shows status, rolls back', async () => {
    const first = await cli('deploy-backend', [...where, '--image', IMAGE], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^revision: bgremove-backend-00001-\w+$/m);
    expect(first.stdout).toMatch(
      /^readyz: 200 through http:\/\/127\.0\.0\.1:\d+\/run-app\/bgremove-backend/m,
    );
    const second = await cli(
      'deploy-backend',
      [...where, '--image', IMAGE.replace(/e{64}/, 'f'.repeat(64))],
      env,
    );
    expect(second.code).toBe(0);

    const rollback = await cli('rollback-backend', [...where, '--previous'], env);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/traffic: bgremove-backend-00001-\w+ 100%/);

    const status = await cli('status-backend', [...where, '--json'], env);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { revisions: { revision: string; percent: number }[] };
    expect(parsed.revisions.map((r) => r.percent)).toEqual([0, 100]);
  });

  it('a failing API call exits 1 with its message', async () => {
    const result = await cli('status-backend', [...where, '--service', 'missing-service'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: .*missing-service.* was not found/);
  });
});
