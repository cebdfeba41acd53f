/**
 * Slow clients against the real HTTP server (src/http/server.ts, as the process runs it): request
 * headers that never finish and an upload trickled a byte at a time get 408 `request_timeout` as
 * problem+json and their connection closed, within the configured timeouts; the server goes on
 * answering everyone else.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/http/server';
import { createFakeBackend, type AppUnderTest } from './support/backend';

let backend: AppUnderTest;
let server: ReturnType<typeof listen>;
let port: number;

beforeAll(async () => {
  backend = await createFakeBackend();
  server = listen({
    fetch: backend.app.fetch,
    config: {
      ...backend.config,
      PORT: 0,
      HOST: '127.0.0.1',
      HEADERS_TIMEOUT_MS: 500,
      UPLOAD_TIMEOUT_MS: 1_500,
    },
    logger: backend.logger,
  });
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
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

describe('slow clients', () => {
  it('headers that never finish: 408 request_timeout and the connection closed', async () => {
    const { answer, closedAfterMs } = await rawClient('POST /v1/remove-background HTTP/1.1\r\nHost: x\r\n');
    expectTimeoutProblem(answer);
    expect(closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(closedAfterMs).toBeLessThan(10_000); // the timeout, plus Node's 1 s check, on a busy machine
  });

  it('an upload trickled a byte at a time: 408 request_timeout after UPLOAD_TIMEOUT_MS, connection closed', async () => {
    const { answer, closedAfterMs } = await rawClient(
      'POST /v1/remove-background HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n',
      100,
    );
    expectTimeoutProblem(answer);
    expect(closedAfterMs).toBeGreaterThanOrEqual(1_400);
    expect(closedAfterMs).toBeLessThan(15_000);
    // Everyone else is still served.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });
});
