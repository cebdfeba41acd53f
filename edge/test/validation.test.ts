import { createExecutionContext } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { backend, env, expectProblem, fixture, request, upload, uniqueImage } from './helpers';

const ascii = (text: string) => new TextEncoder().encode(text);

/** The PNG fixture with its IHDR saying width × height. */
function pngClaiming(width: number, height: number): Uint8Array {
  const png = uniqueImage('photo-96x64.png');
  const view = new DataView(png.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return png;
}

function multipart(parts: { name: string; filename?: string; bytes: Uint8Array }[]): {
  body: Uint8Array;
  type: string;
} {
  const boundary = `----edge-test-${crypto.randomUUID()}`;
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    chunks.push(
      ascii(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(part.bytes, ascii('\r\n'));
  }
  chunks.push(ascii(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

describe('bad uploads are refused before any backend call', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it.each([
    ['?colour=red', /unknown parameter\(s\): colour/],
    ['?output=mask', /^output:/],
    ['?format=jpeg', /^format:/],
    ['?max_side=9000', /^max_side:/],
    ['?max_side=12.5', /^max_side:/],
    ['?output=matte&output=cutout', /more than once: output/],
    ['?refine=extra', /^refine:/],
    ['?subject=one', /^subject:/],
    ['?roi=1,2,3', /^roi: expected four coordinates/],
    ['?roi=0,0,120%,10', /^roi: "120%" is over 100%/],
  ])('query %s is invalid_request naming the field', async (query, detail) => {
    const body = await expectProblem(await upload(uniqueImage(), query), 400, 'invalid_request');
    expect(body.detail).toMatch(detail);
  });

  it.each(['u2net', 'u2netp-fp32', 'no-such-model'])(
    'model=%s is unknown_model (not served here)',
    async (model) => {
      const body = await expectProblem(await upload(uniqueImage(), `?model=${model}`), 422, 'unknown_model');
      expect(body.detail).toContain(`"${model}"`);
      expect(body.detail).toContain('isnet-general-use');
    },
  );

  it('an empty body is invalid_request', async () => {
    await expectProblem(await upload(new Uint8Array()), 400, 'invalid_request');
  });

  it.each([
    ['text', ascii('just some text, not a photo\n'), 'text/plain'],
    ['GIF', fixture('photo-96x64.gif'), 'image/gif'],
    ['SVG', ascii('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    ['PDF', ascii('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'application/pdf'],
    ['BMP', new Uint8Array([0x42, 0x4d, 0x36, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0]), 'image/bmp'],
    [
      'HEIC/HEIF',
      new Uint8Array([0, 0, 0, 0x18, ...ascii('ftypheic'), 0, 0, 0, 0, ...ascii('mif1heic')]),
      'image/heic',
    ],
  ])('%s is unsupported_media_type naming what was seen', async (seen, bytes, contentType) => {
    const body = await expectProblem(
      await upload(bytes, '', { headers: { 'content-type': contentType } }),
      415,
      'unsupported_media_type',
    );
    expect(body.detail).toContain(seen);
    // The same for programs: seen.type is a token from the bytes, whatever Content-Type said.
    const token = { text: 'text', GIF: 'gif', SVG: 'svg', PDF: 'pdf', BMP: 'bmp', 'HEIC/HEIF': 'heic' }[seen];
    expect(body.seen).toEqual({ bytes: bytes.byteLength, type: token });
  });

  it('the type comes from the bytes, not from Content-Type', async () => {
    const body = await expectProblem(
      await upload(ascii('hello'), '', { headers: { 'content-type': 'image/png' } }),
      415,
      'unsupported_media_type',
    );
    expect(body.detail).toContain('text');
  });

  it.each([
    ['photo-96x64.jpg', 40],
    ['photo-96x64.png', 20],
    ['photo-96x64-lossy.webp', 26],
    ['photo-96x64.avif', 0xb0],
  ])('%s truncated to %i bytes is invalid_image', async (name, length) => {
    await expectProblem(await upload(fixture(name).slice(0, length)), 422, 'invalid_image');
  });

  it('a header over MAX_INPUT_PIXELS is image_too_large, read without decoding', async () => {
    const body = await expectProblem(await upload(pngClaiming(10_000, 6_000)), 422, 'image_too_large');
    expect(body.detail).toContain('10000×6000');
    expect(body.limit_pixels).toBe(Number(env.MAX_INPUT_PIXELS));
    expect(body.seen).toEqual({ width: 10_000, height: 6_000, pixels: 60_000_000, type: 'png' });
  });

  it('a declared Content-Length over the limit is refused without reading the body', async () => {
    let pulled = false;
    const body = new ReadableStream(
      {
        pull() {
          pulled = true;
          throw new Error('the body must not be read');
        },
      },
      { highWaterMark: 0 },
    );
    const req = new Request('https://edge.test/v1/remove-background', {
      method: 'POST',
      body,
      headers: { 'content-length': String(30 * 1024 * 1024), 'content-type': 'image/jpeg' },
    });
    const res = await worker.fetch(req, env, createExecutionContext());
    const problem = await expectProblem(res, 413, 'payload_too_large');
    expect(pulled).toBe(false);
    // The limit and the declared size, for a client to phrase its own message.
    expect(problem.limit_bytes).toBe(Number(env.MAX_BODY_BYTES));
    expect(problem.seen).toEqual({ bytes: 30 * 1024 * 1024 });
  });

  it('a body without Content-Length is cut off as soon as it passes the limit', async () => {
    const small = { ...env, MAX_BODY_BYTES: '4096' };
    let chunksPulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        chunksPulled++;
        controller.enqueue(new Uint8Array(1024).fill(0xff));
      },
    });
    const req = new Request('https://edge.test/v1/remove-background', { method: 'POST', body });
    const res = await worker.fetch(req, small, createExecutionContext());
    const problem = await expectProblem(res, 413, 'payload_too_large');
    expect(chunksPulled).toBeLessThan(10);
    // Cut off at the limit: the size sent is not known, only the limit.
    expect(problem.limit_bytes).toBe(4096);
    expect(problem.seen).toBeUndefined();
  });

  it('multipart without an image field, or malformed, is invalid_request', async () => {
    const missing = multipart([{ name: 'photo', filename: 'a.jpg', bytes: uniqueImage() }]);
    const res = await upload(missing.body, '', { headers: { 'content-type': missing.type } });
    expect((await expectProblem(res, 400, 'invalid_request')).detail).toContain('"image"');
    const broken = await upload(ascii('no boundaries here'), '', {
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    await expectProblem(broken, 400, 'invalid_request');
  });

  it('multipart whose image is a text file is unsupported_media_type', async () => {
    const form = multipart([{ name: 'image', filename: 'notes.txt', bytes: ascii('plain text') }]);
    const res = await upload(form.body, '', { headers: { 'content-type': form.type } });
    await expectProblem(res, 415, 'unsupported_media_type');
  });

  it('none of the above reached the backend', async () => {
    await upload(ascii('text'));
    await upload(pngClaiming(20_000, 20_000));
    await upload(uniqueImage(), '?model=u2net');
    expect(await backend.removeBackgroundCalls()).toBe(0);
  });

  it('a multipart upload is answered like the raw one (same key)', async () => {
    const image = uniqueImage();
    const form = multipart([{ name: 'image', filename: 'photo.jpg', bytes: image }]);
    const viaForm = await upload(form.body, '', { headers: { 'content-type': form.type } });
    expect(viaForm.status).toBe(200);
    const raw = await upload(image);
    expect(raw.headers.get('x-result-key')).toBe(viaForm.headers.get('x-result-key'));
    expect(raw.headers.get('x-cache')).toBe('HIT');
  });

  it('unknown routes are not_found problems', async () => {
    await expectProblem(await request('/v2/nothing'), 404, 'not_found');
  });
});
