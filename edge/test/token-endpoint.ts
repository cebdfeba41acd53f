/**
 * A stand-in for Google's OAuth token endpoint (Node, 127.0.0.1), for the ID-token tests in workerd.
 * It owns a service account key pair and hands the tests the key file JSON; POST /token accepts the
 * jwt-bearer grant only when the assertion's RS256 signature verifies with the account's public key,
 * `iss`/`sub` are the account, `aud` is this endpoint, `target_audience` is set, and `iat`/`exp`
 * are current (at most an hour apart). It answers with an ID token (signed by its own "Google" key)
 * whose `aud` is the target audience. GET /echo checks such a token like Cloud Run's IAM would and
 * echoes the request's Authorization header. Control: GET /__control/calls, POST /__control/mode.
 */
import { createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenEndpointCalls, TokenEndpointMode } from './token-endpoint-context';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export class TokenEndpoint {
  readonly clientEmail = 'bgremove-edge@test-project.iam.gserviceaccount.com';
  readonly #account = generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly #google = generateKeyPairSync('rsa', { modulusLength: 2048 });
  #server: Server | undefined;
  #mode: TokenEndpointMode = {};
  #calls: TokenEndpointCalls = { exchanges: 0, refused: [], audiences: [] };
  url = '';

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** The key file as `gcloud iam service-accounts keys create` writes it (token_uri: this server). */
  serviceAccountJson(): string {
    return JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: 'test-key-1',
      private_key: this.#account.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: this.clientEmail,
      client_id: '1234567890',
      token_uri: `${this.url}/token`,
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (path === '/__control/calls') {
      json(res, 200, this.#calls);
      return;
    }
    if (path === '/__control/mode') {
      this.#mode = JSON.parse(body || '{}') as TokenEndpointMode;
      this.#calls = { exchanges: 0, refused: [], audiences: [] };
      json(res, 200, this.#calls);
      return;
    }
    if (path === '/token' && req.method === 'POST') return this.#token(body, res);
    if (path === '/echo') {
      this.#echo(req, res);
      return;
    }
    json(res, 404, { error: 'not_found' });
  }

  async #token(body: string, res: ServerResponse): Promise<void> {
    if (this.#mode.delayMs) await new Promise((r) => setTimeout(r, this.#mode.delayMs));
    const form = new URLSearchParams(body);
    const refuse = (reason: string, status = 400) => {
      this.#calls.refused.push({ reason });
      json(res, status, { error: 'invalid_grant', error_description: reason });
    };
    if (this.#mode.failWith) {
      refuse('told to fail', this.#mode.failWith);
      return;
    }
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      refuse('grant_type');
      return;
    }
    const claims = verifyJwt(form.get('assertion') ?? '', this.#account.publicKey);
    if (typeof claims === 'string') {
      refuse(claims);
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.clientEmail || claims.sub !== this.clientEmail) {
      refuse('iss/sub');
      return;
    }
    if (claims.aud !== `${this.url}/token`) {
      refuse(`aud ${String(claims.aud)}`);
      return;
    }
    if (typeof claims.target_audience !== 'string' || !claims.target_audience) {
      refuse('target_audience');
      return;
    }
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!(Math.abs(iat - now) <= 60 && exp > now && exp - iat <= 3600)) {
      refuse(`iat/exp ${iat}/${exp}`);
      return;
    }
    this.#calls.exchanges++;
    this.#calls.audiences.push(claims.target_audience);
    const lifetime = this.#mode.lifetimeSeconds ?? 3600;
    const idToken = signJwt(
      {
        iss: 'https://accounts.google.com',
        aud: claims.target_audience,
        email: this.clientEmail,
        iat: now,
        exp: now + lifetime,
      },
      this.#google.privateKey,
    );
    json(res, 200, { id_token: idToken });
  }

  /** As Cloud Run IAM: a valid Google-signed token whose audience is this service's URL. */
  #echo(req: IncomingMessage, res: ServerResponse): void {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const claims = token ? verifyJwt(token, createPublicKey(this.#google.privateKey)) : 'no token';
    if (typeof claims === 'string') return json(res, 401, { error: claims });
    if (claims.aud !== this.url) return json(res, 403, { error: `aud ${String(claims.aud)}` });
    json(res, 200, { authorization: req.headers.authorization, aud: claims.aud, email: claims.email });
  }
}

function signJwt(claims: object, key: KeyObject): string {
  const unsigned = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
}

/** The claims when the RS256 signature verifies with `publicKey`, else why not. */
function verifyJwt(jwt: string, publicKey: KeyObject): Record<string, unknown> | string {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return 'not a JWT';
  const { alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
  if (alg !== 'RS256') return `alg ${alg}`;
  const ok = createVerify('RSA-SHA256')
    .update(`${header}.${payload}`)
    .verify(publicKey, Buffer.from(signature, 'base64url'));
  if (!ok) return 'bad signature';
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}
