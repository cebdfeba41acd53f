import { sha256Hex } from '@bgremove/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKey, revokeKey, usageOf } from '../src/api-keys';
import { backend, env, fixture, request, uniqueImage, type RequestOptions } from './helpers';

/** A PNG whose header claims width × height (the edge never decodes; the fake backend neither). */
function pngHeader(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', crypto.getRandomValues(new Uint8Array(16))),
    chunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The shared test timeout (1.5 s) is for failure tests; on a loaded machine concurrent calls need longer. */
const patient = { ...env, BACKEND_TIMEOUT_MS: '20000' };

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

async function newKey(spec: Partial<{ monthlyCredits: number; rateLimitPerMinute: number }> = {}) {
  return createKey(env.DB, { label: 'test', monthlyCredits: 100, rateLimitPerMinute: 100, ...spec });
}

function form(fields: Record<string, string | Uint8Array>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    body.append(name, typeof value === 'string' ? value : new File([value], 'photo.jpg'));
  }
  return body;
}

function removebg(apiKey: string | undefined, body: BodyInit, init: RequestOptions = {}) {
  const headers = new Headers(init.headers);
  if (apiKey !== undefined) headers.set('x-api-key', apiKey);
  return request('/v1.0/removebg', { method: 'POST', body, ...init, headers });
}

