/**
 * A local web server for the image_url tests (test/image-url.test.ts), in Node: real HTTP on
 * 127.0.0.1, started by test/image-server-setup.ts on free ports. The edge's test config allows
 * only `allowed` (IMAGE_URL_DEV_HOSTS); `forbidden` is a second listener that must never be
 * reached, whatever the redirects say.
 * Routes on `allowed`:
 *   /img/<fixture>[?unique=1][&type=<content-type>]   a test fixture (unique: random bytes appended)
 *   /redirect/<n>/<fixture>   n redirects (302, relative and absolute by turns), then the fixture
 *   /to?url=<url>[&status=302]   one redirect to any URL
 *   /big        200, no Content-Length, a JPEG start followed by endless 64 KiB chunks
 *   /big-declared   200 with a Content-Length of 64 MiB
 *   /slow       200 at once, then the body stalls
 *   /slow-headers   never answers
 *   /html       an HTML page labelled image/jpeg
 *   /missing    404
 *   /__hits     JSON { allowed: { path: count }, forbidden: count }
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class ImageServer {
  #allowed: Server | undefined;
  #forbidden: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  hits: Record<string, number> = {};
  forbiddenHits = 0;
  allowedPort = 0;
  forbiddenPort = 0;

  async start(): Promise<{ allowedPort: number; forbiddenPort: number }> {
    this.#allowed = createServer((req, res) => void this.#handle(req, res));
    this.#forbidden = createServer((req, res) => {
      this.forbiddenHits++;
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([0xff, 0xd8, 0xff]));
    });
    for (const server of [this.#allowed, this.#forbidden]) {
      server.on('connection', (socket) => {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    this.allowedPort = (this.#allowed.address() as AddressInfo).port;
    this.forbiddenPort = (this.#forbidden.address() as AddressInfo).port;
    return { allowedPort: this.allowedPort, forbiddenPort: this.forbiddenPort };
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(
      [this.#allowed, this.#forbidden].map(
        (server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
      ),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${this.allowedPort}`);
    const path = url.pathname;
    if (path !== '/__hits') this.hits[path] = (this.hits[path] ?? 0) + 1;
    const fixture = async (name: string) => {
      if (!/^[a-z0-9.-]+$/i.test(name)) return undefined;
      try {
        return await readFile(new URL(`./fixtures/${name}`, import.meta.url));
      } catch {
        return undefined;
      }
    };
    const typeOf = (name: string) =>
      ({ jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif' })[
        name.split('.').pop() ?? ''
      ] ?? 'application/octet-stream';
    let m: RegExpExecArray | null;
    if (path === '/__hits') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ allowed: this.hits, forbidden: this.forbiddenHits }));
    } else if (path === '/__reset') {
      this.hits = {};
      this.forbiddenHits = 0;
      res.writeHead(204).end();
    } else if ((m = /^\/img\/(.+)$/.exec(path))) {
      const bytes = await fixture(m[1]!);
      if (!bytes) return void res.writeHead(404).end();
      const body = url.searchParams.has('unique') ? Buffer.concat([bytes, randomBytes(16)]) : bytes;
      res.writeHead(200, {
        'content-type': url.searchParams.get('type') ?? typeOf(m[1]!),
        'content-length': String(body.length),
      });
      res.end(body);
    } else if ((m = /^\/redirect\/(\d+)\/(.+)$/.exec(path))) {
      const n = Number(m[1]);
      const next = n <= 1 ? `/img/${m[2]}${url.search}` : `/redirect/${n - 1}/${m[2]}${url.search}`;
      // Relative and absolute Locations by turns.
      const location = n % 2 === 0 ? next : `http://127.0.0.1:${this.allowedPort}${next}`;
      res.writeHead(n % 3 === 0 ? 301 : 302, { location }).end();
    } else if (path === '/to') {
      const status = Number(url.searchParams.get('status') ?? 302);
      res.writeHead(status, { location: url.searchParams.get('url') ?? '' }).end();
    } else if (path === '/big') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const timer = setInterval(() => {
        if (res.destroyed || !res.write(chunk)) {
          if (res.destroyed) clearInterval(timer);
        }
      }, 1);
      this.#timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        this.#timers.delete(timer);
      });
    } else if (path === '/big-declared') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(64 * 1024 * 1024) });
      res.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
    } else if (path === '/slow') {
      const bytes = (await fixture('photo-96x64.jpg'))!;
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, 100));
    } else if (path === '/slow-headers') {
      // Never answers; the socket is destroyed at stop().
    } else if (path === '/html') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end('<!doctype html><html><body>not an image</body></html>');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }
}
