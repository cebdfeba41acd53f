/**
 * A stand-in for gpu-backend/ that follows its HTTP contract (docs/API.md, "Backend API"),
 * counts its calls, verifies X-Signature with the shared code, and can be told to be slow, down
 * (connections refused), unavailable (503), overloaded, hanging, to answer a problem, or to claim
 * other model weights than the pinned ones.
 * It runs in Node: started by test/global-setup.ts for the workerd tests and by the bench.
 * Control API (separate port, so "down" does not take it away):
 *   POST /__control/mode {kind, delayMs?, failFirst?, upAfterMs?, problem?}   POST /__control/reset
 *   GET  /__control/calls -> { counts, requests }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  HEADERS,
  MODEL_MANIFEST,
  OUTPUT_CONTENT_TYPES,
  PROBLEM_CONTENT_TYPE,
  findModel,
  problemBody,
  readImageSize,
  removeBackgroundQuerySchema,
  sha256Hex,
  sniffImageType,
  verifySignature,
  type ErrorCode,
} from '@bgremove/shared';
import type { BackendMode, RecordedRequest } from './backend-control';

export type { BackendMode, RecordedRequest };

const routeName = (method: string, path: string) => `${method} ${path.split('?')[0]}`;

export class FakeBackend {
  mode: BackendMode = { kind: 'ok' };
  counts: Record<string, number> = {};
  requests: RecordedRequest[] = [];
  /** JWT assertions received by the fake Google token endpoint (POST /__control/token). */
  tokenAssertions: string[] = [];
  readonly #secret: string | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #hanging = new Set<ServerResponse>();
  #server: Server | undefined;
  #control: Server | undefined;
  #port = 0;
  #failed = 0;
  #upTimer: NodeJS.Timeout | undefined;

  constructor(options: { secret?: string } = {}) {
    this.#secret = options.secret;
  }

  get port(): number {
    return this.#port;
  }

  async start(port = 0, controlPort = 0): Promise<{ port: number; controlPort: number }> {
    await this.#listen(port);
    this.#control = createServer((req, res) => void this.#handleControl(req, res));
    await new Promise<void>((resolve) => this.#control!.listen(controlPort, '127.0.0.1', resolve));
    return { port: this.#port, controlPort: (this.#control.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    await this.#close();
    await new Promise((resolve) => this.#control?.close(resolve));
  }

  async reset(): Promise<void> {
    await this.setMode({ kind: 'ok' });
    this.counts = {};
    this.requests = [];
    this.tokenAssertions = [];
  }

  /** Resolves once the change took effect (the port closed, or listening again). */
  async setMode(mode: BackendMode): Promise<void> {
    this.mode = mode;
    this.#failed = 0;
    clearTimeout(this.#upTimer);
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    if (mode.kind === 'down') {
      await this.#close();
      if (mode.upAfterMs !== undefined) {
        this.#upTimer = setTimeout(() => {
          this.mode = { kind: 'ok' };
          void this.#listen(this.#port);
        }, mode.upAfterMs);
      }
    } else if (!this.#server) {
      await this.#listen(this.#port);
    }
  }

  async #listen(port: number): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }

  async #handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.url === '/__control/token') {
      this.#issueIdToken(body, res);
      return;
    }
    if (req.url === '/__control/mode') await this.setMode(JSON.parse(body.toString('utf8')) as BackendMode);
    else if (req.url === '/__control/reset') await this.reset();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        counts: this.counts,
        requests: this.requests,
        tokenAssertions: this.tokenAssertions,
        port: this.#port,
      }),
    );
  }

  /** Stands in for Google's token endpoint: an ID token naming the requested audience. */
  #issueIdToken(body: Buffer, res: ServerResponse): void {
    const form = new URLSearchParams(body.toString('utf8'));
    const assertion = form.get('assertion') ?? '';
    this.tokenAssertions.push(assertion);
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      target_audience?: string;
    };
    const ok =
      form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && claims.target_audience;
    if (!ok) return json(res, 400, { error: 'invalid_grant' });
    json(res, 200, { id_token: `test-id-token for ${claims.target_audience}` });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? '/';
    const name = routeName(req.method ?? 'GET', path);
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    const bodySha256 = await sha256Hex(new Uint8Array(body));
    const signature = await this.#checkSignature(req, path, bodySha256);
    this.requests.push({
      method: req.method ?? 'GET',
      path,
      signature,
      requestId: header(req, HEADERS.requestId),
      timeLeft: header(req, HEADERS.timeLeft),
      contentType: header(req, 'content-type'),
      bodySha256,
      authorization: header(req, 'authorization'),
    });
    const open = name === 'GET /healthz' || name === 'GET /readyz';
    if (!open && (signature === 'missing' || signature === 'bad')) {
      problem(res, 401, 'unauthorized', 'missing or bad signature');
      return;
    }
    switch (name) {
      case 'GET /healthz': {
        json(res, 200, { ok: true });
        return;
      }
      case 'GET /readyz': {
        json(res, 200, { ready: true });
        return;
      }
      case 'POST /warmup': {
        json(res, 202, { warming: true });
        return;
      }
      case 'GET /v1/models': {
        json(res, 200, {
          default: MODEL_MANIFEST.default,
          models: MODEL_MANIFEST.models
            .filter((m) => m.sha256)
            .map((m) => ({ id: m.id, family: m.family, sha256: m.sha256, loaded: true, ready: true })),
        });
        return;
      }
      case 'POST /v1/remove-background':
        return this.#removeBackground(path, body, res, header(req, 'content-type') ?? '');
      default: {
        problem(res, 404, 'not_found', `no route ${name}`);
        return;
      }
    }
  }

  async #checkSignature(
    req: IncomingMessage,
    path: string,
    bodySha256: string,
  ): Promise<RecordedRequest['signature']> {
    if (!this.#secret) return 'not-required';
    const value = header(req, HEADERS.signature);
    if (!value) return 'missing';
    const verdict = await verifySignature(value, {
      secret: this.#secret,
      method: req.method ?? 'GET',
      pathAndQuery: path,
      bodySha256,
    });
    return verdict.ok ? 'ok' : 'bad';
  }

  async #removeBackground(
    path: string,
    raw: Buffer,
    res: ServerResponse,
    contentType: string,
  ): Promise<void> {
    const mode = this.mode;
    if (mode.failFirst !== undefined && this.#failed < mode.failFirst) {
      this.#failed++;
      problem(res, 503, 'backend_unavailable', 'models loading', { 'retry-after': '1' });
      return;
    }
    switch (mode.kind) {
      case 'hang':
        this.#hanging.add(res);
        return;
      case 'unavailable': {
        problem(res, 503, 'backend_unavailable', 'models loading', { 'retry-after': '2' });
        return;
      }
      case 'overloaded': {
        problem(res, 503, 'overloaded', 'queue full', { 'retry-after': '3' });
        return;
      }
      case 'problem': {
        const { status, code, detail, extensions } = mode.problem!;
        res.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' });
        res.end(JSON.stringify({ ...problemBody(code, detail, 'backend'), status, ...extensions }));
        return;
      }
      case 'error':
        res.writeHead(500, { 'content-type': 'text/html' });
        return void res.end('<h1>crash</h1>');
      default:
        break;
    }
    const query = removeBackgroundQuerySchema.safeParse(
      Object.fromEntries(new URL(path, 'http://x').searchParams),
    );
    const model = query.success && query.data.model ? findModel(query.data.model) : undefined;
    if (!query.success || !model?.sha256) {
      problem(res, 400, 'invalid_request', 'bad query or model');
      return;
    }
    // With bg_image, as the real backend: multipart with the parts image and bg_image, the hash checked.
    let body = raw;
    if (query.data.bg_image !== undefined) {
      if (!contentType.startsWith('multipart/form-data')) {
        problem(res, 400, 'invalid_request', 'bg_image without multipart');
        return;
      }
      const form = await new Request('http://x/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- a test double's small bodies; undici's parser buffers them, which is all it needs
      }).formData();
      const image = form.get('image');
      const background = form.get('bg_image');
      if (typeof image === 'string' || typeof background === 'string' || !image || !background) {
        problem(res, 400, 'invalid_request', 'multipart parts image and bg_image expected');
        return;
      }
      const bgSha256 = await sha256Hex(new Uint8Array(await background.arrayBuffer()));
      if (bgSha256 !== query.data.bg_image) {
        problem(res, 400, 'invalid_request', 'bg_image: SHA-256 mismatch');
        return;
      }
      this.requests.at(-1)!.bgImageSha256 = bgSha256;
      body = Buffer.from(await image.arrayBuffer());
    } else if (contentType.startsWith('multipart/')) {
      {
        problem(res, 400, 'invalid_request', 'multipart only with bg_image');
        return;
      }
    }
    const bytes = new Uint8Array(body);
    const sniffed = sniffImageType(bytes);
    const size = sniffed.accepted ? readImageSize(bytes, sniffed.type) : undefined;
    if (!size?.ok) {
      problem(res, 422, 'invalid_image', 'undecodable');
      return;
    }
    const started = Date.now();
    if (mode.delayMs) await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    const scale = Math.min(1, (query.data.max_side ?? Infinity) / Math.max(size.width, size.height));
    // Not a real matte: deterministic bytes derived from the input and options, so that the edge
    // passing them through unchanged can be checked byte for byte.
    const width = Math.round(size.width * scale);
    const height = Math.round(size.height * scale);
    const result =
      mode.kind === 'not-an-image'
        ? Buffer.from(`<html>a proxy's page, served as ${query.data.format}</html>`)
        : fakeResultImage(query.data.format, width, height, `fake-result ${path} ${await sha256Hex(bytes)}`);
    if (mode.kind === 'wrong-type') {
      res.writeHead(200, {
        'content-type': 'text/html',
        [HEADERS.model]: model.id,
        [HEADERS.modelSha256]: model.sha256,
      });
      return void res.end('<html>a proxy page</html>');
    }
    res.writeHead(200, {
      'content-type': OUTPUT_CONTENT_TYPES[query.data.format],
      ...(mode.kind === 'truncated' || mode.kind === 'slow-body'
        ? { 'content-length': String(result.length * 4) }
        : {}),
      [HEADERS.model]: model.id,
      [HEADERS.modelSha256]: mode.kind === 'other-weights' ? 'f'.repeat(64) : model.sha256,
      [HEADERS.imageWidth]: String(width),
      [HEADERS.imageHeight]: String(height),
      // A made-up box (the middle half), so the edge passing it on can be checked.
      'x-foreground-box':
        mode.kind === 'no-foreground'
          ? 'none'
          : [0.25, 0.25, 0.5, 0.5]
              .map((f, i) => Math.floor(f * (i % 2 === 0 ? size.width : size.height) * scale))
              .join(','),
      // A made-up confidence (low when there is no foreground), passed on and stored by the edge.
      [HEADERS.subjectConfidence]: mode.kind === 'no-foreground' ? '0.000' : '0.970',
      [HEADERS.serverTiming]: `inference;dur=${Date.now() - started}, total;dur=${Date.now() - started}`,
    });
    if (mode.kind === 'truncated') {
      res.write(result);
      return void setTimeout(() => res.destroy(), 20);
    }
    if (mode.kind === 'slow-body') {
      res.write(result.subarray(0, 8));
      this.#hanging.add(res);
      return;
    }
    res.end(result);
  }
}

