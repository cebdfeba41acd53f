/** Talking to the running stack from the tests: the edge, the backend's metrics, the control server. */
import { EMPTY_BODY_SHA256, signRequest } from '@bgremove/shared';
import { createHash } from 'node:crypto';
import { inject } from 'vitest';
import './provided-context';

export const edgeUrl = () => inject('edgeUrl');

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function upload(bytes: Uint8Array, query = '', init: RequestInit = {}): Promise<Response> {
  return fetch(`${edgeUrl()}/v1/remove-background${query}`, {
    method: 'POST',
    body: new Uint8Array(bytes),
    ...init,
    headers: { 'content-type': 'image/jpeg', ...Object.fromEntries(new Headers(init.headers)) },
  });
}

/** The backend's `bgremove_inferences_total`, summed over its labels (a signed GET /metrics). */
export async function inferencesTotal(): Promise<number> {
  const pathAndQuery = '/metrics';
  const signature = await signRequest({
    secret: inject('secret'),
    method: 'GET',
    pathAndQuery,
    bodySha256: EMPTY_BODY_SHA256,
  });
  const response = await fetch(`${inject('backendUrl')}${pathAndQuery}`, {
    headers: { 'x-signature': signature },
  });
  if (!response.ok) throw new Error(`metrics: ${response.status} ${await response.text()}`);
  const text = await response.text();
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const match = /^bgremove_inferences_total(?:\{[^}]*\})?\s+([0-9.e+-]+)$/.exec(line);
    if (match) {
      total += Number(match[1]);
      seen = true;
    }
  }
  if (!seen) throw new Error(`no bgremove_inferences_total in the backend's metrics:\n${text.slice(0, 500)}`);
  return total;
}

async function control(action: 'stop' | 'start'): Promise<unknown> {
  const response = await fetch(`${inject('controlUrl')}/backend/${action}`, { method: 'POST' });
  if (!response.ok) throw new Error(`backend ${action}: ${response.status} ${await response.text()}`);
  return response.json();
}

export const stopBackend = () => control('stop');
export const startBackend = () => control('start');
