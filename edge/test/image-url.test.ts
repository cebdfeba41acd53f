import { sha256Hex } from '@bgremove/shared';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { createKey, usageOf } from '../src/api-keys';
import { checkImageUrl, MAX_REDIRECTS, refuseHost } from '../src/removebg/fetch-image';
import { backend, env, fixture, request } from './helpers';
import './image-server-context';

const port = inject('imagePort');
const forbiddenPort = inject('forbiddenImagePort');
const server = `http://127.0.0.1:${port}`;
const devHosts = new Set([`127.0.0.1:${port}`]);

async function hits(): Promise<{ allowed: Record<string, number>; forbidden: number }> {
  const response = await fetch(`${server}/__hits`);
  return response.json();
}

async function newKey() {
  return createKey(env.DB, { label: 'image-url', monthlyCredits: 100, rateLimitPerMinute: 1000 });
}

function removebg(apiKey: string, fields: Record<string, string>, as: 'form' | 'json' = 'form') {
  const body =
    as === 'json'
      ? JSON.stringify(fields)
      : (() => {
          const form = new FormData();
          for (const [name, value] of Object.entries(fields)) form.append(name, value);
          return form;
        })();
  const headers: Record<string, string> = { 'x-api-key': apiKey };
  if (as === 'json') headers['content-type'] = 'application/json';
  return request('/v1.0/removebg', { method: 'POST', body, headers });
}

async function expectError(response: Response, status: number, code: string): Promise<string> {
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: { code: string; detail: string; title: string }[] };
  if (response.status !== status || body.errors?.[0]?.code !== code)
    throw new Error(`expected ${status} ${code}, got ${response.status} ${text}`);
  return body.errors[0].detail;
}

beforeEach(async () => {
  await backend.reset();
  await fetch(`${server}/__reset`);
});

