import { beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { backendFetch } from '../src/backend-fetch';
import { parseConfig } from '../src/config';
import { clearGoogleIdTokenCache, googleIdTokenHeader, GoogleIdTokenError } from '../src/google-id-token';
import { env } from './helpers';
import { generateServiceAccountKey } from './rsa-key';
import type { TokenEndpointCalls, TokenEndpointMode } from './token-endpoint-context';

const endpoint = inject('tokenEndpointUrl');
const key = inject('serviceAccountKey');
const AUDIENCE = 'https://bgremove-backend-abc123-ez.a.run.app';

async function control(path: 'calls' | 'mode', mode?: TokenEndpointMode): Promise<TokenEndpointCalls> {
  const response = await fetch(`${endpoint}/__control/${path}`, {
    method: mode ? 'POST' : 'GET',
    body: mode ? JSON.stringify(mode) : null,
  });
  return response.json();
}

const claimsOf = (header: string) =>
  JSON.parse(
    atob(
      header
        .replace(/^Bearer /, '')
        .split('.')[1]!
        .replace(/-/g, '+')
        .replace(/_/g, '/'),
    ),
  ) as {
    aud: string;
    exp: number;
    email: string;
  };

beforeEach(async () => {
  clearGoogleIdTokenCache();
  await control('mode', {});
});

describe('Google ID token from a service account key (WebCrypto RS256, jwt-bearer exchange)', () => {
  it('exchanges a signed assertion for an ID token for the audience, then reuses it', async () => {
    const header = await googleIdTokenHeader(key, AUDIENCE);
    expect(header).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = claimsOf(header);
    expect(claims.aud).toBe(AUDIENCE);
    expect(claims.email).toBe('bgremove-edge@test-project.iam.gserviceaccount.com');
    // The endpoint verified signature, iss/sub, aud, target_audience, iat/exp before answering.
    let calls = await control('calls');
    expect(calls).toEqual({ exchanges: 1, refused: [], audiences: [AUDIENCE] });

    expect(await googleIdTokenHeader(key, AUDIENCE)).toBe(header);
    expect(await googleIdTokenHeader(key, `${AUDIENCE}/`)).not.toBe(header);
    calls = await control('calls');
    expect(calls.exchanges).toBe(2);
  });

  it('mints again once the token is within 5 minutes of its expiry', async () => {
    await control('mode', { lifetimeSeconds: 240 });
    await googleIdTokenHeader(key, AUDIENCE);
    await googleIdTokenHeader(key, AUDIENCE);
    expect((await control('calls')).exchanges).toBe(2);

    await control('mode', { lifetimeSeconds: 400 });
    clearGoogleIdTokenCache();
    await googleIdTokenHeader(key, AUDIENCE);
    await googleIdTokenHeader(key, AUDIENCE);
    expect((await control('calls')).exchanges).toBe(1);
  });

  it('shares one exchange among concurrent callers', async () => {
    await control('mode', { delayMs: 200 });
    const headers = await Promise.all(Array.from({ length: 5 }, () => googleIdTokenHeader(key, AUDIENCE)));
    expect(new Set(headers).size).toBe(1);
    expect((await control('calls')).exchanges).toBe(1);
  });

  it('a refused exchange throws (status, no secrets) and is not remembered', async () => {
    await control('mode', { failWith: 400 });
    const error = await googleIdTokenHeader(key, AUDIENCE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoogleIdTokenError);
    expect((error as Error).message).toBe('ID token exchange failed: HTTP 400 invalid_grant');
    await control('mode', {});
    expect(claimsOf(await googleIdTokenHeader(key, AUDIENCE)).aud).toBe(AUDIENCE);
  });

  it('the endpoint refuses an assertion signed by another key (the test endpoint really verifies)', async () => {
    const { pem } = await generateServiceAccountKey();
    const forged = JSON.stringify({ ...JSON.parse(key), private_key: pem });
    await expect(googleIdTokenHeader(forged, AUDIENCE)).rejects.toThrow(/HTTP 400/);
    expect((await control('calls')).refused).toEqual([{ reason: 'bad signature' }]);
  });

  it('names the problem with a malformed key without echoing it', async () => {
    await expect(googleIdTokenHeader('not json', AUDIENCE)).rejects.toThrow(
      /GCP_SERVICE_ACCOUNT_KEY is not JSON/,
    );
    const noKey = JSON.stringify({ client_email: 'a@b.c', token_uri: `${endpoint}/token` });
    await expect(googleIdTokenHeader(noKey, AUDIENCE)).rejects.toThrow(/missing or invalid private_key/);
    const badKey = JSON.stringify({
      ...JSON.parse(key),
      private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
    });
    const error = (await googleIdTokenHeader(badKey, AUDIENCE).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/private_key is not a PKCS#8 RSA key/);
    expect(error.message).not.toContain('AAAA');
  });

  it('tokenUrl overrides the key file token_uri', async () => {
    const elsewhere = JSON.stringify({ ...JSON.parse(key), token_uri: 'https://oauth2.invalid/token' });
    // The assertion's aud must be the endpoint actually used, or the endpoint refuses it.
    const header = await googleIdTokenHeader(elsewhere, AUDIENCE, { tokenUrl: `${endpoint}/token` });
    expect(claimsOf(header).aud).toBe(AUDIENCE);
  });

  it('the backend client sends it as Authorization: Bearer when GCP_SERVICE_ACCOUNT_KEY is set', async () => {
    // The token endpoint's /echo plays Cloud Run IAM: it accepts only a Google-signed token for its URL.
    const config = parseConfig({ ...env, BACKEND_URL: endpoint, GCP_SERVICE_ACCOUNT_KEY: key });
    const response = await backendFetch(config, { method: 'GET', pathAndQuery: '/echo', timeoutMs: 5000 });
    expect(response.status).toBe(200);
    const echoed = await response.json<{ authorization: string; aud: string }>();
    expect(echoed.aud).toBe(endpoint);
    expect(echoed.authorization).toMatch(/^Bearer /);

    const without = parseConfig({ ...env, BACKEND_URL: endpoint, GCP_SERVICE_ACCOUNT_KEY: '' });
    const refused = await backendFetch(without, { method: 'GET', pathAndQuery: '/echo', timeoutMs: 5000 });
    expect(refused.status).toBe(401);
  });
});
