import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { backend, env } from './helpers';

/** Runs the cron handler as if fired at `iso` (test config: Europe/Berlin, mon-fri, 07-21). */
async function cronAt(iso: string): Promise<number> {
  const ctx = createExecutionContext();
  worker.scheduled(
    createScheduledController({ scheduledTime: Date.parse(iso), cron: '*/5 * * * *' }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return (await backend.calls()).counts['POST /warmup'] ?? 0;
}

describe('warm-up cron', () => {
  beforeEach(async () => {
    await backend.reset();
  });

  it('calls the backend /warmup, signed, inside business hours', async () => {
    expect(await cronAt('2026-03-04T09:00:00Z')).toBe(1); // Wednesday 10:00 in Berlin
    const [warmup] = (await backend.calls()).requests;
    expect(warmup).toMatchObject({ method: 'POST', path: '/warmup', signature: 'ok' });
  });

  it.each([
    ['before opening', '2026-03-04T05:30:00Z'], // Wednesday 06:30 Berlin
    ['after closing', '2026-03-04T20:00:00Z'], // Wednesday 21:00 Berlin
    ['on Sunday', '2026-03-08T10:00:00Z'],
  ])('does nothing %s', async (_, iso) => {
    expect(await cronAt(iso)).toBe(0);
    expect((await backend.calls()).requests).toEqual([]);
  });

  it('follows the time zone across daylight saving time', async () => {
    expect(await cronAt('2026-07-01T05:30:00Z')).toBe(1); // 07:30 CEST
  });

  it('survives a backend that is down', async () => {
    await backend.setMode({ kind: 'down' });
    expect(await cronAt('2026-03-04T09:00:00Z')).toBe(0);
  });
});
