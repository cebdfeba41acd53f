import type { CloudRunClients } from '../cloud-run/clients';
import { shortName } from '../cloud-run/names';
import { DEFAULT_SERVICE, parseFlags, projectSchema, regionSchema, serviceNameSchema } from '../cli/args';
import { z } from 'zod';
import { createdAt, isReady, listRevisions, servingPercent } from './revisions';
import { serviceName } from './service-resource';

export const STATUS_USAGE = `Usage: npm run status:backend -- --project P --region R [--service NAME] [--json]

Shows the backend service's URL, its revisions (newest first) and which serve traffic.`;

export interface StatusOptions {
  project: string;
  region: string;
  service: string;
  json: boolean;
}

export function parseStatusArgs(argv: readonly string[]): StatusOptions | null {
  if (argv.includes('--help') || argv.includes('-h')) return null;
  const v = parseFlags(
    argv,
    {
      project: { type: 'string' },
      region: { type: 'string' },
      service: { type: 'string' },
      json: { type: 'boolean' },
    },
    z.object({
      project: projectSchema,
      region: regionSchema,
      service: serviceNameSchema.default(DEFAULT_SERVICE),
      json: z.boolean().default(false),
    }),
  );
  return { project: v.project, region: v.region, service: v.service, json: v.json };
}

export interface RevisionStatus {
  revision: string;
  created: string;
  ready: boolean;
  image: string;
  percent: number;
  latest: boolean;
}

export interface BackendStatus {
  service: string;
  url: string | undefined;
  latestReadyRevision: string | undefined;
  revisions: RevisionStatus[];
}

export async function backendStatus(
  options: StatusOptions,
  clients: CloudRunClients,
): Promise<BackendStatus> {
  const name = serviceName(options);
  const [service] = await clients.services.getService({ name });
  const serving = servingPercent(service);
  const latest = shortName(service.latestReadyRevision);
  const revisions = (await listRevisions(clients, name)).map((revision) => {
    const short = shortName(revision.name) ?? '?';
    return {
      revision: short,
      created: createdAt(revision),
      ready: isReady(revision),
      image: revision.containers?.[0]?.image ?? '?',
      percent: serving.get(short) ?? 0,
      latest: short === latest,
    };
  });
  return { service: name, url: service.uri ?? undefined, latestReadyRevision: latest, revisions };
}

export function formatStatus(status: BackendStatus): string {
  const rows = status.revisions.map((r) => [
    r.revision,
    r.created,
    r.ready ? 'ready' : 'not-ready',
    `${r.percent}%`,
    r.latest ? 'latest' : '',
    r.image,
  ]);
  const header = ['REVISION', 'CREATED', 'READY', 'TRAFFIC', '', 'IMAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [`service: ${status.service}`, `url: ${status.url ?? 'none'}`, line(header), ...rows.map(line)].join(
    '\n',
  );
}
