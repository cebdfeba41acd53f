import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployBackend } from '../src/backend/deploy';
import { parseDeployArgs } from '../src/backend/deploy-options';
import { parseRollbackArgs, rollbackBackend } from '../src/backend/rollback';
import { backendStatus, formatStatus, parseStatusArgs } from '../src/backend/status';
import { createCloudRunClients, type CloudRunClients } from '../src/cloud-run/clients';
import { FakeCloudRun, type Json } from './fake-cloud-run';

const where = ['--project', 'shop-prod-123', '--region', 'europe-west4'];
const image = (digit: string) =>
  `europe-west4-docker.pkg.dev/shop-prod-123/bgremove/gpu-backend@sha256:${digit.repeat(64)}`;

let api: FakeCloudRun;
let clients: CloudRunClients;
const lines: string[] = [];
const out = (line: string) => lines.push(line);

/** Three deploys: revisions 00001 (a), 00002 (b), 00003 (c); 00003 serves. */
async function threeRevisions(): Promise<string[]> {
  const revisions: string[] = [];
  for (const digit of ['a', 'b', 'c']) {
    const options = parseDeployArgs([...where, '--image', image(digit), '--no-readyz-check'])!;
    revisions.push(
      (await deployBackend(options, { clients, idToken: () => Promise.resolve(undefined), out })).revision!,
    );
  }
  return revisions;
}

beforeAll(async () => {
  // Page size 2: three revisions need two pages, so the client must follow nextPageToken.
  api = new FakeCloudRun({ pageSize: 2 });
  clients = createCloudRunClients({ emulatorUrl: await api.start() });
});
afterAll(async () => {
  await clients.close();
  await api.stop();
});
beforeEach(() => {
  api.services.clear();
  api.calls.length = 0;
  lines.length = 0;
});

describe('rollback:backend and status:backend', () => {
  it('status lists every revision (across pages), newest first, with the traffic split', async () => {
    const [r1, r2, r3] = await threeRevisions();
    const status = await backendStatus(parseStatusArgs(where)!, clients);
    expect(status.revisions.map((r) => r.revision)).toEqual([r3, r2, r1]);
    expect(status.revisions.map((r) => r.percent)).toEqual([100, 0, 0]);
    expect(status.revisions[0]).toMatchObject({ ready: true, latest: true, image: image('c') });
    expect(api.callsTo('GET', /\/revisions$/).length).toBe(2);
    const table = formatStatus(status);
    expect(table).toMatch(new RegExp(`${r3}\\s+\\S+\\s+ready\\s+100%\\s+latest`));
  });

  it('--previous moves all traffic to the revision before the serving one, without a new revision', async () => {
    const [, r2, r3] = await threeRevisions();
    const revision = await rollbackBackend(parseRollbackArgs([...where, '--previous'])!, { clients, out });
    expect(revision).toBe(r2);
    const [patch] = api.callsTo('PATCH', /\/services\/bgremove-backend$/).slice(-1);
    const sent = patch!.service! as Json & { traffic: Json[] };
    expect(sent.traffic).toEqual([
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r2, percent: 100 },
    ]);
    // Only writable fields go back, with the etag that guards against a concurrent change.
    expect(sent).not.toHaveProperty('uri');
    expect(sent).not.toHaveProperty('latestReadyRevision');
    expect(sent.etag).toMatch(/^"/);
    expect(lines.at(-1)).toBe(`traffic: ${r2} 100%`);

    const status = await backendStatus(parseStatusArgs(where)!, clients);
    expect(status.revisions.map((r) => [r.revision, r.percent])).toEqual([
      [r3, 0],
      [r2, 100],
      [expect.any(String), 0],
    ]);
    // Run again: "previous" is now relative to r2.
    const again = await rollbackBackend(parseRollbackArgs([...where, '--previous'])!, { clients, out });
    expect(again).toBe(status.revisions[2]!.revision);
  });

  it('--to-revision pins a named revision; a later deploy sends traffic to its new revision again', async () => {
    const [r1] = await threeRevisions();
    await rollbackBackend(parseRollbackArgs([...where, '--to-revision', r1!])!, { clients, out });
    let status = await backendStatus(parseStatusArgs(where)!, clients);
    expect(status.revisions.find((r) => r.revision === r1)!.percent).toBe(100);

    const deployed = await deployBackend(
      parseDeployArgs([...where, '--image', image('d'), '--no-readyz-check'])!,
      {
        clients,
        idToken: () => Promise.resolve(undefined),
        out,
      },
    );
    status = await backendStatus(parseStatusArgs(where)!, clients);
    expect(status.revisions[0]).toMatchObject({ revision: deployed.revision, percent: 100 });
  });

  it('refuses an unknown revision, naming the flag and listing the known ones', async () => {
    const [r1] = await threeRevisions();
    await expect(
      rollbackBackend(parseRollbackArgs([...where, '--to-revision', 'bgremove-backend-00099-zzz'])!, {
        clients,
        out,
      }),
    ).rejects.toThrow(new RegExp(`--to-revision: no revision "bgremove-backend-00099-zzz".*${r1}`));
    expect(api.callsTo('PATCH', /./)).toHaveLength(3 - 1);
  });

  it('--previous with a single revision says there is nothing to go back to', async () => {
    await deployBackend(parseDeployArgs([...where, '--image', image('a'), '--no-readyz-check'])!, {
      clients,
      idToken: () => Promise.resolve(undefined),
      out,
    });
    await expect(
      rollbackBackend(parseRollbackArgs([...where, '--previous'])!, { clients, out }),
    ).rejects.toThrow(/--previous: no ready revision older than bgremove-backend-00001-/);
  });

  it('--dry-run names the target and changes nothing', async () => {
    const [, r2] = await threeRevisions();
    const patches = api.callsTo('PATCH', /./).length;
    expect(
      await rollbackBackend(parseRollbackArgs([...where, '--previous', '--dry-run'])!, { clients, out }),
    ).toBe(r2);
    expect(api.callsTo('PATCH', /./)).toHaveLength(patches);
  });
});
