/**
 * The page at `/` in a real browser (Debian's chromium driven by playwright-core) against the
 * running stack: pick a photo, see the cutout, HIT/MISS and timings; the same photo again is a HIT
 * found by /v1/lookup without any upload; a phone-sized screen; an error in shopper's words.
 * Screenshots go to test-artifacts/e2e/.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/browser';
import { ARTIFACTS } from './support/config';
import { photoPath } from './support/images';
import './support/provided-context';

const edgeUrl = () => inject('edgeUrl');

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

/** A model's one-line description, read from the manifest the edge serves it from. */
function manifestDescription(id: string): string | undefined {
  const manifest = JSON.parse(
    readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8'),
  ) as {
    models: { id: string; description: string }[];
  };
  return manifest.models.find((model) => model.id === id)?.description;
}

interface Opened {
  context: BrowserContext;
  page: Page;
  /** "METHOD /path" of every request the page made. */
  requests: string[];
  /** Requests to anywhere but the edge (there must be none). */
  foreign: string[];
  consoleErrors: string[];
}

async function openPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Opened> {
  const context = await browser!.newContext(options);
  const page = await context.newPage();
  const opened: Opened = { context, page, requests: [], foreign: [], consoleErrors: [] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'blob:' || url.protocol === 'data:') return;
    if (url.origin !== edgeUrl()) opened.foreign.push(request.url());
    opened.requests.push(`${request.method()} ${url.pathname}`);
  });
  page.on('console', (message) => {
    // A lookup miss is a 404 by design; chromium logs every 4xx as a console error.
    if (message.type() === 'error' && !/status of 404/.test(message.text())) {
      opened.consoleErrors.push(message.text());
    }
  });
  await page.goto(`${edgeUrl()}/`);
  // The model picker is filled from /v1/status.
  await expect.poll(() => page.locator('#model option').allTextContents()).toContain('isnet-general-use');
  // The chosen model's one-line description (from the manifest, through /v1/status) under the picker.
  await expect
    .poll(() => page.locator('#model-description').textContent())
    .toBe(manifestDescription('isnet-general-use'));
  return opened;
}

/** Waits until the result section shows `cache` (HIT, MISS) with its image decoded. */
async function waitForResult(page: Page, cache: string): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const result = document.getElementById('result')!;
      const badge = document.getElementById('cache-badge')!;
      const img = document.getElementById('output') as HTMLImageElement;
      return !result.hidden && badge.textContent === expected && img.complete && img.naturalWidth > 0;
    },
    cache,
    { timeout: 60_000 },
  );
}

const naturalSize = (page: Page, selector: string) =>
  page.locator(selector).evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);

/** Alpha of the displayed result at a corner and at the centre (drawn on a canvas in the page). */
const alphaSamples = (page: Page) =>
  page.locator('#output').evaluate((img: HTMLImageElement) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const alphaAt = (x: number, y: number) => context.getImageData(x, y, 1, 1).data[3];
    return { corner: alphaAt(2, 2), centre: alphaAt(img.naturalWidth >> 1, img.naturalHeight >> 1) };
  });