describe('image_url: which URLs are fetched at all', () => {
  it.each([
    // scheme, credentials, garbage
    ['http://example.com/a.jpg', /only https/],
    ['ftp://example.com/a.jpg', /only https/],
    ['file:///etc/passwd', /only https/],
    ['data:image/png;base64,iVBORw0KGgo=', /only https/],
    ['https://user:secret@example.com/a.jpg', /credentials/],
    ['not a url', /not a valid URL/],
    [`https://example.com/${'a'.repeat(2100)}`, /longer than/],
    // IPv4 literals, also in odd spellings the URL parser turns into dotted quads
    ['https://127.0.0.1/a.jpg', /loopback/],
    ['https://127.1/a.jpg', /loopback/],
    ['https://2130706433/a.jpg', /loopback/],
    ['https://0x7f000001/a.jpg', /loopback/],
    ['https://0177.0.0.1/a.jpg', /loopback/],
    ['https://0x7f.0.0.1/a.jpg', /loopback/],
    ['https://10.0.0.1/a.jpg', /private/],
    ['https://172.16.5.4/a.jpg', /private/],
    ['https://192.168.1.1/a.jpg', /private/],
    ['https://167772161/a.jpg', /private/], // 10.0.0.1
    ['https://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['https://100.64.0.1/a.jpg', /carrierGradeNat/],
    ['https://0.0.0.0/a.jpg', /unspecified/],
    ['https://224.0.0.1/a.jpg', /multicast/],
    ['https://255.255.255.255/a.jpg', /broadcast/],
    ['https://192.0.2.1/a.jpg', /reserved/],
    // IPv6 literals, IPv4 inside IPv6 included
    ['https://[::1]/a.jpg', /loopback/],
    ['https://[::]/a.jpg', /unspecified/],
    ['https://[::ffff:127.0.0.1]/a.jpg', /loopback/],
    ['https://[::ffff:a9fe:a9fe]/a.jpg', /linkLocal/],
    ['https://[::ffff:10.0.0.1]/a.jpg', /private/],
    ['https://[fc00::1]/a.jpg', /uniqueLocal/],
    ['https://[fd12:3456::1]/a.jpg', /uniqueLocal/],
    ['https://[fe80::1]/a.jpg', /linkLocal/],
    ['https://[ff02::1]/a.jpg', /multicast/],
    ['https://[64:ff9b::a00:1]/a.jpg', /rfc6052/],
    ['https://[2002:7f00:1::]/a.jpg', /6to4/],
    ['https://[2001::1]/a.jpg', /teredo/],
    ['https://[fd00:ec2::254]/a.jpg', /uniqueLocal/],
    // names that only mean something inside a network
    ['https://localhost/a.jpg', /not a public host name/],
    ['https://LOCALHOST./a.jpg', /not a public host name/],
    ['https://app.localhost/a.jpg', /not a public host name/],
    ['https://printer.local/a.jpg', /not a public host name/],
    ['https://metadata.google.internal/computeMetadata/v1/', /not a public host name/],
    ['https://metadata/a.jpg', /not a public host name/],
    ['https://router.home.arpa/a.jpg', /not a public host name/],
    ['https://1.0.0.127.in-addr.arpa/a.jpg', /not a public host name/],
    ['https://intranet.corp/a.jpg', /not a public host name/],
    // the dev host only on its own port
    [`http://127.0.0.1:${forbiddenPort}/a.jpg`, /only https/],
    [`https://127.0.0.1:${forbiddenPort}/a.jpg`, /loopback/],
    [`http://localhost:${port}/a.jpg`, /only https/],
  ])('refuses %s', (url, why) => {
    expect(() => checkImageUrl(url, devHosts, 'image_url')).toThrow(why);
    try {
      checkImageUrl(url, devHosts, 'image_url');
    } catch (error) {
      expect((error as { code: string }).code).toBe('failed_image_download');
    }
  });

  it.each([
    'https://example.com/a.jpg',
    'https://images.shop-cdn.com:8443/p/1.png?w=800',
    'https://8.8.8.8/a.jpg',
    'https://[2606:4700:4700::1111]/a.jpg',
    'https://xn--bcher-kva.example.org/a.jpg',
    `http://127.0.0.1:${port}/img/photo-96x64.jpg`,
  ])('lets %s through', (url) => {
    expect(() => checkImageUrl(url, devHosts, 'image_url')).not.toThrow();
  });

  it('classifies hosts as new URL() spells them', () => {
    expect(refuseHost(new URL('https://0300.0250.0.1/').hostname)).toMatch(/private/); // 192.168.0.1
    expect(refuseHost(new URL('https://[0:0:0:0:0:ffff:7f00:0001]/').hostname)).toMatch(/loopback/);
    expect(refuseHost('93.184.216.34')).toBeUndefined();
  });
});

describe('image_url through POST /v1.0/removebg (a real local web server)', () => {
  it('fetches the image, charges as for an upload, answers remove.bg headers (form and JSON)', async () => {
    const { key, record } = await newKey();
    const response = await removebg(key, { image_url: `${server}/img/photo-96x64.jpg?unique=1` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-width')).toBe('96');
    expect(response.headers.get('x-credits-charged')).toBe('0.25');
    const json = await removebg(
      key,
      { image_url: `${server}/img/photo-96x64.png?unique=1`, size: 'full' },
      'json',
    );
    expect(json.status).toBe(200);
    expect(json.headers.get('x-credits-charged')).toBe('1');
    expect(await backend.removeBackgroundCalls()).toBe(2);
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 1.25, requests: 2 }]);
    // The same URL again (same bytes): the cached result, 0 credits.
    const url = `${server}/img/photo-96x64-lossy.webp`;
    expect((await removebg(key, { image_url: url })).status).toBe(200);
    const again = await removebg(key, { image_url: url });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-credits-charged')).toBe('0');
  });

  it(`follows ${MAX_REDIRECTS} redirects (relative and absolute), refuses one more`, async () => {
    const { key } = await newKey();
    const ok = await removebg(key, {
      image_url: `${server}/redirect/${MAX_REDIRECTS}/photo-96x64.jpg?unique=1`,
    });
    expect(ok.status).toBe(200);
    const tooMany = await removebg(key, {
      image_url: `${server}/redirect/${MAX_REDIRECTS + 1}/photo-96x64.jpg?unique=1`,
    });
    expect(await expectError(tooMany, 400, 'failed_image_download')).toMatch(/more than 3 redirects/);
    const seen = await hits();
    expect(seen.allowed['/img/photo-96x64.jpg']).toBe(1);
  });

  it.each([
    [`http://127.0.0.1:${forbiddenPort}/a.jpg`, /redirect 1.*only https/],
    [`https://127.0.0.1:${forbiddenPort}/a.jpg`, /redirect 1.*loopback/],
    ['https://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['https://[::ffff:127.0.0.1]/a.jpg', /loopback/],
    ['https://localhost/a.jpg', /not a public host name/],
    ['http://example.com/a.jpg', /only https/],
    ['gopher://example.com/', /only https/],
  ])('checks every redirect again: refuses a hop to %s without fetching it', async (target, why) => {
    const { key, record } = await newKey();
    const response = await removebg(key, { image_url: `${server}/to?url=${encodeURIComponent(target)}` });
    expect(await expectError(response, 400, 'failed_image_download')).toMatch(why);
    expect((await hits()).forbidden).toBe(0);
    expect(await backend.removeBackgroundCalls()).toBe(0);
    expect(await usageOf(env.DB, record.id)).toEqual([]);
  });

  it('refuses a hostile image_url before any request', async () => {
    const { key } = await newKey();
    for (const url of [
      `http://127.0.0.1:${forbiddenPort}/a.jpg`,
      'https://[::1]:1/a.jpg',
      'https://2130706433/',
    ]) {
      await expectError(await removebg(key, { image_url: url }), 400, 'failed_image_download');
    }
    expect((await hits()).forbidden).toBe(0);
  });

  it('stops a download past the size cap (streamed and declared): file_too_large', async () => {
    const { key } = await newKey();
    expect(
      await expectError(await removebg(key, { image_url: `${server}/big` }), 400, 'file_too_large'),
    ).toMatch(/over 1048576 bytes/);
    await expectError(await removebg(key, { image_url: `${server}/big-declared` }), 400, 'file_too_large');
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('gives up on a slow server within the time limit', async () => {
    const { key } = await newKey();
    const started = Date.now();
    for (const path of ['/slow', '/slow-headers']) {
      const detail = await expectError(
        await removebg(key, { image_url: `${server}${path}` }),
        400,
        'failed_image_download',
      );
      expect(detail).toMatch(/within 1500 ms/);
    }
    // Two downloads of 1.5 s each, not the test's 20 s.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('checks what came back by its magic bytes, not its Content-Type', async () => {
    const { key, record } = await newKey();
    const html = await removebg(key, { image_url: `${server}/html` });
    expect(await expectError(html, 400, 'invalid_file_type')).toMatch(/image_url/);
    const gif = await removebg(key, { image_url: `${server}/img/photo-96x64.gif?type=image/png` });
    await expectError(gif, 400, 'invalid_file_type');
    // Labelled wrongly but a real JPEG: accepted.
    const jpeg = await removebg(key, {
      image_url: `${server}/img/photo-96x64.jpg?unique=1&type=text/html`,
    });
    expect(jpeg.status).toBe(200);
    await expectError(await removebg(key, { image_url: `${server}/missing` }), 400, 'failed_image_download');
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 0.25, requests: 1 }]);
  });

  it('bg_image_url: fetched the same way, sent to the backend as bg_image', async () => {
    const { key, record } = await newKey();
    const response = await removebg(key, {
      image_url: `${server}/img/photo-96x64.jpg?unique=1`,
      bg_image_url: `${server}/redirect/2/photo-96x64.png`,
    });
    expect(response.status).toBe(200);
    const last = (await backend.calls()).requests.at(-1)!;
    expect(new URL(last.path, 'http://x').searchParams.get('bg_image')).toBe(last.bgImageSha256);
    expect(last.bgImageSha256).toBe(await sha256Hex(fixture('photo-96x64.png')));
    for (const [url, code] of [
      [`${server}/to?url=${encodeURIComponent('https://10.1.2.3/bg.jpg')}`, 'failed_image_download'],
      [`${server}/big`, 'file_too_large'],
      [`${server}/html`, 'invalid_file_type'],
    ] as const) {
      await expectError(
        await removebg(key, { image_url: `${server}/img/photo-96x64.jpg?unique=1`, bg_image_url: url }),
        400,
        code,
      );
    }
    expect(await usageOf(env.DB, record.id)).toMatchObject([{ creditsCharged: 0.25, requests: 1 }]);
  });

  it('stays healthy after the hostile downloads', async () => {
    const { key } = await newKey();
    await Promise.all([
      removebg(key, { image_url: `${server}/big` }),
      removebg(key, { image_url: `${server}/slow` }),
      removebg(key, { image_url: `${server}/redirect/9/photo-96x64.jpg` }),
    ]);
    expect((await request('/healthz')).status).toBe(200);
    const ok = await removebg(key, { image_url: `${server}/img/photo-96x64.jpg?unique=1` });
    expect(ok.status).toBe(200);
    expect(fixture('photo-96x64.jpg').length).toBeGreaterThan(0);
  });
});
