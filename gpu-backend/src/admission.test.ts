/**
 * The queue's deadlines with tasks of known duration (no model): work that cannot finish before
 * its caller's deadline is refused at admission or dropped while it waits, with 503 overloaded and
 * Retry-After, and what starts finishes.
 */
import { AppError } from '@bgremove/shared';
import { describe, expect, it } from 'vitest';
import { Admission } from './admission';
import { createMetrics } from './observability/metrics';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function admission(concurrency = 1, maxQueue = 100) {
  const metrics = createMetrics();
  const queue = new Admission({ concurrency, maxQueue, metrics });
  const refusals = async (at: string) =>
    (await metrics.deadlineRefusals.get()).values.find((v) => v.labels.at === at)?.value ?? 0;
  return { queue, refusals };
}

/** Teaches the queue that a request takes about `ms`. */
async function train(queue: Admission, ms: number, times = 12) {
  for (let i = 0; i < times; i++) await queue.run(() => sleep(ms), { signal: new AbortController().signal });
}

const never = new AbortController().signal;

describe('Admission deadlines', () => {
  it('learns how long a request takes', async () => {
    const { queue } = admission();
    await train(queue, 40);
    expect(queue.serviceEstimateMs()).toBeGreaterThan(40);
    expect(queue.serviceEstimateMs()).toBeLessThan(400);
  });

  it('refuses at admission what cannot finish in time, with Retry-After', async () => {
    const { queue, refusals } = admission(1);
    await train(queue, 40);
    const running = queue.run(() => sleep(200), { signal: never });
    // Ahead of it: one running, so it would start after ~40 ms and take ~40+; 10 ms is not enough.
    const error = await queue
      .run(() => Promise.resolve('ran'), { signal: never, deadline: performance.now() + 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'overloaded', status: 503 });
    expect((error as AppError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((error as AppError).message).toMatch(/deadline/);
    expect(await refusals('admission')).toBe(1);
    await running;
  });

  it('drops queued work whose deadline passes while it waits; the task never runs', async () => {
    const { queue, refusals } = admission(1);
    await train(queue, 30);
    // A long task the estimate does not know about holds the only slot.
    const blocker = queue.run(() => sleep(3_000), { signal: never });
    let ran = false;
    const started = performance.now();
    const waiting = queue.run(
      () => {
        ran = true;
        return Promise.resolve();
      },
      { signal: never, deadline: performance.now() + 1_500 },
    );
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'overloaded' });
    expect((error as AppError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Dropped before its deadline, not when the slot freed up.
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(queue.waiting).toBe(0);
    await blocker;
    await queue.onIdle();
    expect(ran).toBe(false);
    expect(await refusals('queue')).toBe(1);
  });

  it('admits and finishes work that fits, deadline or not', async () => {
    const { queue } = admission(2);
    await train(queue, 20);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        queue.run(() => sleep(20).then(() => i), { signal: never, deadline: performance.now() + 5_000 }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a client that leaves while waiting leaves the queue; once running, it keeps its slot', async () => {
    const { queue } = admission(1);
    const client = new AbortController();
    const first = queue.run(() => sleep(150).then(() => 'first'), { signal: client.signal });
    const second = new AbortController();
    let secondRan = false;
    const queued = queue.run(
      () => {
        secondRan = true;
        return Promise.resolve();
      },
      { signal: second.signal },
    );
    second.abort(new Error('gone'));
    await expect(queued).rejects.toThrow('gone');
    // The running task's client leaves: the task still finishes and holds the only slot until then.
    client.abort(new Error('gone too'));
    await sleep(10);
    expect(queue.running).toBe(1);
    await expect(first).resolves.toBe('first');
    expect(secondRan).toBe(false);
  });

  it('a seed from the warm-up run replaces the prior, so the first requests are admitted on measured speed', async () => {
    // The machine does a request in ~4 s (the warm-up said so); the caller waits 7 s; 2 slots.
    const holdBoth = (queue: Admission) => [0, 1].map(() => queue.run(() => sleep(100), { signal: never }));
    const third = (queue: Admission) =>
      queue.run(() => Promise.resolve('ran'), { signal: never, deadline: performance.now() + 7_000 });

    // On the prior (3 s) the third is admitted, though it would start after ~4 s and need ~4 more:
    // it would have been dropped later, or finished after its caller left.
    const unseeded = admission(2);
    const held = holdBoth(unseeded.queue);
    await expect(third(unseeded.queue)).resolves.toBe('ran');
    await Promise.all(held);

    const seeded = admission(2);
    seeded.queue.seed(4_000);
    expect(seeded.queue.estimate()).toMatchObject({ meanMs: 4_000, seededFromWarmupMs: 4_000 });
    expect(seeded.queue.serviceEstimateMs()).toBe(6_000);
    const busy = holdBoth(seeded.queue);
    await expect(third(seeded.queue)).rejects.toMatchObject({ code: 'overloaded' });
    expect(await seeded.refusals('admission')).toBe(1);
    await Promise.all(busy);

    // Later requests smooth it; a seed after measurements changes nothing.
    await train(seeded.queue, 20, 20);
    expect(seeded.queue.serviceEstimateMs()).toBeLessThan(400);
    seeded.queue.seed(60_000);
    expect(seeded.queue.serviceEstimateMs()).toBeLessThan(400);
  });

  it('an idle queue runs a request whatever a (too high) estimate says, so the estimate can recover', async () => {
    const { queue, refusals } = admission(1);
    // One very slow run (a loaded machine) taught it that requests take a minute.
    queue.seed(60_000);
    const busy = queue.run(() => sleep(100), { signal: never });
    // Busy: work that cannot finish by its deadline is refused ...
    await expect(
      queue.run(() => Promise.resolve(), { signal: never, deadline: performance.now() + 5_000 }),
    ).rejects.toMatchObject({ code: 'overloaded' });
    expect(await refusals('admission')).toBe(1);
    await busy;
    const before = queue.estimate().meanMs;
    // ... idle: it runs (and is measured), or no request would ever be measured again.
    await expect(
      queue.run(() => sleep(20).then(() => 'probe'), { signal: never, deadline: performance.now() + 5_000 }),
    ).resolves.toBe('probe');
    expect(queue.estimate().meanMs).toBeLessThan(before);
  });
});
