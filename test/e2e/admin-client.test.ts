/**
 * `npm start`'s local key (scripts/lib/admin-client.ts ensureLocalKey) when the edge answers 503
 * while wrangler dev reloads the Worker: tried again, not a failed start. The edge's admin API is
 * played by a small HTTP server here, because the dev proxy's 503 (a POST in flight while the
 * Worker restarts) cannot be brought about on purpose; the real edge's admin API is exercised by
 * start-script.test.ts and removebg-client.test.ts.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminError, ensureLocalKey } from '../../scripts/lib/admin-client';

let server: Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An admin API whose first `failures` calls get the dev proxy's 503; counts POST /keys. */
async function adminApi(failures: number) {
  let calls = 0;
  let creates = 0;
  server = createServer((request, response) => {
    calls++;
    if (calls <= failures) {
      response.writeHead(503, { 'retry-after': '0' });
      response.end('Your worker restarted mid-request. Please try sending the request again.');
      return;
    }
    if (request.method === 'POST' && request.url === '/admin/v1/keys') {
      creates++;
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: `key_${creates}`, key: `sk_${creates}`, revoked_at: null }));
      return;
    }
    response.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'bgremove-admin-'));
  return { admin: new AdminClient(url, 'token'), path: join(dir, 'api-key.json'), creates: () => creates };
}

describe('ensureLocalKey', () => {
  it('tries a 503 again and keeps the key it then gets', async () => {
    const { admin, path, creates } = await adminApi(2);
    const key = await ensureLocalKey(admin, path);
    expect(key).toMatchObject({ id: 'key_1', key: 'sk_1', created: true });
    expect(creates()).toBe(1);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ id: 'key_1', key: 'sk_1' });
  });

  it('gives up with the 503 when it persists', async () => {
    const { admin, path, creates } = await adminApi(100);
    const error = await ensureLocalKey(admin, path, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminError);
    expect((error as AdminError).status).toBe(503);
    expect(creates()).toBe(0);
  });
});
