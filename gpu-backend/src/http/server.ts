import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { problemBody } from '@bgremove/shared';
import type { BackendConfig } from '../config';
import type { Logger } from '../observability/logger';

export interface ListenOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  config: Pick<
    BackendConfig,
    'PORT' | 'HOST' | 'HEADERS_TIMEOUT_MS' | 'UPLOAD_TIMEOUT_MS' | 'REQUEST_TIMEOUT_MS'
  >;
  logger: Logger;
  onListening?: (port: number) => void;
}

/**
 * The HTTP server, with limits on slow clients: request headers within HEADERS_TIMEOUT_MS and the
 * whole request within UPLOAD_TIMEOUT_MS (else 408 `request_timeout` as problem+json and the
 * connection closed: a client trickling bytes holds no socket for long), and a connection on
 * which nothing moves for longer than any request may legitimately take (REQUEST_TIMEOUT_MS +
 * UPLOAD_TIMEOUT_MS; e.g. a client that stopped reading its answer) is destroyed, freeing what
 * was buffered for it. Node checks the first two every second; the idle timer is its socket
 * timeout, which, when it fires while a write is under way that moved since it was armed, waits
 * one more period: a client that stops reading in the middle of an answer is cut off after one
 * to two idle periods (the access log then notes the answer as not delivered: request-log.ts).
 */
export function listen(options: ListenOptions): Server {
  const { config, logger } = options;
  const idleMs = config.REQUEST_TIMEOUT_MS + config.UPLOAD_TIMEOUT_MS;
  const server = serve(
    {
      fetch: options.fetch,
      port: config.PORT,
      hostname: config.HOST,
      serverOptions: {
        headersTimeout: config.HEADERS_TIMEOUT_MS,
        requestTimeout: Math.max(config.UPLOAD_TIMEOUT_MS, config.HEADERS_TIMEOUT_MS),
        connectionsCheckingInterval: 1_000,
      },
    },
    (info) => options.onListening?.(info.port),
  ) as Server;
  // With a listener of ours Node leaves the idle socket to it: note why, then destroy it.
  server.setTimeout(idleMs);
  server.on('timeout', (socket: Socket) => {
    idleTimedOut.set(socket, socket.writableLength);
    socket.destroy();
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    logger.warn({ error: error.message, code: error.code }, 'client error');
    if (socket.writable && !hasResponded(socket)) {
      const code = timedOut ? 'request_timeout' : 'invalid_request';
      const detail = timedOut
        ? 'the request was not received in time; send it at once'
        : 'the request is not valid HTTP';
      const body = JSON.stringify(problemBody(code, detail, ''));
      socket.end(
        `HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\n` +
          'content-type: application/problem+json\r\ncache-control: no-store\r\nconnection: close\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
  });
  return server;
}

const idleTimedOut = new WeakMap<Socket, number>();

/**
 * For a connection the server destroyed because nothing moved on it for too long: how many bytes
 * it still had queued to send then; undefined for any other connection.
 */
export function unsentWhenTimedOut(socket: Socket): number | undefined {
  return idleTimedOut.get(socket);
}

/** Whether a response has started on this socket (then nothing more may be written to it). */
function hasResponded(socket: Socket): boolean {
  const message = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return message?.headersSent === true;
}
