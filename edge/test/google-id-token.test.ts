import { beforeEach, describe, expect, it } from 'vitest';
import { backendFetch } from '../src/backend-fetch';
import { parseConfig } from '../src/config';
import { backend, env } from './helpers';
import { generateServiceAccountKey } from './rsa-key';

const fromBase64url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

describe('Google ID token for Cloud Run IAM', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('mints a signed JWT, exchanges it once, and sends the ID token as a Bearer', async () => {
    const { keys, pem } = await generateServiceAccountKey();
    const account = {
      client_email: 'edge@project.iam.gserviceaccount.com',
      private_key: pem,
      token_uri: `${env.TEST_CONTROL_URL}/__control/token`,
    };
    const config = parseConfig({ ...env, GCP_SERVICE_ACCOUNT_KEY: JSON.stringify(account) });
    for (let i = 0; i < 2; i++) {
      const res = await backendFetch(config, { method: 'GET', pathAndQuery: '/v1/models', timeoutMs: 2000 });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const calls = await backend.calls();
    expect(calls.requests.map((r) => r.authorization)).toEqual(
      Array(2).fill(`Bearer test-id-token for ${config.backendUrl}`),
    );
    expect(calls.requests.every((r) => r.signature === 'ok')).toBe(true);
    expect(calls.tokenAssertions).toHaveLength(1); // reused until it nears expiry
    const [header, payload, signature] = calls.tokenAssertions[0]!.split('.');
    const verified = await crypto.subtle.verify(
      'RSASSA-PKCS1-v1_5',
      keys.publicKey,
      fromBase64url(signature!),
      new TextEncoder().encode(`${header}.${payload}`),
    );
    expect(verified).toBe(true);
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload!))) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: account.client_email,
      aud: account.token_uri,
      target_audience: config.backendUrl,
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
  });
});
