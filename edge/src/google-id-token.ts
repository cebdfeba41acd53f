import { decodeJwt, importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';

/**
 * A Google-signed ID token for Cloud Run IAM (`Authorization: Bearer`), minted from the service
 * account key in GCP_SERVICE_ACCOUNT_KEY: a self-signed RS256 JWT (jose, on WebCrypto) exchanged at the
 * token endpoint (grant type jwt-bearer, `target_audience` = the backend URL) for an ID token whose
 * audience is that URL. Cloud Run then lets the request through only if the key's account holds
 * roles/run.invoker on the service, before any GPU instance wakes.
 *
 * Tokens live for an hour; each is reused until 5 minutes before the `exp` it carries, and
 * concurrent requests share one exchange. A failed exchange is not remembered: the next call tries
 * again. The cache is per isolate (module scope), keyed by account, endpoint and audience.
 */
export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const ASSERTION_LIFETIME_S = 3600;

const serviceAccountSchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().optional(),
});

export interface GoogleIdTokenOptions {
  /** Overrides the key's `token_uri` (itself defaulting to Google's endpoint). */
  tokenUrl?: string;
  timeoutMs?: number;
}

/** Why no token: the message names the step and the HTTP status, never the key or a token. */
export class GoogleIdTokenError extends Error {
  override name = 'GoogleIdTokenError';
}

interface CachedToken {
  header: string;
  refreshAt: number;
}

const tokens = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();
const signingKeys = new Map<string, Promise<CryptoKey>>();

/** For tests: forget every cached token and key. */
export function clearGoogleIdTokenCache(): void {
  tokens.clear();
  inFlight.clear();
  signingKeys.clear();
}

export async function googleIdTokenHeader(
  serviceAccountJson: string,
  audience: string,
  options: GoogleIdTokenOptions = {},
): Promise<string> {
  const account = parseServiceAccount(serviceAccountJson);
  const tokenUrl = options.tokenUrl ?? account.token_uri ?? DEFAULT_TOKEN_URL;
  const cacheKey = `${account.client_email}\n${tokenUrl}\n${audience}`;
  const cached = tokens.get(cacheKey);
  if (cached && Date.now() < cached.refreshAt) return cached.header;
  let pending = inFlight.get(cacheKey);
  if (!pending) {
    pending = exchange(account, tokenUrl, audience, options.timeoutMs ?? 10_000).finally(() =>
      inFlight.delete(cacheKey),
    );
    inFlight.set(cacheKey, pending);
  }
  const token = await pending;
  tokens.set(cacheKey, token);
  return token.header;
}

function parseServiceAccount(json: string): z.infer<typeof serviceAccountSchema> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new GoogleIdTokenError('GCP_SERVICE_ACCOUNT_KEY is not JSON (expected a service account key file)');
  }
  const parsed = serviceAccountSchema.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new GoogleIdTokenError(`GCP_SERVICE_ACCOUNT_KEY: missing or invalid ${fields}`);
  }
  return parsed.data;
}

async function exchange(
  account: z.infer<typeof serviceAccountSchema>,
  tokenUrl: string,
  audience: string,
  timeoutMs: number,
): Promise<CachedToken> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ target_audience: audience })
    .setProtectedHeader({
      alg: 'RS256',
      typ: 'JWT',
      ...(account.private_key_id ? { kid: account.private_key_id } : {}),
    })
    .setIssuer(account.client_email)
    .setSubject(account.client_email)
    .setAudience(tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_S)
    .sign(await signingKey(account.private_key));
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    const error = /"error"\s*:\s*"([\w.-]+)"/.exec(body)?.[1];
    throw new GoogleIdTokenError(
      `ID token exchange failed: HTTP ${response.status}${error ? ` ${error}` : ''}`,
    );
  }
  const parsed = z.object({ id_token: z.string().min(1) }).safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new GoogleIdTokenError('ID token exchange answered without an id_token');
  const token = parsed.data.id_token;
  const expiresAt = expiryOf(token) ?? Date.now() + ASSERTION_LIFETIME_S * 1000;
  return { header: `Bearer ${token}`, refreshAt: expiresAt - REFRESH_MARGIN_MS };
}

/** The `exp` claim of a JWT in ms, or undefined when it cannot be read. */
function expiryOf(jwt: string): number | undefined {
  try {
    const { exp } = decodeJwt(jwt);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The key's PKCS#8 PEM imported for RS256 once per isolate (a failed import is not kept). */
function signingKey(pem: string): Promise<CryptoKey> {
  let key = signingKeys.get(pem);
  if (!key) {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- jose types its keys with its own CryptoKey interface; in workerd they are the runtime's CryptoKey
    key = importPKCS8(pem, 'RS256').catch((error: unknown) => {
      signingKeys.delete(pem);
      throw new GoogleIdTokenError(
        `GCP_SERVICE_ACCOUNT_KEY: private_key is not a PKCS#8 RSA key (${(error as Error).name})`,
      );
    });
    signingKeys.set(pem, key);
  }
  return key;
}