describe('the page in chromium', () => {
  it('cuts out a photo (lookup miss, upload), then shows the same photo again as a HIT without uploading', async () => {
    const { context, page, requests, foreign, consoleErrors } = await openPage({
      viewport: { width: 1280, height: 900 },
    });
    try {
      await page.setInputFiles('#file-input', photoPath('ellipse'));
      await waitForResult(page, 'MISS');
      expect(requests).toContain('GET /v1/lookup');
      expect(requests).toContain('POST /v1/remove-background');
      expect(await naturalSize(page, '#output')).toEqual([480, 360]);
      expect(await naturalSize(page, '#original')).toEqual([480, 360]);
      const alpha = await alphaSamples(page);
      expect(alpha.corner).toBeLessThan(30); // background removed
      expect(alpha.centre).toBeGreaterThan(200); // the object kept
      const timings = await page.locator('#timings').innerText();
      expect(timings).toMatch(/Hash\s+\d+ ms/);
      expect(timings).toMatch(/Model\s+\d+ ms/);
      expect(await page.locator('#status').innerText()).toContain('MISS');
      expect(await page.locator('#download').getAttribute('href')).toMatch(/\/v1\/results\/[0-9a-f]{64}$/);
      expect(
        await page
          .locator('.checkerboard')
          .first()
          .evaluate((el) => getComputedStyle(el).backgroundImage),
      ).toContain('linear-gradient');
      await page.screenshot({ path: join(ARTIFACTS, 'e2e', 'page-desktop-miss.png'), fullPage: true });

      requests.length = 0;
      await page.setInputFiles('#file-input', photoPath('ellipse'));
      await waitForResult(page, 'HIT');
      expect(requests).toContain('GET /v1/lookup');
      expect(requests.filter((r) => r.startsWith('POST'))).toEqual([]);
      expect(await naturalSize(page, '#output')).toEqual([480, 360]);
      expect(await page.locator('#timings').innerText()).toMatch(/Lookup\s+\d+ ms/);
      await page.screenshot({ path: join(ARTIFACTS, 'e2e', 'page-desktop-hit.png'), fullPage: true });
      expect(foreign).toEqual([]);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('fits a phone-sized screen; the matte switch and the controls are labelled and reachable', async () => {
    const { context, page, foreign } = await openPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    try {
      await page.setInputFiles('#file-input', photoPath('ellipse'));
      await waitForResult(page, 'HIT'); // the cutout made by the test before
      await page.getByLabel('Matte').check();
      await page.waitForFunction(() =>
        document.getElementById('output-caption')!.textContent.startsWith('Matte'),
      );
      await page.waitForFunction(() => {
        const img = document.getElementById('output') as HTMLImageElement;
        return !document.getElementById('result')!.hidden && img.complete && img.naturalWidth === 480;
      });
      const layout = await page.evaluate(() => {
        const [original, output] = [...document.querySelectorAll('.panes figure')].map((f) =>
          f.getBoundingClientRect(),
        );
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          stacked: output!.top >= original!.bottom,
          buttonHeight: document.getElementById('choose')!.getBoundingClientRect().height,
        };
      });
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth); // no sideways scrolling
      expect(layout.stacked).toBe(true); // original above the result
      expect(layout.buttonHeight).toBeGreaterThanOrEqual(44); // a comfortable touch target
      await expect.poll(() => page.getByLabel('Model').count()).toBe(1);
      await expect.poll(() => page.getByRole('button', { name: 'Choose a photo…' }).count()).toBe(1);
      await page.screenshot({ path: join(ARTIFACTS, 'e2e', 'page-phone-matte.png'), fullPage: true });
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('explains a refused file in words a shopper understands', async () => {
    const { context, page } = await openPage();
    try {
      await page.setInputFiles('#file-input', {
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('not a photo at all'),
      });
      await page.locator('#error').waitFor({ state: 'visible' });
      expect(await page.locator('#error-text').innerText()).toBe(
        'This file isn’t a photo we can use. Please choose a JPEG, PNG, WebP or AVIF image.',
      );
      expect(await page.getByRole('alert').count()).toBe(1);
    } finally {
      await context.close();
    }
  });
  it.each([
    {
      name: 'a cold backend',
      status: 503,
      problem: { code: 'backend_unavailable', detail: 'the backend is not available' },
      retryAfter: '2',
      text: 'We’re warming up — try again in 2 s.',
    },
    {
      // The page reads the extension members, never the English detail (here saying nothing useful).
      name: 'a photo over the size limit',
      status: 413,
      problem: {
        code: 'payload_too_large',
        detail: 'too large',
        limit_bytes: 26214400,
        seen: { bytes: 31457280 },
      },
      retryAfter: undefined,
      text: 'This photo is too large to upload (up to 25 MB). Please choose a smaller photo.',
    },
    {
      name: 'a photo with too many pixels',
      status: 422,
      problem: {
        code: 'image_too_large',
        detail: 'too many pixels',
        limit_pixels: 50_000_000,
        seen: { width: 9000, height: 6000, pixels: 54_000_000, type: 'jpeg' },
      },
      retryAfter: undefined,
      text: 'This photo has too many pixels for us (9000 × 6000). Please use a smaller version of it (up to 50 megapixels).',
    },
    {
      name: 'a HEIC photo sent under a JPEG name',
      status: 415,
      problem: {
        code: 'unsupported_media_type',
        detail: 'not accepted',
        seen: { bytes: 1234, type: 'heic' },
      },
      retryAfter: undefined,
      text: 'iPhone HEIC photos can’t be used yet. Please share or export the photo as JPEG and try again.',
    },
  ])('explains $name in words a shopper understands', async ({ status, problem, retryAfter, text }) => {
    const { context, page } = await openPage();
    try {
      // The edge's answer, as the stack test sees it for real; here only its wording on the page matters.
      await page.route('**/v1/remove-background*', (route) =>
        route.fulfill({
          status,
          contentType: 'application/problem+json',
          headers: retryAfter ? { 'retry-after': retryAfter } : {},
          body: JSON.stringify({ type: `urn:bgremove:problem:${problem.code}`, status, ...problem }),
        }),
      );
      const unique = Buffer.concat([readFileSync(photoPath('tall-star')), randomBytes(16)]);
      await page.setInputFiles('#file-input', { name: 'plants.jpg', mimeType: 'image/jpeg', buffer: unique });
      await page.locator('#error').waitFor({ state: 'visible' });
      expect(await page.locator('#error-text').innerText()).toBe(text);
      const retry = page.getByRole('button', { name: 'Try again' });
      if (retryAfter) {
        expect(await retry.isDisabled()).toBe(true);
        await expect
          .poll(() => page.locator('#error-text').innerText(), { timeout: 5_000 })
          .toBe('We’re warming up — try again in 0 s.');
        await expect.poll(() => retry.isEnabled(), { timeout: 5_000 }).toBe(true);
      } else {
        expect(await retry.isEnabled()).toBe(true);
      }
    } finally {
      await context.close();
    }
  });
});
