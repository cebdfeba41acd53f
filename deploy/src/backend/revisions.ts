import type { protos } from '@google-cloud/run';
import type { CloudRunClients } from '../cloud-run/clients';
import { shortName } from '../cloud-run/names';
import type { Service } from './service-resource';

export type Revision = protos.google.cloud.run.v2.IRevision;

/** Every revision of the service, newest first (the API pages; the client follows the pages). */
export async function listRevisions(clients: CloudRunClients, service: string): Promise<Revision[]> {
  const [revisions] = await clients.revisions.listRevisions({ parent: service });
  return revisions.sort((a, b) => seconds(b.createTime) - seconds(a.createTime));
}

function seconds(time: protos.google.protobuf.ITimestamp | null | undefined): number {
  return Number(time?.seconds ?? 0) + (time?.nanos ?? 0) / 1e9;
}

export function createdAt(revision: Revision): string {
  return revision.createTime ? new Date(seconds(revision.createTime) * 1000).toISOString() : '?';
}

/** Ready = the revision's Ready condition succeeded (Cloud Run's `conditions`, type "Ready"). */
export function isReady(revision: Revision): boolean {
  const ready = revision.conditions?.find((c) => c.type === 'Ready');
  return ready?.state === 'CONDITION_SUCCEEDED';
}

/** Percent of traffic each revision (short name) serves now, from the service's trafficStatuses. */
export function servingPercent(service: Service): Map<string, number> {
  const percent = new Map<string, number>();
  for (const status of service.trafficStatuses ?? []) {
    const revision =
      status.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
        ? shortName(service.latestReadyRevision)
        : status.revision;
    if (revision) percent.set(revision, (percent.get(revision) ?? 0) + (status.percent ?? 0));
  }
  return percent;
}
