import { describe, expect, it } from 'vitest';
import { parseDeployArgs } from '../src/backend/deploy-options';
import { chooseRevision, parseRollbackArgs } from '../src/backend/rollback';
import { UsageError } from '../src/cli/args';

const IMAGE = 'europe-west4-docker.pkg.dev/p/bgremove/gpu-backend:v1';
const base = ['--project', 'shop-prod-123', '--region', 'europe-west4', '--image', IMAGE];

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('deploy:backend flags', () => {
  it('has L4-fitting defaults', () => {
    expect(parseDeployArgs(base)).toMatchObject({
      service: 'bgremove-backend',
      minInstances: 0,
      maxInstances: 2,
      concurrency: 8,
      cpu: '8',
      memory: '32Gi',
      timeoutSeconds: 300,
      gpuZonalRedundancy: true,
      readyzCheck: true,
      dryRun: false,
      env: [],
      secrets: [],
    });
  });

  it('names every missing required flag', () => {
    const message = errorOf(() => parseDeployArgs([]));
    expect(message).toMatch(/--project: required/);
    expect(message).toMatch(/--region: required/);
    expect(message).toMatch(/--image: required/);
  });

  it.each([
    [['--cpu', '2'], /--cpu: an L4 service takes 4, 6 or 8 vCPUs/],
    [['--memory', '8Gi'], /--memory: an L4 service needs from 16Gi to 32Gi/],
    [['--memory', 'lots'], /--memory: expected a size like 16Gi/],
    [
      ['--min-instances', '3', '--max-instances', '2'],
      /--min-instances: \(3\) must not exceed --max-instances \(2\)/,
    ],
    [['--concurrency', '0'], /--concurrency: expected at least 1/],
    [['--concurrency', 'many'], /--concurrency: expected a whole number/],
    [['--timeout', '2h'], /--timeout: expected seconds/],
    [['--timeout', '61m'], /--timeout: expected at most 3600 seconds/],
    [['--env', 'PORT=9000'], /--env: PORT is set by Cloud Run/],
    [['--env', 'novalue'], /--env: expected KEY=VALUE/],
    [['--secret', 'KEY=bad/name'], /--secret: expected ENV=SECRET or ENV=SECRET:VERSION/],
    [['--env', 'A=1', '--secret', 'A=sec'], /A is given more than once/],
    [['--service', 'Bad_Name'], /--service: expected a lowercase name/],
    [['--invoker', 'allUsers'], /--invoker: expected an IAM member/],
    [['--service-account', 'nope'], /--service-account: expected a service account e-mail/],
    [['--region', 'Europe'], /--region: expected a region/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('refuses %j', (extra, pattern) => {
    expect(errorOf(() => parseDeployArgs([...base, ...extra]))).toMatch(pattern);
  });

  it('parses repeatable env, secrets and units', () => {
    const options = parseDeployArgs([
      ...base,
      '--env',
      'A=x=y',
      '--env',
      'B=',
      '--secret',
      'BACKEND_SHARED_SECRET=backend-secret',
      '--secret',
      'OTHER=projects/p/secrets/other:7',
      '--timeout',
      '5m',
      '--memory',
      '24576Mi',
      '--no-gpu-zonal-redundancy',
    ])!;
    expect(options.env).toEqual([
      { name: 'A', value: 'x=y' },
      { name: 'B', value: '' },
    ]);
    expect(options.secrets).toEqual([
      { name: 'BACKEND_SHARED_SECRET', secret: 'backend-secret', version: 'latest' },
      { name: 'OTHER', secret: 'projects/p/secrets/other', version: '7' },
    ]);
    expect(options.timeoutSeconds).toBe(300);
    expect(options.memory).toBe('24576Mi');
    expect(options.gpuZonalRedundancy).toBe(false);
  });
});

describe('rollback:backend flags and choice', () => {
  const where = ['--project', 'shop-prod-123', '--region', 'europe-west4'];
  it('needs exactly one of --to-revision and --previous', () => {
    expect(errorOf(() => parseRollbackArgs(where))).toMatch(/--to-revision: give exactly one of/);
    expect(errorOf(() => parseRollbackArgs([...where, '--previous', '--to-revision', 'x-1']))).toMatch(
      /exactly one/,
    );
  });

  it('skips revisions that are not ready when going back', () => {
    const rev = (n: string, ready: boolean) => ({
      name: `projects/p/locations/r/services/s/revisions/${n}`,
      conditions: [{ type: 'Ready', state: ready ? 'CONDITION_SUCCEEDED' : 'CONDITION_FAILED' }],
    });
    const revisions = [rev('s-3', true), rev('s-2', false), rev('s-1', true)] as never[];
    expect(
      chooseRevision(revisions, new Map([['s-3', 100]]), { toRevision: undefined, previous: true }).name,
    ).toMatch(/s-1$/);
    expect(() => chooseRevision(revisions, new Map(), { toRevision: 's-2', previous: false })).toThrow(
      /not ready/,
    );
  });
});
