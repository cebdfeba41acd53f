import { z } from 'zod';
import {
  DEFAULT_SERVICE,
  intFlag,
  parseFlags,
  projectSchema,
  regionSchema,
  serviceNameSchema,
} from '../cli/args';

export const DEPLOY_USAGE = `Usage: npm run deploy:backend -- --project P --region R --image I [options]

Creates or updates the GPU backend's Cloud Run service (one NVIDIA L4, CPU always allocated,
startup probe on /readyz), waits for the rollout, prints the revision and URL, then checks /readyz
through the URL (with a Google ID token when credentials allow).

  --project <id>              Google Cloud project id (required)
  --region <region>           Cloud Run region with L4 GPUs, e.g. europe-west4 (required)
  --image <ref>               container image, ideally pinned by digest (required)
  --service <name>            service name                         default: ${DEFAULT_SERVICE}
  --min-instances <n>         instances kept warm (billed while up) default: 0
  --max-instances <n>         upper bound (GPU quota)              default: 2
  --concurrency <n>           requests per instance                default: 8
  --cpu <n>                   vCPUs: 4, 6 or 8 (an L4 needs >= 4)  default: 8
  --memory <size>             16Gi..32Gi (an L4 needs >= 16Gi)     default: 32Gi
  --timeout <duration>        request timeout: 300, 300s, 5m        default: 300s
  --service-account <email>   the revision's runtime identity      default: the project's compute default
  --env KEY=VALUE             environment variable (repeatable)
  --secret ENV=SECRET[:VER]   env var from Secret Manager (repeatable; VER default "latest")
  --invoker <member>          the only principal granted roles/run.invoker (repeatable),
                              e.g. serviceAccount:bgremove-edge@P.iam.gserviceaccount.com
  --no-gpu-zonal-redundancy   cheaper, needs the non-redundant GPU quota; no zonal failover
  --no-readyz-check           do not call /readyz after the rollout
  --dry-run                   print the Service resource that would be sent, call nothing
  --help`;

/** Set by Cloud Run itself; a deploy that sets them fails there, so it fails here first. */
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION']);

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envEntry = z.string().transform((entry, ctx) => {
  const eq = entry.indexOf('=');
  const key = eq > 0 ? entry.slice(0, eq) : '';
  if (!envName.test(key)) {
    ctx.addIssue({ code: 'custom', message: `expected KEY=VALUE with KEY like MAX_QUEUE, got "${entry}"` });
    return z.NEVER;
  }
  if (RESERVED_ENV.has(key)) {
    ctx.addIssue({ code: 'custom', message: `${key} is set by Cloud Run and cannot be overridden` });
    return z.NEVER;
  }
  return { name: key, value: entry.slice(eq + 1) };
});

const secretEntry = z.string().transform((entry, ctx) => {
  const match =
    /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9_-]{1,255}|projects\/[^/:]+\/secrets\/[A-Za-z0-9_-]{1,255})(?::(latest|\d+))?$/.exec(
      entry,
    );
  if (!match) {
    ctx.addIssue({
      code: 'custom',
      message: `expected ENV=SECRET or ENV=SECRET:VERSION (VERSION a number or "latest"), got "${entry}"`,
    });
    return z.NEVER;
  }
  if (RESERVED_ENV.has(match[1]!)) {
    ctx.addIssue({ code: 'custom', message: `${match[1]} is set by Cloud Run and cannot be overridden` });
    return z.NEVER;
  }
  return { name: match[1]!, secret: match[2]!, version: match[3] ?? 'latest' };
});

const memorySchema = z
  .string()
  .regex(/^\d+(Gi|Mi)$/, 'expected a size like 16Gi or 24576Mi')
  .refine((value) => {
    const mib = Number.parseInt(value, 10) * (value.endsWith('Gi') ? 1024 : 1);
    return mib >= 16 * 1024 && mib <= 32 * 1024;
  }, 'an L4 service needs from 16Gi to 32Gi');