/**
 * A result that is not a real matte but whose header is a real one of the format asked for (the
 * edge reads it: magic bytes and size), followed by deterministic text derived from the input and
 * options, so that the edge passing it through unchanged can be checked byte for byte.
 */
function fakeResultImage(
  format: 'png' | 'webp' | 'jpg' | 'zip',
  width: number,
  height: number,
  text: string,
): Buffer {
  const payload = Buffer.from(text);
  // Only the signature of a ZIP: the edge reads no further.
  if (format === 'zip') return Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), payload]);
  if (format === 'png') {
    const ihdr = Buffer.alloc(8 + 13 + 4);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(width, 8);
    ihdr.writeUInt32BE(height, 12);
    ihdr.set([8, 6, 0, 0, 0], 16); // 8-bit RGBA
    const tag = Buffer.alloc(8);
    tag.writeUInt32BE(payload.length, 0);
    tag.write('fkRs', 4, 'latin1');
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, tag, payload]);
  }
  if (format === 'webp') {
    const vp8x = Buffer.alloc(12 + 8 + 10);
    vp8x.write('RIFF', 0, 'latin1');
    vp8x.writeUInt32LE(vp8x.length - 8 + payload.length, 4);
    vp8x.write('WEBPVP8X', 8, 'latin1');
    vp8x.writeUInt32LE(10, 16);
    vp8x.writeUIntLE(width - 1, 24, 3);
    vp8x.writeUIntLE(height - 1, 27, 3);
    return Buffer.concat([vp8x, payload]);
  }
  const sof = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  sof.writeUInt16BE(height, 7);
  sof.writeUInt16BE(width, 9);
  return Buffer.concat([sof, payload]);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function problem(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify({ ...problemBody(code, detail, 'backend'), status }));
}
