import { z } from 'zod';
import type { CloudRunClients } from '../cloud-run/clients';
import { shortName } from '../cloud-run/names';
import {
  DEFAULT_SERVICE,
  parseFlags,
  projectSchema,
  regionSchema,
  serviceNameSchema,
  UsageError,
} from '../cli/args';
import { createdAt, isReady, listRevisions, servingPercent, type Revision } from './revisions';
import { serviceName, type Service } from './service-resource';

export const ROLLBACK_USAGE = `Usage: npm run rollback:backend -- --project P --region R (--to-revision REV | --previous) [options]

Moves all traffic of the backend service to one existing, ready revision (no new revision, no
rebuild). The next deploy:backend sends traffic to its new revision again.

  --project <id>          Google Cloud project id (required)
  --region <region>       Cloud Run region (required)
  --service <name>        service name                                default: ${DEFAULT_SERVICE}
  --to-revision <name>    the revision to serve (see status:backend)
  --previous              the newest ready revision older than the one serving now
  --dry-run               say what would happen, change nothing
  --help`;

export interface RollbackOptions {
  project: string;
  region: string;
  service: string;
  toRevision: string | undefined;
  previous: boolean;
  dryRun: boolean;
}

const rollbackSchema = z
  .object({
    project: projectSchema,
    region: regionSchema,
    service: serviceNameSchema.default(DEFAULT_SERVICE),
    'to-revision': z
      .string()
      .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a revision name like bgremove-backend-00003-xyz')
      .optional(),
    previous: z.boolean().default(false),
    'dry-run': z.boolean().default(false),
  })
  .refine((v) => (v['to-revision'] === undefined) !== !v.previous, {
    path: ['to-revision'],
    message: 'give exactly one of --to-revision <name> or --previous',
  });

export function parseRollbackArgs(argv: readonly string[]): RollbackOptions | null {
  if (argv.includes('--help') || argv.includes('-h')) return null;
  const v = parseFlags(
    argv,
    {
      project: { type: 'string' },
      region: { type: 'string' },
      service: { type: 'string' },
      'to-revision': { type: 'string' },
      previous: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
    rollbackSchema,
  );
  return {
    project: v.project,
    region: v.region,
    service: v.service,
    toRevision: v['to-revision'],
    previous: v.previous,
    dryRun: v['dry-run'],
  };
}

/** Which revision to go back to, or an error that says why there is none. */
export function chooseRevision(
  revisions: Revision[],
  serving: Map<string, number>,
  options: Pick<RollbackOptions, 'toRevision' | 'previous'>,
): Revision {
  if (options.toRevision) {
    const target = revisions.find((r) => shortName(r.name) === options.toRevision);
    if (!target) {
      const known = revisions.map((r) => shortName(r.name)).join(', ');
      throw new UsageError(
        `--to-revision: no revision "${options.toRevision}" in this service (it has: ${known})`,
      );
    }
    if (!isReady(target))
      throw new UsageError(`--to-revision: ${options.toRevision} is not ready; it cannot serve`);
    return target;
  }
  // The revision serving the most traffic now; "previous" is the newest ready one created before it.
  const current = [...serving.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const index = revisions.findIndex((r) => shortName(r.name) === current);
  const older = revisions.slice(index + 1).find(isReady);
  if (index < 0 || !older) {
    throw new UsageError(`--previous: no ready revision older than ${current ?? 'the serving one'}`);
  }
  return older;
}

export async function rollbackBackend(
  options: RollbackOptions,
  deps: { clients: CloudRunClients; out: (line: string) => void },
): Promise<string> {
  const name = serviceName(options);
  const [service] = await deps.clients.services.getService({ name });
  const revisions = await listRevisions(deps.clients, name);
  const target = chooseRevision(revisions, servingPercent(service), options);
  const revision = shortName(target.name)!;
  deps.out(
    `rolling back ${name}: 100% of traffic to ${revision} (created ${createdAt(target)}, ${target.containers?.[0]?.image ?? '?'})`,
  );
  if (options.dryRun) return revision;
  // Read-modify-write with the etag: a concurrent deploy makes this fail instead of being undone.
  const [operation] = await deps.clients.services.updateService({
    service: {
      ...writableFields(service),
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision, percent: 100 }],
    },
  });
  const [updated] = await operation.promise();
  const serving = [...servingPercent(updated).entries()].map(([r, p]) => `${r} ${p}%`).join(', ');
  deps.out(`traffic: ${serving}`);
  return revision;
}

/** Fields the API computes (proto OUTPUT_ONLY): not sent back. `etag` stays: it guards the update. */
const OUTPUT_ONLY = [
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'deleteTime',
  'expireTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
  'satisfiesPzs',
  'threatDetectionEnabled',
  'reconciling',
] as const;

function writableFields(service: Service): Service {
  const outputOnly = new Set<string>(OUTPUT_ONLY);
  return Object.fromEntries(Object.entries(service).filter(([key]) => !outputOnly.has(key)));
}
