/**
 * Slow clients against the real HTTP server (src/http/server.ts, as the process runs it): request
 * headers that never finish and an upload trickled a byte at a time get 408 `request_timeout` as
 * problem+json and their connection closed, within the configured timeouts; a client that stops
 * reading an answer larger than the socket buffers has its connection destroyed once nothing has
 * moved on it for REQUEST_TIMEOUT_MS + UPLOAD_TIMEOUT_MS; the server goes on answering everyone
 * else meanwhile.
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/http/server';
import { counterValue, createFakeBackend, type AppUnderTest } from './support/backend';

const HEADERS_TIMEOUT_MS = 500;
const UPLOAD_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 6_000;

let backend: AppUnderTest;
let server: ReturnType<typeof listen>;
let port: number;
/** The server's side of every connection it accepted. */
const serverSockets = new Set<Socket>();

beforeAll(async () => {
  backend = await createFakeBackend({
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    UPLOAD_TIMEOUT_MS: String(UPLOAD_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    // Stored, not deflated: the answer's size is its pixels', whatever they are.
    PNG_COMPRESSION_LEVEL: '0',
  });
  server = listen({
    fetch: backend.app.fetch,
    config: { ...backend.config, PORT: 0, HOST: '127.0.0.1' },
    logger: backend.logger,
  });
  server.on('connection', (socket: Socket) => {
    serverSockets.add(socket);
    socket.once('close', () => serverSockets.delete(socket));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await backend.close();
});

/** Sends `head`, then one byte of body every `trickleMs`; resolves with all it got and when. */
function rawClient(head: string, trickleMs?: number): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const timer = trickleMs === undefined ? undefined : setInterval(() => socket.write('x'), trickleMs);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

function expectTimeoutProblem(answer: string) {
  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 408 /);
  expect(head).toMatch(/content-type: application\/problem\+json/i);
  expect(JSON.parse(body!)).toMatchObject({ status: 408, code: 'request_timeout' });
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A 4000×4000 one-colour PNG (a few KB) → an 8-bit matte stored uncompressed: 16 MB, far more
// than the loopback socket buffers hold, so most of it waits in the server's process.
const SIDE = 4000;
const QUERY = 'output=matte&format=png&refine=none&subject=all';

/**
 * Sends a request whose answer is 16 MB and reads none of it; resolves once the answer has backed
 * up into the server (more than 4 MB queued on the server's side of the connection).
 */
async function stopReadingALargeAnswer(): Promise<{ client: Socket; stuck: Socket }> {
  const photo = await sharp({
    create: { width: SIDE, height: SIDE, channels: 3, background: { r: 200, g: 120, b: 40 } },
  })
    .png()
    .toBuffer();
  const before = new Set(serverSockets);
  const client = connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  await until(() => serverSockets.size > before.size, 5_000, 'the server to accept');
  const stuck = [...serverSockets].find((socket) => !before.has(socket))!;
  client.pause();
  client.write(
    `POST /v1/remove-background?${QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n` +
      `Content-Length: ${photo.length}\r\n\r\n`,
  );
  client.write(photo);
  await until(() => stuck.writableLength > 4 * 1024 * 1024, 60_000, 'the answer to back up');
  return { client, stuck };
}

describe('slow clients', () => {
  it('headers that never finish: 408 request_timeout and the connection closed', async () => {
    const { answer, closedAfterMs } = await rawClient('POST /v1/remove-background HTTP/1.1\r\nHost: x\r\n');
    expectTimeoutProblem(answer);
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(closedAfterMs).toBeLessThan(10_000); // the timeout, plus Node's 1 s check, on a busy machine
  });

  it('an upload trickled a byte at a time: 408 request_timeout after UPLOAD_TIMEOUT_MS, connection closed', async () => {
    const { answer, closedAfterMs } = await rawClient(
      'POST /v1/remove-background HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n',
      100,
    );
    expectTimeoutProblem(answer);
    expect(closedAfterMs).toBeGreaterThanOrEqual(UPLOAD_TIMEOUT_MS - 100);
    expect(closedAfterMs).toBeLessThan(15_000);
    // Everyone else is still served.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });

  it('a client that stops reading a large answer: its connection destroyed when idle too long, others served meanwhile', async () => {
    const { client, stuck } = await stopReadingALargeAnswer();
    const stuckAt = Date.now();

    // While it is stuck, everyone else is served: health, readiness and a whole request.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const small = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 200, b: 90 } },
    })
      .png()
      .toBuffer();
    const normal = await fetch(`http://127.0.0.1:${port}/v1/remove-background?${QUERY}`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: small,
    });
    expect(normal.status).toBe(200);
    expect((await sharp(Buffer.from(await normal.arrayBuffer())).metadata()).width).toBe(64);
    expect(stuck.destroyed).toBe(false);

    // Destroyed once idle for REQUEST_TIMEOUT_MS + UPLOAD_TIMEOUT_MS: Node's socket timer, which
    // waits one more period when a write moved since it was armed, so one to two periods.
    const idleBoundMs = REQUEST_TIMEOUT_MS + UPLOAD_TIMEOUT_MS;
    await until(() => stuck.destroyed, 2 * idleBoundMs + 10_000, 'the stuck connection to be destroyed');
    const destroyedAfterMs = Date.now() - stuckAt;
    expect(destroyedAfterMs).toBeGreaterThanOrEqual(idleBoundMs - 1_000);
    // Closed too: 'close' follows the destroy once the handle is released (later on a busy machine).
    await until(() => !serverSockets.has(stuck), 5_000, 'the stuck connection to close');
    // Logged and counted as not delivered, with its request id.
    await until(() => backend.logs.some((l) => l.reason === 'idle_timeout'), 5_000, 'the log line');
    const line = backend.logs.find((l) => l.reason === 'idle_timeout')!;
    expect(line).toMatchObject({ severity: 'WARNING', status: 200 });
    expect(line.request_id).toEqual(expect.any(String));
    expect(line.unsentBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(line.unsentBytes).toBeLessThan(SIDE * SIDE + 64 * 1024);
    expect(await counterValue(backend, 'bgremove_responses_undelivered_total', 'reason="idle_timeout"')).toBe(
      1,
    );

    // The client, reading at last, gets what the kernel had buffered and then the end: short.
    const received = await new Promise<number>((resolve, reject) => {
      let bytes = 0;
      client.on('data', (chunk: Buffer) => (bytes += chunk.length));
      client.on('error', reject);
      client.on('close', () => resolve(bytes));
      client.resume();
    });
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(SIDE * SIDE);
  });

  it('a client that goes away in the middle of a large answer: logged and counted as not delivered', async () => {
    const { client, stuck } = await stopReadingALargeAnswer();
    client.resetAndDestroy();
    await until(() => stuck.destroyed, 10_000, 'the server side to close');
    await until(() => backend.logs.some((l) => l.reason === 'closed'), 5_000, 'the log line');
    expect(backend.logs.find((l) => l.reason === 'closed')).toMatchObject({
      severity: 'WARNING',
      status: 200,
    });
    expect(await counterValue(backend, 'bgremove_responses_undelivered_total', 'reason="closed"')).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
