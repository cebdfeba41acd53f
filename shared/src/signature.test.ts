import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_BODY_SHA256, signRequest, verifySignature } from './signature';
import { sha256Hex } from './protocol';

const input = {
  secret: 's3cret',
  method: 'POST',
  pathAndQuery: '/v1/remove-background?output=matte',
  bodySha256: 'f'.repeat(64),
};

describe('request signatures', () => {
  it('matches an HMAC computed independently with node:crypto', async () => {
    const header = await signRequest(input, 1_700_000_000);
    const mac = createHmac('sha256', 's3cret')
      .update(`1700000000.POST./v1/remove-background?output=matte.${'f'.repeat(64)}`)
      .digest('hex');
    expect(header).toBe(`t=1700000000,v1=${mac}`);
  });

  it('accepts its own signature within the window and refuses tampering, staleness and absence', async () => {
    const now = 1_700_000_000;
    const header = await signRequest(input, now);
    expect(await verifySignature(header, input, now + 299)).toEqual({ ok: true });
    expect((await verifySignature(header, input, now + 301)).ok).toBe(false);
    expect((await verifySignature(header, { ...input, pathAndQuery: '/v1/remove-background' }, now)).ok).toBe(
      false,
    );
    expect((await verifySignature(header, { ...input, secret: 'other' }, now)).ok).toBe(false);
    expect((await verifySignature(header.replace('v1=', 'v1=0'), input, now)).ok).toBe(false);
    expect(await verifySignature(undefined, input, now)).toEqual({
      ok: false,
      reason: 'missing X-Signature header',
    });
    expect((await verifySignature('garbage', input, now)).ok).toBe(false);
  });

  it('knows the SHA-256 of the empty body', async () => {
    expect(await sha256Hex(new Uint8Array())).toBe(EMPTY_BODY_SHA256);
  });
});
