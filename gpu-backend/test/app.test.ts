/**
 * The HTTP app through app.request(), in front of a fake engine (no weights): every bad input gets
 * its problem+json and no model run, the queue, deadline, readiness, signatures and metrics
 * behave, and the service stays ready afterwards. The same app with the real model:
 * app-real.test.ts.
 */
import { createHash } from 'node:crypto';
import { signRequest, sha256Hex } from '@bgremove/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAndSeed } from '../src/admission';
import type { FakeEngine } from './support/fake-engine';
import { counterValue, createFakeBackend, type AppUnderTest } from './support/backend';
import { HEIC_HEADER, SVG, fixtures, pngDeclaring, scenePhoto } from './support/images';

type BodyInit = NonNullable<RequestInit['body']>;

let backend: AppUnderTest<FakeEngine>;
let photo: Uint8Array;
const inferences = () =>
  counterValue(backend, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"');

const post = (body: BodyInit | undefined, query = '', headers: Record<string, string> = {}) =>
  backend.app.request(`/v1/remove-background${query}`, { method: 'POST', body, headers });

async function expectProblem(response: Response, status: number, code: string, detail?: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:bgremove:problem:${code}` });
  expect(body.request_id).toBe(response.headers.get('x-request-id'));
  if (detail) expect(body.detail).toMatch(detail);
  return body;
}

beforeAll(async () => {
  photo = new Uint8Array(await scenePhoto());
  backend = await createFakeBackend({
    MAX_BODY_BYTES: String(2 * 1024 * 1024),
    MAX_INPUT_PIXELS: String(13_000_000),
  });
});
afterAll(() => backend.close());

describe('POST /v1/remove-background', () => {
  it('returns a matte with the contract headers and counts one model run', async () => {
    const before = await inferences();
    const response = await post(photo, '?output=matte');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-model')).toBe('isnet-general-use');
    expect(response.headers.get('x-model-sha256')).toMatch(/^[0-9a-f]{64}$/);
    expect(response.headers.get('x-image-width')).toBe('480');
    expect(response.headers.get('server-timing')).toMatch(/inference;dur=\d+(\.\d+)?.*total;dur=/);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ width: 480, height: 360, channels: 1 });
    expect(await inferences()).toBe(before + 1);
    // The subject's box (x,y,w,h in output pixels) and how clearly there is one.
    const [x, y, w, h] = response.headers.get('x-foreground-box')!.split(',').map(Number) as [
      number,
      number,
      number,
      number,
    ];
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x + w).toBeLessThanOrEqual(480);
    expect(y + h).toBeLessThanOrEqual(360);
    expect(w * h).toBeGreaterThan(0.1 * 480 * 360);
    // The fake engine's map is the photo's brightness, so only the format is checked here (the
    // real model's confidence on a drawn subject is in pipeline.test.ts).
    expect(response.headers.get('x-subject-confidence')).toMatch(/^(0\.\d{3}|1\.000)$/);
  });

  it.each([
    ['grayscale JPEG', fixtures.grayscaleJpeg],
    ['CMYK JPEG', fixtures.cmykJpeg],
    ['16-bit PNG', fixtures.png16],
    ['PNG with alpha', fixtures.pngWithAlpha],
    ['1x1 PNG', fixtures.onePixel],
    ['WebP', fixtures.webp],
    ['AVIF', fixtures.avif],
  ])('accepts a %s', async (_name, make) => {
    const bytes = await make();
    const source = await sharp(bytes).metadata();
    const response = await post(new Uint8Array(bytes), '?max_side=256');
    expect(response.status).toBe(200);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(Math.max(meta.width, meta.height)).toBe(Math.min(256, Math.max(source.width, source.height)));
  });

  describe('bad input: the right problem, no model run, still ready', () => {
    const cases: [
      string,
      () => Promise<BodyInit | undefined> | BodyInit | undefined,
      string,
      number,
      RegExp?,
      string?,
    ][] = [
      ['zero bytes', () => new Uint8Array(), 'invalid_request', 400, /empty/],
      ['no body', () => undefined, 'invalid_request', 400],
      ['text', () => 'hello, world', 'unsupported_media_type', 415, /text/],
      ['SVG', () => SVG, 'unsupported_media_type', 415, /SVG/],
      ['GIF', async () => new Uint8Array(await fixtures.gif()), 'unsupported_media_type', 415, /GIF/],
      ['HEIC', () => new Uint8Array(HEIC_HEADER), 'unsupported_media_type', 415, /HEIC/],
      [
        'truncated JPEG',
        async () => new Uint8Array(await fixtures.truncatedJpeg()),
        'invalid_image',
        422,
        /truncated/,
      ],
      [
        'PNG header declaring 40000x40000',
        () => new Uint8Array(pngDeclaring(40000, 40000)),
        'image_too_large',
        422,
        /40000×40000/,
      ],
      [
        // What the edge answers for the same bytes: both tiers read the header with checkImageHeader.
        'PNG declaring 40000x40000 with broken chunks',
        () => {
          const png = pngDeclaring(40000, 40000);
          png.fill(0xee, 29); // IHDR fields intact; its CRC and every chunk after it garbage
          return new Uint8Array(png);
        },
        'image_too_large',
        422,
        /40000×40000/,
      ],
      [
        'JPEG whose scan starts before any frame header',
        () => new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]),
        'invalid_image',
        422,
        /no frame header before its scan data/,
      ],
      ['body over the limit', () => new Uint8Array(3 * 1024 * 1024), 'payload_too_large', 413],
      ['unknown query key', () => photo, 'invalid_request', 400, /colour/, '?colour=red'],
      ['bad max_side', () => photo, 'invalid_request', 400, /max_side/, '?max_side=10'],
      [
        'roi outside the image',
        () => photo,
        'invalid_request',
        400,
        /roi: the region .* lies outside the 480x360 image/,
        '?roi=500,0,600,100',
      ],
      ['malformed roi', () => photo, 'invalid_request', 400, /roi: expected four coordinates/, '?roi=1,2,3'],
      [
        'unknown model',
        () => photo,
        'unknown_model',
        422,
        /u2netp.*available: isnet-general-use/,
        '?model=u2netp',
      ],
    ];
    it.each(cases)('%s', async (_name, body, code, status, detail, query = '') => {
      const before = await inferences();
      await expectProblem(await post(await body(), query), status, code, detail);
      expect(await inferences()).toBe(before);
      expect((await backend.app.request('/readyz')).status).toBe(200);
    });

    it('problems carry what was seen and the limit as RFC 9457 extension members', async () => {
      const heic = await expectProblem(
        await post(new Uint8Array(HEIC_HEADER)),
        415,
        'unsupported_media_type',
      );
      expect(heic.seen).toEqual({ bytes: HEIC_HEADER.length, type: 'heic' });
      const svg = await expectProblem(await post(SVG), 415, 'unsupported_media_type');
      expect(svg.seen).toMatchObject({ type: 'svg' });
      const huge = await expectProblem(
        await post(new Uint8Array(pngDeclaring(40000, 30000))),
        422,
        'image_too_large',
      );
      expect(huge.limit_pixels).toBe(13_000_000);
      expect(huge.seen).toEqual({ width: 40000, height: 30000, pixels: 1_200_000_000, type: 'png' });
      // Cut off while streaming: only the limit is known.
      const streamed = await expectProblem(
        await post(new Uint8Array(3 * 1024 * 1024)),
        413,
        'payload_too_large',
      );
      expect(streamed.limit_bytes).toBe(2 * 1024 * 1024);
      expect(streamed.seen).toBeUndefined();
      // Refused on its declared Content-Length: that size is reported.
      const declared = await expectProblem(
        await post(new Uint8Array(3 * 1024 * 1024), '', { 'content-length': String(3 * 1024 * 1024) }),
        413,
        'payload_too_large',
      );
      expect(declared).toMatchObject({ limit_bytes: 2 * 1024 * 1024, seen: { bytes: 3 * 1024 * 1024 } });
    });

    it('multipart is refused: the backend takes raw bytes', async () => {
      const form = new FormData();
      form.set('image', new Blob([photo]), 'car.jpg');
      await expectProblem(await post(form), 400, 'invalid_request', /raw request body/);
    });
  });
});

describe('results a format cannot hold', () => {
  it('a WebP result over 16383 px per side is 422 image_too_large before any work (was a 500 from the encoder)', async () => {
    // Found by npm run fuzz: a JPEG whose header was edited to 96x40000, asked for as WebP.
    const tall = await sharp({ create: { width: 4, height: 16_400, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const response = await post(new Uint8Array(tall), '?format=webp');
    await expectProblem(response, 422, 'image_too_large', /WEBP holds at most 16383/);
    expect((await post(new Uint8Array(tall), '?format=webp&max_side=4096')).status).toBe(200);
    expect((await post(new Uint8Array(tall), '?format=png')).status).toBe(200);
  });
});

describe('queue', () => {
  it('answers 503 overloaded with Retry-After when full, and serves the admitted ones', async () => {
    const small = await createFakeBackend({ MAX_CONCURRENCY: '1', MAX_QUEUE: '1' }, { runMs: 300 });
    try {
      const body = () => photo;
      const send = () => small.app.request('/v1/remove-background', { method: 'POST', body: body() });
      const first = send();
      const second = send();
      await new Promise((r) => setTimeout(r, 50));
      const third = await send();
      expect(third.status).toBe(503);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await third.json()) as { code: string }).code).toBe('overloaded');
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      // Shedding is the design working: warnings in one line each, no ERROR and no stack.
      const shed = small.logs.filter((l) => l.code === 'overloaded' || l.outcome === 'overloaded');
      expect(shed.map((l) => l.severity)).toEqual(['WARNING', 'WARNING']);
      expect(JSON.stringify(shed)).not.toContain('stack');
      expect(small.logs.filter((l) => l.severity === 'ERROR')).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('records the time spent waiting in the queue as the "queue" stage', async () => {
    const small = await createFakeBackend({ MAX_CONCURRENCY: '1', MAX_QUEUE: '4' }, { runMs: 200 });
    try {
      const send = () => small.app.request('/v1/remove-background', { method: 'POST', body: photo });
      expect((await Promise.all([send(), send()])).map((r) => r.status)).toEqual([200, 200]);
      const text = await small.metrics.registry.metrics();
      const value = (name: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`bgremove_stage_duration_seconds_${name}{stage="queue"`))
            ?.split(' ')
            .pop(),
        );
      expect(value('count')).toBe(2);
      // The second waited for the whole first run (200 ms), the first not at all.
      expect(value('sum')).toBeGreaterThanOrEqual(0.15);
    } finally {
      await small.close();
    }
  });

  it('drops queued work whose client has gone away: the model never runs for it', async () => {
    const single = await createFakeBackend({ MAX_CONCURRENCY: '1', MAX_QUEUE: '4' }, { runMs: 300 });
    try {
      const runs = () =>
        counterValue(single, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"');
      const before = await runs();
      const send = (signal?: AbortSignal) =>
        single.app.request('/v1/remove-background', {
          method: 'POST',
          body: photo,
          signal,
        });
      const first = send();
      const leaving = new AbortController();
      const second = send(leaving.signal);
      await new Promise((r) => setTimeout(r, 50));
      leaving.abort();
      const gone = await second;
      // Nobody reads this answer; it is recorded under its own outcome, not as a bad request.
      expect(gone.status).toBe(499);
      expect((await first).status).toBe(200);
      await single.admission.onIdle();
      expect(await runs()).toBe(before + 1);
      expect(
        await counterValue(
          single,
          'bgremove_requests_total',
          'route="/v1/remove-background",status="499",code="client_closed"',
        ),
      ).toBe(1);
      expect(
        await counterValue(
          single,
          'bgremove_requests_total',
          'route="/v1/remove-background",status="400",code="invalid_request"',
        ),
      ).toBe(0);
      expect(single.logs.filter((l) => l.outcome === 'client_closed')).toHaveLength(1);
    } finally {
      await single.close();
    }
  });

  it("refuses at admission what cannot finish in the caller's time left: 503 with Retry-After, no model run", async () => {
    const single = await createFakeBackend({ MAX_CONCURRENCY: '1' }, { runMs: 50 });
    try {
      const runs = () =>
        counterValue(single, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"');
      const before = await runs();
      // Before any measurement the queue assumes a request takes seconds: 200 ms is too little.
      const response = await single.app.request('/v1/remove-background', {
        method: 'POST',
        body: photo,
        headers: { 'x-time-left-ms': '200' },
      });
      await expectProblem(response, 503, 'overloaded', /deadline/);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await runs()).toBe(before);
      expect(await counterValue(single, 'bgremove_deadline_refusals_total', 'at="admission"')).toBe(1);
      // With time to spare it is done, and the queue learns how long it takes ...
      const ok = await single.app.request('/v1/remove-background', {
        method: 'POST',
        body: photo,
        headers: { 'x-time-left-ms': '30000' },
      });
      expect(ok.status).toBe(200);
      expect(single.admission.serviceEstimateMs()).toBeLessThan(3_000);
    } finally {
      await single.close();
    }
  });

  it('seeds the estimate from the warm-up run: right after start, a request that fits is admitted', async () => {
    // The same 200 ms the unseeded queue refuses above (its prior says seconds): after the start
    // the server does (loadAndSeed), the queue knows a request takes ~50 ms here.
    const fresh = await createFakeBackend({ MAX_CONCURRENCY: '1' }, { runMs: 50, load: false });
    try {
      await loadAndSeed(fresh.engine, fresh.admission);
      const seed = fresh.admission.estimate().seededFromWarmupMs;
      expect(seed).toBeGreaterThanOrEqual(45);
      expect(fresh.admission.serviceEstimateMs()).toBeLessThan(200);
      const diagnostics = (await (await fresh.app.request('/v1/diagnostics')).json()) as {
        queue: { seededFromWarmupMs: number; serviceEstimateMs: number };
      };
      expect(diagnostics.queue.seededFromWarmupMs).toBe(seed);
      const response = await fresh.app.request('/v1/remove-background', {
        method: 'POST',
        body: photo,
        headers: { 'x-time-left-ms': '200' },
      });
      expect(response.status).toBe(200);
      expect(await counterValue(fresh, 'bgremove_deadline_refusals_total', 'at="admission"')).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it.each(['soon', '-5', '1.5', ''])('a bad X-Time-Left-Ms (%j) is 400 invalid_request', async (value) => {
    const response = await post(photo, '', { 'x-time-left-ms': value });
    await expectProblem(response, 400, 'invalid_request', /x-time-left-ms/);
  });

  it('does not start what cannot finish within REQUEST_TIMEOUT_MS (503); what overruns is 504', async () => {
    const slow = await createFakeBackend({ REQUEST_TIMEOUT_MS: '1000' }, { runMs: 20 });
    try {
      const send = () => slow.app.request('/v1/remove-background', { method: 'POST', body: photo });
      // Before it has measured anything the queue assumes seconds per request: refused, not run.
      await expectProblem(await send(), 503, 'overloaded', /deadline/);
      // Once the queue has seen that requests are quick (20 ms each) ...
      const engine = slow.engine as unknown as { options: { runMs: number } };
      for (let i = 0; i < 3; i++) {
        await slow.admission.run(() => new Promise((r) => setTimeout(r, 20)), {
          signal: new AbortController().signal,
        });
      }
      // ... one that then takes longer than the whole timeout (the fake engine slowed down for the
      // test) is started, and answered 504 when the timeout passes.
      engine.options.runMs = 2_000;
      await expectProblem(await send(), 504, 'backend_timeout');
    } finally {
      await slow.close();
    }
  });
});

describe('health, readiness, warm-up, models, diagnostics, metrics', () => {
  it('readyz is 503 until the models are loaded and warmed; warmup is idempotent', async () => {
    const cold = await createFakeBackend({}, { load: false, loadMs: 100 });
    try {
      expect((await cold.app.request('/healthz')).status).toBe(200);
      const notReady = await cold.app.request('/readyz');
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ready: false });
      await expectProblem(
        await cold.app.request('/v1/remove-background', {
          method: 'POST',
          body: photo,
        }),
        503,
        'backend_unavailable',
      );
      const first = await cold.app.request('/warmup', { method: 'POST' });
      const second = await cold.app.request('/warmup', { method: 'POST' });
      expect([first.status, second.status]).toEqual([202, 202]);
      await cold.engine.loadAll();
      expect((await cold.app.request('/readyz')).status).toBe(200);
      expect((await cold.app.request('/warmup', { method: 'POST' })).status).toBe(200);
      // One warm-up inference in all, however many /warmup calls.
      expect(
        await counterValue(cold, 'bgremove_inferences_total', 'model="isnet-general-use",outcome="ok"'),
      ).toBe(1);
    } finally {
      await cold.close();
    }
  });

  it('lists models, reports diagnostics and exposes Prometheus metrics', async () => {
    const models = (await (await backend.app.request('/v1/models')).json()) as {
      default: string;
      models: { id: string; ready: boolean; sha256: string }[];
    };
    expect(models.default).toBe('isnet-general-use');
    expect(models.models[0]).toMatchObject({
      id: 'isnet-general-use',
      ready: true,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const diagnostics = (await (await backend.app.request('/v1/diagnostics')).json()) as {
      providers: { requested: string[] };
      models: { id: string }[];
      versions: Record<string, string>;
      limits: { maxInputPixels: number };
      queue: { running: number; waiting: number };
    };
    expect(diagnostics.providers.requested).toEqual(['cpu']);
    expect(diagnostics.models.map((m) => m.id)).toEqual(['isnet-general-use']);
    expect(diagnostics.versions.sharp).toEqual(expect.any(String));
    expect(diagnostics.limits.maxInputPixels).toBe(13_000_000);
    expect(diagnostics.queue).toMatchObject({ running: 0, waiting: 0 });
    const metrics = await (await backend.app.request('/metrics')).text();
    expect(metrics).toMatch(/^bgremove_inferences_total\{model="isnet-general-use",outcome="ok"\} \d+/m);
    expect(metrics).toContain('bgremove_request_duration_seconds_bucket');
    expect(metrics).toContain('bgremove_queue_depth');
  });

  it('writes structured access logs with Cloud Logging fields', async () => {
    await post('nope');
    const line = backend.logs.findLast((l) => l.httpRequest !== undefined)!;
    expect(line).toMatchObject({
      severity: 'WARNING',
      outcome: 'unsupported_media_type',
      httpRequest: { requestMethod: 'POST', requestUrl: '/v1/remove-background', status: 415 },
    });
    expect(line.request_id).toEqual(expect.any(String));
  });
});

describe('signatures (BACKEND_SHARED_SECRET set)', () => {
  const secret = 'test-secret-0123456789';
  let signed: AppUnderTest;
  beforeAll(async () => {
    signed = await createFakeBackend({ BACKEND_SHARED_SECRET: secret });
  });
  afterAll(() => signed.close());

  const sign = async (path: string, body: Uint8Array, at?: number) =>
    signRequest({ secret, method: 'POST', pathAndQuery: path, bodySha256: await sha256Hex(body) }, at);

  it('accepts a valid signature', async () => {
    const body = photo;
    const path = '/v1/remove-background?max_side=128';
    const response = await signed.app.request(path, {
      method: 'POST',
      body,
      headers: { 'x-signature': await sign(path, body) },
    });
    expect(response.status).toBe(200);
  });

  it('accepts a valid signature on a multipart body with a background (bg_image)', async () => {
    const background = await sharp({
      create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 0, b: 255 } },
    })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('image', new Blob([photo]));
    form.append('bg_image', new Blob([background]));
    const encoded = new Request('http://x/', { method: 'POST', body: form });
    const body = new Uint8Array(await encoded.arrayBuffer());
    const sha = createHash('sha256').update(background).digest('hex');
    const path = `/v1/remove-background?max_side=128&output=cutout&bg_image=${sha}`;
    const response = await signed.app.request(path, {
      method: 'POST',
      body,
      headers: {
        'content-type': encoded.headers.get('content-type')!,
        'x-signature': await sign(path, body),
      },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).channels).toBe(3);
  });

  it.each([
    ['missing', () => Promise.resolve(undefined)],
    ['for another body', async (path: string) => sign(path, new Uint8Array([1, 2, 3]))],
    ['for another path', async () => sign('/v1/remove-background', photo)],
    ['stale', async (path: string) => sign(path, photo, Math.floor(Date.now() / 1000) - 301)],
    ['garbled', () => Promise.resolve('t=1,v1=zz')],
  ])('refuses a %s signature with 401', async (_name, make) => {
    const path = '/v1/remove-background?max_side=128';
    const header = await make(path);
    const response = await signed.app.request(path, {
      method: 'POST',
      body: photo,
      headers: header ? { 'x-signature': header } : {},
    });
    await expectProblem(response, 401, 'unauthorized');
  });

  it('keeps /healthz and /readyz open and guards everything else', async () => {
    expect((await signed.app.request('/healthz')).status).toBe(200);
    expect((await signed.app.request('/readyz')).status).toBe(200);
    expect((await signed.app.request('/v1/models')).status).toBe(401);
    expect((await signed.app.request('/metrics')).status).toBe(401);
  });
});
