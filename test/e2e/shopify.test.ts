/**
 * The Shopify example on a stand-in storefront in chromium: the snippet (its Liquid filled in) on a
 * product page, its script calling /apps/bgremove, and a stand-in storefront server playing Shopify's
 * app proxy: it adds shop/timestamp/path_prefix, signs them with the app secret and forwards to the edge. The
 * cutout's URL ends up in the product form as properties[_cutout_url]; the same photo again is
 * (a returning customer) is found by lookup, without an upload.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/browser';
import { ARTIFACTS, SHOPIFY_TEST_SECRET } from './support/config';
import { channel, photoPath } from './support/images';
import './support/provided-context';
import { renderSnippet, startStorefront } from './support/shopify';

const SHOP = 'pet-portraits.myshopify.com';
const FORM_ID = 'product-form-main';

function productPage(): string {
  const snippet = renderSnippet({
    "'bgremove-photo.css' | asset_url": '/cdn/bgremove-photo.css',
    "'bgremove-photo.js' | asset_url": '/cdn/bgremove-photo.js',
    "endpoint | default: '/apps/bgremove' | escape": '/apps/bgremove',
    "output | default: 'cutout'": 'cutout',
    form_id: FORM_ID,
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pet mug</title></head><body>
<section class="shopify-section"><h1>Pet mug</h1>
<form id="${FORM_ID}" action="/cart/add" method="post">
  <input type="hidden" name="id" value="42424242">
  ${snippet}
  <button type="submit" name="add">Add to cart</button>
</form></section></body></html>`;
}

let browser: Browser | undefined;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

/** A product page on a stand-in storefront whose /apps/bgremove is the (simulated) Shopify app proxy. */
async function openStorefront(): Promise<{ page: Page; proxied: string[]; close: () => Promise<void> }> {
  const storefront = await startStorefront({
    pages: { '/products/pet-mug': productPage() },
    edgeUrl: inject('edgeUrl'),
    shop: SHOP,
    secret: SHOPIFY_TEST_SECRET,
  });
  const context = await browser!.newContext();
  const page = await context.newPage();
  await page.goto(`${storefront.url}/products/pet-mug`);
  return {
    page,
    proxied: storefront.proxied,
    close: async () => {
      await context.close();
      await storefront.close();
    },
  };
}

const cutoutProperty = (page: Page) =>
  page.evaluate((formId) => {
    const value = new FormData(document.getElementById(formId) as HTMLFormElement).get(
      'properties[_cutout_url]',
    );
    return typeof value === 'string' ? value : null;
  }, FORM_ID);

describe('the Shopify example on a product page', () => {
  it('cuts out the customer photo via the app proxy and puts its URL into the line item', async () => {
    const { page, proxied, close } = await openStorefront();
    try {
      await page.getByLabel('Your photo (we remove the background)').setInputFiles(photoPath('star'));
      await page.waitForFunction(
        (formId) => {
          const form = document.getElementById(formId) as HTMLFormElement;
          return Boolean(new FormData(form).get('properties[_cutout_url]'));
        },
        FORM_ID,
        { timeout: 60_000 },
      );
      expect(proxied).toEqual(['GET /apps/bgremove/v1/lookup', 'POST /apps/bgremove/v1/remove-background']);
      const url = (await cutoutProperty(page)) ?? '';
      expect(url).toMatch(new RegExp(`^${inject('edgeUrl')}/v1/results/[0-9a-f]{64}$`));
      const preview = page.locator('.bgremove-photo__preview img');
      await expect
        .poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBeGreaterThan(0);
      expect(await page.locator('[role="status"]').innerText()).toContain('Done');
      expect(await page.locator('button[name="add"]').isEnabled()).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'e2e', 'shopify-product-page.png'), fullPage: true });

      // What the order will carry: a public, durable cutout (RGBA with transparent background).
      const result = await fetch(url);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toBe('image/png');
      const alpha = await channel(Buffer.from(await result.arrayBuffer()), 'alpha');
      expect(alpha.channels).toBe(4);
      expect(alpha.data.some((a) => a < 10)).toBe(true);
      expect(alpha.data.some((a) => a > 245)).toBe(true);

      // A returning customer with the same photo: found by lookup, no upload.
      await page.reload();
      proxied.length = 0;
      await page.getByLabel('Your photo (we remove the background)').setInputFiles(photoPath('star'));
      await page.locator('[role="status"]').filter({ hasText: 'Done' }).waitFor();
      expect(proxied).toEqual(['GET /apps/bgremove/v1/lookup']);
      expect(await cutoutProperty(page)).toBe(url);
    } finally {
      await close();
    }
  });
});
