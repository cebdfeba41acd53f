/**
 * The edge's admin API (/admin/v1, Bearer ADMIN_TOKEN) from Node: used by `npm run keys` and by
 * `npm start` (which creates the local key). The same calls work against a deployed edge.
 */
import type { AdminKey, AdminKeyUsage } from '@bgremove/shared';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A key as the admin API lists it (with this month's usage in lists). */
export interface KeyInfo extends AdminKey {
  usage?: AdminKeyUsage;
}

export interface CreatedKey extends KeyInfo {
  key: string;
}

export interface KeyUsage extends KeyInfo {
  months: AdminKeyUsage[];
}

export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    message: string,
    /** The edge's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export class AdminClient {
  constructor(
    readonly edgeUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.edgeUrl.replace(/\/+$/, '')}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new AdminError(`cannot reach the edge at ${this.edgeUrl}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        const problem = JSON.parse(text) as { code?: string; detail?: string };
        detail = `${problem.code ?? ''}: ${problem.detail ?? ''}`;
      } catch {
        // not problem+json
      }
      throw new AdminError(`${method} ${path} failed with ${response.status} ${detail}`, response.status);
    }
    return JSON.parse(text) as T;
  }

  create(spec: { label: string; monthly_credits?: number; rate_limit_per_minute?: number }) {
    return this.call<CreatedKey>('POST', '/keys', spec);
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.call<{ keys: KeyInfo[] }>('GET', '/keys')).keys;
  }

  revoke(id: string) {
    return this.call<KeyInfo>('POST', `/keys/${encodeURIComponent(id)}/revoke`);
  }

  usage(id: string) {
    return this.call<KeyUsage>('GET', `/keys/${encodeURIComponent(id)}/usage`);
  }
}

async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** The local ADMIN_TOKEN: read from `path`, or made (32 random bytes, hex) and kept there (0600). */
export async function localAdminToken(path: string): Promise<string> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 16) return token;
  } catch {
    // first run
  }
  const token = randomBytes(32).toString('hex');
  await writePrivate(path, `${token}\n`);
  return token;
}

export interface LocalKey {
  id: string;
  key: string;
}

/**
 * The local API key `npm start` prints: the one kept at `path` while the edge still knows it
 * (and it is not revoked), else a new one, kept there (0600).
 *
 * A 503 is tried again, up to `attempts` times 500 ms apart: right after it is ready, wrangler dev
 * may still reload the Worker once, and its dev proxy answers a POST that was in flight then with
 * 503 "Your worker restarted mid-request" (it retries only GET and HEAD itself). Such a POST did
 * not reach the restarted Worker's answer; at worst a key it made stays unused in the local
 * database. Other errors, and a 503 that persists, are thrown.
 */
export async function ensureLocalKey(
  admin: AdminClient,
  path: string,
  attempts = 10,
): Promise<LocalKey & { created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureLocalKeyOnce(admin, path);
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 503 || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function ensureLocalKeyOnce(
  admin: AdminClient,
  path: string,
): Promise<LocalKey & { created: boolean }> {
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as LocalKey;
    const known = (await admin.list()).find((k) => k.id === saved.id);
    if (known && known.revoked_at === null && typeof saved.key === 'string')
      return { ...saved, created: false };
  } catch (error) {
    if (error instanceof AdminError) throw error;
    // no key kept yet, or an unreadable file: make one
  }
  const created = await admin.create({
    label: 'local (npm start)',
    monthly_credits: 1000,
    rate_limit_per_minute: 500,
  });
  const local = { id: created.id, key: created.key };
  await writePrivate(path, `${JSON.stringify(local, null, 2)}\n`);
  return { ...local, created: true };
}
