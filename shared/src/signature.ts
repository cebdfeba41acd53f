import { sha256Hex, toHex } from './protocol';

/** Signatures older or newer than this many seconds are refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignatureInput {
  secret: string;
  method: string;
  /** Path plus query string exactly as sent, e.g. `/v1/remove-background?output=matte`. */
  pathAndQuery: string;
  /** Hex SHA-256 of the body (of the empty string when there is none). */
  bodySha256: string;
}

export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function signedString(t: number, input: SignatureInput): string {
  return `${t}.${input.method.toUpperCase()}.${input.pathAndQuery}.${input.bodySha256}`;
}

/** An HMAC-SHA256 key from a text secret (shared by request and Shopify app-proxy signatures). */
export async function importHmacKey(
  secret: string,
  usage: 'sign' | 'verify',
): ReturnType<typeof crypto.subtle.importKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [usage],
  );
}

/** The X-Signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export async function signRequest(
  input: SignatureInput,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  const key = await importHmacKey(input.secret, 'sign');
  const mac = await crypto.subtle.sign(
    'HMAC',
    key,
    new TextEncoder().encode(signedString(nowSeconds, input)),
  );
  return `t=${nowSeconds},v1=${toHex(new Uint8Array(mac))}`;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/** Checks a header against the request; the MAC comparison is constant-time (WebCrypto verify). */
export async function verifySignature(
  header: string | null | undefined,
  input: SignatureInput,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SignatureVerdict> {
  if (!header) return { ok: false, reason: 'missing X-Signature header' };
  const parts = new Map(
    header.split(',').map((part) => {
      const i = part.indexOf('=');
      return [part.slice(0, i).trim(), part.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/i.test(v1)) {
    return { ok: false, reason: 'malformed X-Signature header' };
  }
  if (Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'signature timestamp outside the allowed window' };
  }
  const mac = new Uint8Array(v1.match(/../g)!.map((h) => parseInt(h, 16)));
  const key = await importHmacKey(input.secret, 'verify');
  const valid = await crypto.subtle.verify(
    'HMAC',
    key,
    mac,
    new TextEncoder().encode(signedString(t, input)),
  );
  return valid ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

export { sha256Hex };
