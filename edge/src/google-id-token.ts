import { z } from 'zod';

/**
 * A Google-signed ID token for Cloud Run IAM (`Authorization: Bearer`), minted from the service
 * account key in GCP_SERVICE_ACCOUNT_KEY: a self-signed RS256 JWT exchanged at the key's token_uri
 * for an ID token whose audience is the backend URL. Tokens are reused until 5 minutes before expiry.
 */
const serviceAccountSchema = z.object({
  client_email: z.string(),
  private_key: z.string(),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
});

const cache = new Map<string, { header: string; expiresAt: number }>();

const base64url = (data: ArrayBuffer | Uint8Array | string): string => {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

async function signJwt(claims: Record<string, unknown>, pem: string): Promise<string> {
  const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    'pkcs8',
    der,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const unsigned = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(unsigned));
  return `${unsigned}.${base64url(signature)}`;
}

export async function googleIdTokenHeader(serviceAccountJson: string, audience: string): Promise<string> {
  const cached = cache.get(audience);
  if (cached && cached.expiresAt > Date.now()) return cached.header;
  const account = serviceAccountSchema.parse(JSON.parse(serviceAccountJson));
  const now = Math.floor(Date.now() / 1000);
  const assertion = await signJwt(
    {
      iss: account.client_email,
      sub: account.client_email,
      aud: account.token_uri,
      target_audience: audience,
      iat: now,
      exp: now + 3600,
    },
    account.private_key,
  );
  const response = await fetch(account.token_uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`ID token exchange failed with HTTP ${response.status}`);
  const { id_token: token } = z.object({ id_token: z.string() }).parse(await response.json());
  const header = `Bearer ${token}`;
  cache.set(audience, { header, expiresAt: Date.now() + 55 * 60 * 1000 });
  return header;
}
