/** A stand-in for Shopify in the browser tests: renders the example snippet, serves a storefront, plays the app proxy. */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPO_ROOT } from './config';

export const EXAMPLE = `${REPO_ROOT}examples/shopify/`;
export const EXAMPLE_ASSETS = `${EXAMPLE}extensions/bgremove-photo/assets/`;

/**
 * The snippet with its Liquid filled in: comments dropped, each `{{ ... }}` replaced from `values`.
 * An output expression that is not in `values` fails, so a changed snippet fails the test loudly.
 */
export function renderSnippet(values: Record<string, string>): string {
  const liquid = readFileSync(`${EXAMPLE}snippets/bgremove-photo.liquid`, 'utf8');
  return liquid
    .replace(/\{%-?\s*comment\s*-?%\}[\s\S]*?\{%-?\s*endcomment\s*-?%\}/g, '')
    .replace(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g, (_match, expression: string) => {
      const value = values[expression];
      if (value === undefined) throw new Error(`no value for the Liquid expression {{ ${expression} }}`);
      return value;
    });
}

/** Shopify's app-proxy signature (its documented algorithm, computed independently of the edge's code). */
export function shopifySignature(params: URLSearchParams, secret: string): string {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of params) grouped.set(key, [...(grouped.get(key) ?? []), value]);
  const message = [...grouped]
    .map(([key, values]) => `${key}=${values.join(',')}`)
    .sort()
    .join('');
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** The URL Shopify forwards a storefront's `/apps/<sub>/...` request to, with its signed parameters. */
export function proxiedUrl(storefrontUrl: URL, edgeUrl: string, shop: string, secret: string): string {
  const params = new URLSearchParams(storefrontUrl.search);
  params.set('shop', shop);
  params.set('logged_in_customer_id', '');
  params.set('path_prefix', '/apps/bgremove');
  params.set('timestamp', String(Math.floor(Date.now() / 1000)));
  params.set('signature', shopifySignature(params, secret));
  return `${edgeUrl}${storefrontUrl.pathname}?${params.toString()}`;
}

export interface Storefront {
  url: string;
  /** "METHOD /path" of every request that went through the app proxy. */
  proxied: string[];
  close: () => Promise<void>;
}

/**
 * A storefront on 127.0.0.1 that serves `pages` and the example's assets under /cdn/, and plays
 * Shopify's app proxy for /apps/bgremove/*: signs the query and forwards method, type and body.
 */
export async function startStorefront(options: {
  pages: Record<string, string>;
  edgeUrl: string;
  shop: string;
  secret: string;
}): Promise<Storefront> {
  const proxied: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://storefront');
      const page = options.pages[url.pathname];
      if (page !== undefined) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
        return;
      }
      const asset = /^\/cdn\/(bgremove-photo\.(js|css))$/.exec(url.pathname);
      if (asset) {
        const type = asset[2] === 'js' ? 'text/javascript' : 'text/css';
        res.writeHead(200, { 'content-type': type }).end(readFileSync(`${EXAMPLE_ASSETS}${asset[1]}`));
        return;
      }
      if (!url.pathname.startsWith('/apps/bgremove/')) {
        res.writeHead(404).end();
        return;
      }
      proxied.push(`${req.method} ${url.pathname}`);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const upstream = await fetch(proxiedUrl(url, options.edgeUrl, options.shop, options.secret), {
        method: req.method,
        headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        body,
      });
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (key !== 'content-encoding' && key !== 'transfer-encoding') headers[key] = value;
      });
      res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
    })().catch((error: unknown) =>
      res.writeHead(502).end(error instanceof Error ? error.message : String(error)),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxied,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