const timeoutSchema = z
  .string()
  .regex(/^\d+(s|m)?$/, 'expected seconds (300 or 300s) or minutes (5m)')
  .transform((value) => Number.parseInt(value, 10) * (value.endsWith('m') ? 60 : 1))
  .pipe(z.number().min(1, 'expected at least 1 second').max(3600, 'expected at most 3600 seconds (60m)'));

const memberSchema = z
  .string()
  .regex(
    /^(serviceAccount|user|group|domain|principal|principalSet):\S+$/,
    'expected an IAM member like serviceAccount:edge@my-project.iam.gserviceaccount.com',
  );

const deploySchema = z
  .object({
    project: projectSchema,
    region: regionSchema,
    image: z
      .string({ error: 'required (e.g. europe-west4-docker.pkg.dev/P/bgremove/gpu-backend@sha256:...)' })
      .regex(
        /^[a-z0-9.-]+(:\d+)?\/[^\s@:]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/,
        'expected an image reference like REGISTRY/PATH[:TAG][@sha256:DIGEST]',
      ),
    service: serviceNameSchema.default(DEFAULT_SERVICE),
    'min-instances': intFlag(0, 100).default(0),
    'max-instances': intFlag(1, 100).default(2),
    concurrency: intFlag(1, 1000).default(8),
    cpu: z.enum(['4', '6', '8'], { error: 'an L4 service takes 4, 6 or 8 vCPUs' }).default('8'),
    memory: memorySchema.default('32Gi'),
    timeout: timeoutSchema.default(300),
    'service-account': z.email('expected a service account e-mail').optional(),
    env: z.array(envEntry).default([]),
    secret: z.array(secretEntry).default([]),
    invoker: z.array(memberSchema).default([]),
    'no-gpu-zonal-redundancy': z.boolean().default(false),
    'no-readyz-check': z.boolean().default(false),
    'dry-run': z.boolean().default(false),
  })
  .superRefine((v, ctx) => {
    if (v['min-instances'] > v['max-instances']) {
      ctx.addIssue({
        code: 'custom',
        path: ['min-instances'],
        message: `(${v['min-instances']}) must not exceed --max-instances (${v['max-instances']})`,
      });
    }
    const seen = new Set<string>();
    for (const { name } of [...v.env, ...v.secret]) {
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['env'],
          message: `${name} is given more than once (--env/--secret)`,
        });
      }
      seen.add(name);
    }
  });

export type DeployOptions = {
  project: string;
  region: string;
  image: string;
  service: string;
  minInstances: number;
  maxInstances: number;
  concurrency: number;
  cpu: string;
  memory: string;
  timeoutSeconds: number;
  serviceAccount: string | undefined;
  env: { name: string; value: string }[];
  secrets: { name: string; secret: string; version: string }[];
  invokers: string[];
  gpuZonalRedundancy: boolean;
  readyzCheck: boolean;
  dryRun: boolean;
};

/** `--help` gives null; anything wrong throws UsageError naming the flag. */
export function parseDeployArgs(argv: readonly string[]): DeployOptions | null {
  if (argv.includes('--help') || argv.includes('-h')) return null;
  const v = parseFlags(
    argv,
    {
      project: { type: 'string' },
      region: { type: 'string' },
      image: { type: 'string' },
      service: { type: 'string' },
      'min-instances': { type: 'string' },
      'max-instances': { type: 'string' },
      concurrency: { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      timeout: { type: 'string' },
      'service-account': { type: 'string' },
      env: { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      invoker: { type: 'string', multiple: true },
      'no-gpu-zonal-redundancy': { type: 'boolean' },
      'no-readyz-check': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
    deploySchema,
  );
  return {
    project: v.project,
    region: v.region,
    image: v.image,
    service: v.service,
    minInstances: v['min-instances'],
    maxInstances: v['max-instances'],
    concurrency: v.concurrency,
    cpu: v.cpu,
    memory: v.memory,
    timeoutSeconds: v.timeout,
    serviceAccount: v['service-account'],
    env: v.env,
    secrets: v.secret,
    invokers: v.invoker,
    gpuZonalRedundancy: !v['no-gpu-zonal-redundancy'],
    readyzCheck: !v['no-readyz-check'],
    dryRun: v['dry-run'],
  };
}
