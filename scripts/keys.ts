/**
 * `npm run keys -- create|list|revoke|usage`: API keys of the edge, through its admin API.
 *
 *   npm run keys -- create --label "Shop A" [--credits 50] [--rate-limit 500]
 *   npm run keys -- list
 *   npm run keys -- revoke key_...
 *   npm run keys -- usage key_...
 *
 * EDGE_URL (default http://127.0.0.1:$EDGE_PORT, 8787) says which edge; ADMIN_TOKEN its admin
 * token (locally, when unset: the one `npm start` keeps in $STATE_DIR/admin-token). Add --json for
 * machine-readable output.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient, AdminError, type KeyInfo } from './lib/admin-client';
import { REPO_ROOT } from './lib/stack';

const USAGE = `Usage: npm run keys -- <command> [options]

  create --label TEXT [--credits N] [--rate-limit N]   new key (shown once); credits per month (default 50,
                                                        multiples of 0.25), requests per minute (default 500)
  list                                                  every key with this month's usage
  revoke KEY_ID                                         refuse the key from now on
  usage KEY_ID                                          credits and requests per month

Options: --json (raw JSON). Environment: EDGE_URL (http://127.0.0.1:8787), ADMIN_TOKEN
(default: the local one in .state/admin-token, written by npm start).`;

class UsageError extends Error {}

async function adminToken(): Promise<string> {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const path = join(resolve(REPO_ROOT, process.env.STATE_DIR || '.state'), 'admin-token');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    throw new UsageError(`ADMIN_TOKEN is not set and ${path} does not exist (npm start writes it)`);
  }
}

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} must be a number, got "${raw}"`);
  return value;
}

const row = (k: KeyInfo) =>
  [
    k.id.padEnd(17),
    `${k.key_prefix}…`.padEnd(12),
    (k.revoked_at ? 'revoked' : 'active').padEnd(8),
    `${k.usage ? `${k.usage.credits_charged}/` : ''}${k.monthly_credits}`.padStart(12),
    `${k.rate_limit_per_minute}/min`.padStart(10),
    `  ${k.label}`,
  ].join(' ');

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      label: { type: 'string' },
      credits: { type: 'string' },
      'rate-limit': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, id, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const edgeUrl = process.env.EDGE_URL || `http://127.0.0.1:${process.env.EDGE_PORT || 8787}`;
  const admin = new AdminClient(edgeUrl, await adminToken());
  const print = (value: unknown, text: () => string) =>
    console.log(values.json ? JSON.stringify(value, null, 2) : text());
  const needId = () => {
    if (!id) throw new UsageError(`${command} needs a key id (key_...; see npm run keys -- list)`);
    return id;
  };
  switch (command) {
    case 'create': {
      if (!values.label) throw new UsageError('create needs --label');
      if (id) throw new UsageError(`unexpected argument: ${id}`);
      const created = await admin.create({
        label: values.label,
        monthly_credits: number('credits', values.credits),
        rate_limit_per_minute: number('rate-limit', values['rate-limit']),
      });
      print(created, () =>
        [
          `created ${created.id} (${created.label}): ${created.monthly_credits} credits/month, ${created.rate_limit_per_minute} requests/min`,
          '',
          `  ${created.key}`,
          '',
          'The key is shown this once; only its hash is stored.',
        ].join('\n'),
      );
      return;
    }
    case 'list': {
      const keys = await admin.list();
      print(keys, () =>
        keys.length === 0
          ? 'no keys'
          : [
              `${'id'.padEnd(17)} ${'key'.padEnd(12)} ${'state'.padEnd(8)} ${'credits'.padStart(12)} ${'limit'.padStart(10)}  label`,
              ...keys.map(row),
            ].join('\n'),
      );
      return;
    }
    case 'revoke': {
      const revoked = await admin.revoke(needId());
      print(revoked, () => `revoked ${revoked.id} (${revoked.label}) at ${revoked.revoked_at}`);
      return;
    }
    case 'usage': {
      const usage = await admin.usage(needId());
      print(usage, () =>
        [
          `${usage.id} (${usage.label}): ${usage.monthly_credits} credits/month${usage.revoked_at ? `, revoked ${usage.revoked_at}` : ''}`,
          ...(usage.months.length === 0
            ? ['  no usage yet']
            : usage.months.map(
                (m) =>
                  `  ${m.month}  ${m.credits_charged} credits, ${m.requests} requests (${m.cached_requests} from the cache, 0 credits)`,
              )),
        ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    error instanceof AdminError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`keys: ${(error as Error).message}`);
    process.exitCode = error instanceof UsageError || !(error instanceof AdminError) ? 2 : 1;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
