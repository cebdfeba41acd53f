import { beforeEach, describe, expect, it } from 'vitest';
import { backend, request, upload, uniqueImage } from './helpers';

describe('smoke', () => {
  beforeEach(async () => {
    await backend.reset();
  });
  it('healthz', async () => {
    const res = await request('/healthz');
    expect(res.status).toBe(200);
  });
  it('miss then hit', async () => {
    const img = uniqueImage();
    const first = await upload(img);
    console.log(
      first.status,
      Object.fromEntries(first.headers),
      first.status !== 200 ? await first.text() : '',
    );
    const second = await upload(img);
    console.log(second.status, Object.fromEntries(second.headers));
    expect(await backend.removeBackgroundCalls()).toBe(1);
  });
});