async function expectRemoveBgError(response: Response, status: number, code: string) {
  const text = await response.text();
  let body: { errors?: { title: string; code: string; detail: string }[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below
  }
  const error = body.errors?.[0];
  if (response.status !== status || error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${response.status} ${text}`);
  }
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(typeof error.title).toBe('string');
  expect(typeof error.detail).toBe('string');
  return error;
}

const lastBackendQuery = async () => {
  const calls = await backend.calls();
  const last = calls.requests.filter((r) => r.path.startsWith('/v1/remove-background')).at(-1);
  return last ? new URL(last.path, 'http://x').searchParams : undefined;
};

beforeEach(async () => {
  await backend.reset();
});

describe('POST /v1.0/removebg: keys and limits', () => {
  it('403 for a missing, unknown or revoked key, in remove.bg shape', async () => {
    const body = form({ image_file: uniqueImage() });
    const missing = await expectRemoveBgError(await removebg(undefined, body), 403, 'auth_failed');
    expect(missing.title).toBe('Missing API Key');
    await expectRemoveBgError(await removebg(`bgr_${'A'.repeat(32)}`, body), 403, 'auth_failed');
    const { key, record } = await newKey();
    await revokeKey(env.DB, record.id);
    const revoked = await expectRemoveBgError(await removebg(key, body), 403, 'auth_failed');
    expect(revoked.title).toBe('API Key revoked');
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('429 over the per-minute limit, with X-RateLimit-* and Retry-After', async () => {
    const { key } = await newKey({ rateLimitPerMinute: 2 });
    const sentAt = Math.floor(Date.now() / 1000);
    const first = await removebg(key, form({ image_file: uniqueImage() }));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    // The end of the minute window the request fell in: after it was sent, at most a minute on
    // (not compared with the time now: the window may have ended while the request ran).
    expect(reset).toBeGreaterThan(sentAt);
    expect(reset).toBeLessThanOrEqual(sentAt + 61);
    expect((await removebg(key, form({ image_file: uniqueImage() }))).status).toBe(200);
    const limited = await removebg(key, form({ image_file: uniqueImage() }));
    await expectRemoveBgError(limited, 429, 'rate_limit_exceeded');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('402 when the month has no credits left; errors and refusals cost nothing', async () => {
    const { key, record } = await newKey({ monthlyCredits: 0.25 });
    await backend.setMode({ kind: 'unavailable' });
    await expectRemoveBgError(
      await removebg(key, form({ image_file: uniqueImage() })),
      503,
      'service_unavailable',
    );
    await backend.setMode({ kind: 'ok' });
    await expectRemoveBgError(
      await removebg(key, form({ image_file: fixture('photo-96x64.gif') })),
      400,
      'invalid_file_type',
    );
    // The failures above left the 0.25 credits: a preview still fits, then a full size does not.
    const ok = await removebg(key, form({ image_file: uniqueImage() }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-credits-charged')).toBe('0.25');
    const broke = await removebg(key, form({ image_file: uniqueImage(), size: 'full' }));
    await expectRemoveBgError(broke, 402, 'insufficient_credits');
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 0.25, requests: 1 }]);
  });

  it('N concurrent requests on one key are charged N times, not more, not less', async () => {
    const { key, record } = await newKey({ monthlyCredits: 100 });
    // The coalescer (a Durable Object) calls the backend with the test config's 1.5 s timeout:
    // no artificial delay, so a loaded machine does not turn a success into a 504.
    await backend.setMode({ kind: 'ok' });
    const n = 6;
    const responses = await Promise.all(
      Array.from({ length: n }, () =>
        removebg(key, form({ image_file: uniqueImage(), size: 'full' }), { env: patient }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(n).fill(200));
    expect(responses.map((r) => r.headers.get('x-credits-charged'))).toEqual(Array(n).fill('1'));
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: n, requests: n }]);
    const held = await env.DB.prepare('SELECT COUNT(*) AS n FROM credit_holds WHERE key_id = ?1')
      .bind(record.id)
      .first<{ n: number }>();
    expect(held!.n).toBe(0);
  });

  it('concurrent requests cannot overspend: with 3 credits, 3 of 6 succeed and 3 get 402', async () => {
    const { key, record } = await newKey({ monthlyCredits: 3 });
    await backend.setMode({ kind: 'ok', delayMs: 200 });
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        removebg(key, form({ image_file: uniqueImage(), size: 'hd' }), { env: patient }),
      ),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    expect(responses.filter((r) => r.status === 402)).toHaveLength(3);
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 3, requests: 3 }]);
  });
});

describe('POST /v1.0/removebg: answers', () => {
  it('multipart image_file: the PNG with remove.bg headers; a cached repeat costs 0', async () => {
    const { key, record } = await newKey();
    const image = uniqueImage();
    const response = await removebg(key, form({ image_file: image, size: 'preview' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-credits-charged')).toBe('0.25');
    expect(response.headers.get('x-type')).toBe('other');
    expect(response.headers.get('x-width')).toBe('96');
    expect(response.headers.get('x-height')).toBe('64');
    expect(response.headers.get('x-foreground-left')).toBe('24');
    expect(response.headers.get('x-foreground-top')).toBe('16');
    expect(response.headers.get('x-foreground-width')).toBe('48');
    expect(response.headers.get('x-foreground-height')).toBe('32');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const query = await lastBackendQuery();
    expect(query?.get('output')).toBe('cutout');
    expect(query?.get('format')).toBe('png');
    expect(new TextDecoder().decode(bytes.subarray(8))).toContain(await sha256Hex(image));

    const repeat = await removebg(key, form({ image_file: image, size: 'preview' }));
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('x-credits-charged')).toBe('0');
    expect(repeat.headers.get('x-cache')).toBe('HIT');
    expect(repeat.headers.get('x-width')).toBe('96');
    expect(repeat.headers.get('x-foreground-width')).toBe('48');
    expect(new Uint8Array(await repeat.arrayBuffer())).toEqual(bytes);
    expect(await backend.removeBackgroundCalls()).toBe(1);
    expect(await usageOf(env.DB, record.id)).toMatchObject([
      { creditsCharged: 0.25, requests: 2, cachedRequests: 1 },
    ]);
  });

  it('JSON body with image_file_b64 and Accept: application/json: data.result_b64 and the box', async () => {
    const { key } = await newKey();
    const image = uniqueImage();
    const response = await removebg(
      key,
      JSON.stringify({ image_file_b64: b64(image), size: 'auto', crop: false }),
      {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-credits-charged')).toBe('1');
    const { data } = await response.json<{ data: Record<string, unknown> }>();
    const result = Uint8Array.from(atob(data.result_b64 as string), (c) => c.charCodeAt(0));
    expect([...result.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(data).toMatchObject({
      foreground_left: 24,
      foreground_top: 16,
      foreground_width: 48,
      foreground_height: 32,
    });
  });

  it('application/x-www-form-urlencoded with image_file_b64; channels=alpha asks for the matte', async () => {
    const { key } = await newKey();
    const body = new URLSearchParams({
      image_file_b64: b64(uniqueImage()),
      channels: 'alpha',
      type: 'product',
    });
    const response = await removebg(key, body.toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(200);
    expect((await lastBackendQuery())?.get('output')).toBe('matte');
  });

  it('size caps the output in megapixels (preview 0.25, medium 1.5, hd 4, full 10 for PNG)', async () => {
    const { key } = await newKey();
    const cases: [string, number | null][] = [
      ['preview', 577],
      ['small', 577],
      ['regular', 577],
      ['medium', 1414],
      ['hd', null],
      ['full', null],
      ['4k', null],
      ['auto', null],
    ];
    for (const [size, maxSide] of cases) {
      const response = await removebg(key, form({ image_file: pngHeader(2000, 1500), size }));
      expect(response.status, size).toBe(200);
      expect((await lastBackendQuery())?.get('max_side') ?? null, size).toBe(
        maxSide === null ? null : String(maxSide),
      );
      expect(response.headers.get('x-credits-charged'), size).toBe(
        ['preview', 'small', 'regular'].includes(size) ? '0.25' : '1',
      );
    }
    // 4000 × 3000 = 12 MP: a full-size PNG is capped at 10 MP.
    await removebg(key, form({ image_file: pngHeader(4000, 3000), size: 'full' }));
    expect((await lastBackendQuery())?.get('max_side')).toBe('3651');
  });

  it('roi goes to the backend in canonical form', async () => {
    const { key } = await newKey();
    await removebg(key, form({ image_file: uniqueImage(), roi: '10% 0% 90px 100%' }));
    expect((await lastBackendQuery())?.get('roi')).toBe('10%,0%,90px,100%');
  });

  it('composition parameters go to the backend in canonical form; format auto is JPG on an opaque background', async () => {
    const { key } = await newKey();
    const cases: [Record<string, string>, Record<string, string | null>, string][] = [
      [{}, { format: 'png', crop: 'false', bg_color: null, position: null, scale: null }, 'image/png'],
      [{ format: 'jpg' }, { format: 'jpg' }, 'image/jpeg'],
      [{ bg_color: 'green' }, { format: 'jpg', bg_color: '008000ff' }, 'image/jpeg'],
      [{ bg_color: '#0f08' }, { format: 'png', bg_color: '00ff0088' }, 'image/png'],
      [{ bg_color: 'fff', format: 'png' }, { format: 'png', bg_color: 'ffffffff' }, 'image/png'],
      [
        { bg_color: 'fff', channels: 'alpha' },
        { format: 'png', bg_color: null, output: 'matte' },
        'image/png',
      ],
      [
        { crop: 'true', crop_margin: '10px 5%' },
        { crop: 'true', crop_margin: '10px,5%,10px,5%' },
        'image/png',
      ],
      [{ crop: 'false', crop_margin: '10px' }, { crop: 'false', crop_margin: null }, 'image/png'],
      [{ scale: '50%' }, { scale: '50', position: 'center' }, 'image/png'],
      [{ scale: '50%', position: 'original' }, { scale: '50', position: 'original' }, 'image/png'],
      [{ position: '20%' }, { position: '20%,20%', scale: null }, 'image/png'],
      [{ position: 'original' }, { position: null }, 'image/png'],
      [{ format: 'zip' }, { format: 'zip', output: 'cutout' }, 'application/zip'],
      [{ format: 'zip', bg_color: 'red' }, { format: 'zip', bg_color: 'ff0000ff' }, 'application/zip'],
    ];
    for (const [fields, expected, contentType] of cases) {
      const response = await removebg(key, form({ image_file: uniqueImage(), ...fields }));
      const label = JSON.stringify(fields);
      expect(response.status, label).toBe(200);
      expect(response.headers.get('content-type'), label).toBe(contentType);
      const query = (await lastBackendQuery())!;
      for (const [name, value] of Object.entries(expected))
        expect(query.get(name), `${label} ${name}`).toBe(value);
    }
    await expectRemoveBgError(
      await removebg(key, form({ image_file: uniqueImage(), format: 'zip', channels: 'alpha' })),
      400,
      'invalid_channels',
    );
  });

  it('format=zip: the ZIP as it came, up to 25 MP like JPG (PNG: 10 MP), or as result_b64', async () => {
    const { key } = await newKey();
    const response = await removebg(
      key,
      form({ image_file: pngHeader(4000, 4000), format: 'zip', size: 'full' }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('x-credits-charged')).toBe('1');
    expect([...new Uint8Array(await response.arrayBuffer()).subarray(0, 4)]).toEqual([0x50, 0x4b, 3, 4]);
    // 16 MP fits in a ZIP unscaled; as a PNG it is scaled to 10 MP.
    expect((await lastBackendQuery())!.get('max_side')).toBeNull();
    await removebg(key, form({ image_file: pngHeader(4000, 4000), format: 'png', size: 'full' }));
    expect((await lastBackendQuery())!.get('max_side')).toBe('3162');
    const json = await removebg(key, form({ image_file: uniqueImage(), format: 'zip' }), {
      headers: { accept: 'application/json' },
    });
    const body = await json.json<{ data: { result_b64: string } }>();
    expect(atob(body.data.result_b64).slice(0, 2)).toBe('PK');
  });

  it('no foreground found: 400 unknown_foreground, no credits', async () => {
    const { key, record } = await newKey();
    await backend.setMode({ kind: 'no-foreground' });
    await expectRemoveBgError(
      await removebg(key, form({ image_file: uniqueImage() })),
      400,
      'unknown_foreground',
    );
    expect(await usageOf(env.DB, record.id)).toEqual([]);
  });
});

describe('POST /v1.0/removebg: background images', () => {
  it('bg_image_file goes to the backend as the multipart part bg_image, its hash in the result key', async () => {
    const { key } = await newKey();
    const photo = uniqueImage();
    const background = uniqueImage('photo-96x64.png');
    const response = await removebg(key, form({ image_file: photo, bg_image_file: background }));
    expect(response.status).toBe(200);
    // auto: a PNG background may be transparent, so PNG.
    expect(response.headers.get('content-type')).toBe('image/png');
    const calls = (await backend.calls()).requests.filter((r) => r.path.startsWith('/v1/remove-background'));
    expect(calls).toHaveLength(1);
    const query = new URL(calls[0]!.path, 'http://x').searchParams;
    expect(query.get('bg_image')).toBe(await sha256Hex(background));
    expect(calls[0]!.bgImageSha256).toBe(await sha256Hex(background));
    expect(calls[0]!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(calls[0]!.signature).toBe('ok');
    // Another background is another result; the same one again is the cached result.
    const other = await removebg(
      key,
      form({ image_file: photo, bg_image_file: uniqueImage('photo-96x64.png') }),
    );
    expect(other.headers.get('x-credits-charged')).toBe('0.25');
    expect(other.headers.get('x-result-key')).not.toBe(response.headers.get('x-result-key'));
    const again = await removebg(key, form({ image_file: photo, bg_image_file: background }));
    expect(again.headers.get('x-credits-charged')).toBe('0');
    expect(await backend.removeBackgroundCalls()).toBe(2);
  });

  it('auto is JPG over a JPEG background; channels=alpha sends no background', async () => {
    const { key } = await newKey();
    const jpeg = await removebg(key, form({ image_file: uniqueImage(), bg_image_file: uniqueImage() }));
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect((await lastBackendQuery())!.get('format')).toBe('jpg');
    const alpha = await removebg(
      key,
      form({ image_file: uniqueImage(), bg_image_file: uniqueImage(), channels: 'alpha' }),
    );
    expect(alpha.status).toBe(200);
    const last = (await backend.calls()).requests.at(-1)!;
    expect(new URL(last.path, 'http://x').searchParams.has('bg_image')).toBe(false);
    expect(last.contentType).not.toMatch(/multipart/);
  });

  it('the native API refuses bg_image (no way to send its bytes there)', async () => {
    const response = await request(`/v1/remove-background?bg_image=${'a'.repeat(64)}`, {
      method: 'POST',
      body: uniqueImage(),
      headers: { 'content-type': 'image/jpeg', origin: 'https://shop.example.com' },
    });
    expect(response.status).toBe(400);
    expect((await response.json<{ detail: string }>()).detail).toMatch(/bg_image/);
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });
});

describe('POST /v1.0/removebg: every bad input has remove.bg’s code', () => {
  const image = () => uniqueImage();
  const cases: [string, () => Record<string, string | Uint8Array>, string][] = [
    ['no source', () => ({ size: 'preview' }), 'missing_source'],
    [
      'two sources',
      () => ({ image_file: image(), image_url: 'https://example.com/a.jpg' }),
      'multiple_sources',
    ],
    [
      'three sources',
      () => ({ image_file: image(), image_file_b64: b64(image()), image_url: 'https://a.test/x' }),
      'multiple_sources',
    ],
    ['a GIF', () => ({ image_file: fixture('photo-96x64.gif') }), 'invalid_file_type'],
    ['text', () => ({ image_file: new TextEncoder().encode('hello') }), 'invalid_file_type'],
    [
      'a broken JPEG',
      () => ({ image_file: fixture('photo-96x64.jpg').subarray(0, 40) }),
      'failed_to_read_image',
    ],
    ['bad base64', () => ({ image_file_b64: '***' }), 'failed_to_read_image'],
    ['size', () => ({ image_file: image(), size: 'huge' }), 'invalid_size'],
    ['type', () => ({ image_file: image(), type: 'robot' }), 'invalid_type'],
    ['type_level', () => ({ image_file: image(), type_level: '3' }), 'invalid_type_level'],
    ['format', () => ({ image_file: image(), format: 'gif' }), 'invalid_format'],
    ['channels', () => ({ image_file: image(), channels: 'rgb' }), 'invalid_channels'],
    ['bg_color', () => ({ image_file: image(), bg_color: 'notacolour' }), 'invalid_bg_color'],
    ['bg_color 5 digits', () => ({ image_file: image(), bg_color: '12345' }), 'invalid_bg_color'],
    ['crop', () => ({ image_file: image(), crop: 'maybe' }), 'invalid_crop'],
    [
      'crop_margin 3 values',
      () => ({ image_file: image(), crop: 'true', crop_margin: '1px 2px 3px' }),
      'invalid_crop_margin',
    ],
    [
      'crop_margin over 50%',
      () => ({ image_file: image(), crop: 'true', crop_margin: '60%' }),
      'invalid_crop_margin',
    ],
    [
      'crop_margin over 500px',
      () => ({ image_file: image(), crop: 'true', crop_margin: '501px' }),
      'invalid_crop_margin',
    ],
    ['roi', () => ({ image_file: image(), roi: '0 0 10' }), 'invalid_roi'],
    ['roi reversed', () => ({ image_file: image(), roi: '50% 0% 10% 100%' }), 'invalid_roi'],
    ['scale 5%', () => ({ image_file: image(), scale: '5%' }), 'invalid_scale'],
    ['scale 120%', () => ({ image_file: image(), scale: '120%' }), 'invalid_scale'],
    ['scale without %', () => ({ image_file: image(), scale: '50' }), 'invalid_scale'],
    ['position', () => ({ image_file: image(), position: 'left' }), 'invalid_position'],
    ['position 3 values', () => ({ image_file: image(), position: '1% 2% 3%' }), 'invalid_position'],
    [
      'bg_color and bg_image_url',
      () => ({ image_file: image(), bg_color: 'fff', bg_image_url: 'https://a.test/b.jpg' }),
      'multiple_bg_sources',
    ],
    [
      'bg_image_file and bg_image_url',
      () => ({ image_file: image(), bg_image_file: image(), bg_image_url: 'https://a.test/b.jpg' }),
      'multiple_bg_sources',
    ],
    [
      'bg_image_file a GIF',
      () => ({ image_file: image(), bg_image_file: fixture('photo-96x64.gif') }),
      'invalid_file_type',
    ],
    [
      'bg_image_url over http',
      () => ({ image_file: image(), bg_image_url: 'http://example.com/b.jpg' }),
      'failed_image_download',
    ],
    [
      'bg_image_url to a private address',
      () => ({ image_file: image(), bg_image_url: 'https://192.168.0.10/b.jpg' }),
      'failed_image_download',
    ],
    ['unknown parameter', () => ({ image_file: image(), colour: 'red' }), 'invalid_parameter'],
    ['add_shadow not boolean', () => ({ image_file: image(), add_shadow: 'lots' }), 'invalid_parameter'],
  ];
  for (const [name, fields, code] of cases) {
    it(`${name}: 400 ${code}`, async () => {
      const { key, record } = await newKey();
      await expectRemoveBgError(await removebg(key, form(fields())), 400, code);
      expect(await usageOf(env.DB, record.id)).toEqual([]);
    });
  }

  it('too large: 400 file_too_large; over the pixel limit: 400 resolution_too_high', async () => {
    const { key } = await newKey();
    const small = { ...env, MAX_BODY_BYTES: '2048', MAX_INPUT_PIXELS: '1000000' };
    await expectRemoveBgError(
      await removebg(key, form({ image_file: new Uint8Array(4096).fill(0xff) }), { env: small }),
      400,
      'file_too_large',
    );
    await expectRemoveBgError(
      await removebg(key, form({ image_file: pngHeader(1001, 1000) }), { env: small }),
      400,
      'resolution_too_high',
    );
  });

  it('a body in none of the three encodings, bad JSON, or a repeated field: 400', async () => {
    const { key } = await newKey();
    await expectRemoveBgError(
      await removebg(key, 'x', { headers: { 'content-type': 'text/plain' } }),
      400,
      'invalid_request',
    );
    await expectRemoveBgError(
      await removebg(key, '{', { headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_request',
    );
    const twice = new URLSearchParams([
      ['size', 'hd'],
      ['size', 'full'],
    ]);
    await expectRemoveBgError(
      await removebg(key, twice.toString(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      400,
      'invalid_parameter',
    );
  });

  it('accepted no-ops and aliases pass: type, type_level, add_shadow, semitransparency, colour names', async () => {
    const { key } = await newKey();
    const response = await removebg(
      key,
      form({
        image_file: image(),
        type: 'person',
        type_level: '2',
        add_shadow: 'false',
        semitransparency: 'true',
        size: 'regular',
      }),
    );
    expect(response.status).toBe(200);
  });
});

describe('GET /v1.0/account', () => {
  it("the key's credits in remove.bg's shape; 403 without a key", async () => {
    const { key } = await newKey({ monthlyCredits: 10 });
    await removebg(key, form({ image_file: uniqueImage(), size: 'full' }));
    const response = await request('/v1.0/account', { headers: { 'x-api-key': key } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: {
        attributes: {
          credits: { total: 9, subscription: 9, payg: 0, enterprise: 0 },
          api: { free_calls: 0, sizes: 'all' },
        },
      },
    });
    await expectRemoveBgError(await request('/v1.0/account'), 403, 'auth_failed');
  });
});
