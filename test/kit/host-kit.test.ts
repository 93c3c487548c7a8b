// The host kit's parts: bounded streams with each overflow rule, periodic tasks on a virtual
// clock, the one backoff rule, counters through OpenTelemetry, and reverse-order bounded stop.
import { describe, expect, it } from 'vitest';
import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';
import {
  BoundedStream,
  type CounterReading,
  VirtualClock,
  backoffDelay,
  isTroupeError,
  observeCounters,
  periodic,
  stopInReverse,
  assertLimitBelow,
  LimitConflictError,
} from '../../runtime/index.js';

describe('BoundedStream', () => {
  it('delivers in order to a waiting consumer and from its buffer, then ends', async () => {
    const s = new BoundedStream<number>({ limit: 4, overflow: 'error' });
    const first = s.next();
    s.push(1);
    s.push(2);
    s.push(3);
    s.end();
    expect(await first).toEqual({ value: 1, done: false });
    const rest: number[] = [];
    for await (const v of s) rest.push(v);
    expect(rest).toEqual([2, 3]);
    expect(s.push(4)).toBe(false);
  });

  it("'error' ends with ERR_STREAM_OVERFLOW after the buffered items, and refuses more", async () => {
    const s = new BoundedStream<number>({ limit: 2, overflow: 'error' });
    expect([s.push(1), s.push(2), s.push(3)]).toEqual([true, true, false]);
    expect(s.closed).toBe(true);
    const seen: number[] = [];
    const failure = await (async () => {
      try {
        for await (const v of s) seen.push(v);
      } catch (e) {
        return e;
      }
    })();
    expect(seen).toEqual([1, 2]);
    expect(isTroupeError(failure, 'ERR_STREAM_OVERFLOW')).toBe(true);
  });

  it("'error' can end with the host's own error (e.g. one carrying where to resume)", async () => {
    const mine = new Error('resume from 7');
    const s = new BoundedStream<number>({ limit: 1, overflow: 'error', overflowError: () => mine });
    s.push(1);
    s.push(2);
    await s.next();
    await expect(s.next()).rejects.toBe(mine);
  });

  it("'drop-oldest' keeps the newest `limit` items and counts each drop", async () => {
    let told = 0;
    const s = new BoundedStream<number>({ limit: 3, overflow: 'drop-oldest', onDrop: () => told++ });
    for (let i = 1; i <= 10; i++) s.push(i);
    s.end();
    const seen: number[] = [];
    for await (const v of s) seen.push(v);
    expect(seen).toEqual([8, 9, 10]);
    expect([s.dropped, told]).toEqual([7, 7]);
  });

  it('ends on abort, on break and on dispose, calling onClose once each time', async () => {
    const controller = new AbortController();
    let closes = 0;
    const a = new BoundedStream<number>({
      limit: 2,
      overflow: 'error',
      signal: controller.signal,
      onClose: () => closes++,
    });
    const pending = a.next();
    controller.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    const b = new BoundedStream<number>({ limit: 2, overflow: 'error', onClose: () => closes++ });
    b.push(1);
    for await (const _ of b) break;
    expect(b.closed).toBe(true);
    const c = new BoundedStream<number>({ limit: 2, overflow: 'error', onClose: () => closes++ });
    await c[Symbol.asyncDispose]();
    await c[Symbol.asyncDispose]();
    expect(closes).toBe(3);
    const already = new BoundedStream<number>({ limit: 1, overflow: 'error', signal: AbortSignal.abort() });
    expect(already.push(1)).toBe(false);
  });

  it('refuses a second concurrent consumer and a bad limit', async () => {
    const s = new BoundedStream<number>({ limit: 1, overflow: 'error' });
    void s.next();
    await expect(s.next()).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
    expect(() => new BoundedStream({ limit: 0, overflow: 'error' })).toThrow(/limit/);
  });
});

describe('periodic', () => {
  it('runs every interval on the given clock, and not after cancel (even from inside)', async () => {
    const clock = new VirtualClock();
    const runs: number[] = [];
    const p = periodic(clock, 100, () => {
      runs.push(clock.now());
      if (runs.length === 3) p.cancel();
    });
    await clock.advance(1_000);
    expect(runs).toEqual([100, 200, 300]);
    expect(clock.pending).toBe(0);
  });

  it('keeps running after a task throws', async () => {
    const clock = new VirtualClock();
    let runs = 0;
    const p = periodic(clock, 10, () => {
      runs++;
      throw new Error('task failed');
    });
    await clock.advance(10).catch(() => {});
    await clock.advance(10).catch(() => {});
    p.cancel();
    expect(runs).toBe(2);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with equal jitter, is never zero and never above the cap, even at huge attempts', () => {
    const policy = { baseMs: 100, maxMs: 5_000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 0.999)).toBe(100);
    expect(backoffDelay(3, policy, () => 0)).toBe(400);
    for (const attempt of [10, 31, 1_000, 2 ** 40])
      for (const r of [0, 0.5, 0.999]) {
        const d = backoffDelay(attempt, policy, () => r);
        expect(d).toBeGreaterThanOrEqual(2_500);
        expect(d).toBeLessThanOrEqual(5_000);
      }
    expect(() => backoffDelay(0, { baseMs: 0, maxMs: 1 }, () => 0)).toThrow(RangeError);
  });
});

describe('observeCounters', () => {
  it('creates every counter at once, observes values with merged attributes, and unregisters', () => {
    const created: string[] = [];
    let callback: BatchObservableCallback | null = null;
    const meter = {
      createObservableCounter: (name: string) => (created.push(name), { name }) as unknown as Observable,
      addBatchObservableCallback: (cb: BatchObservableCallback) => (callback = cb),
      removeBatchObservableCallback: () => (callback = null),
    } as unknown as Meter;
    let drops = 0;
    const stop = observeCounters(meter, 'troupe.test', { node: 'a' }, ['drops', 'sent'], (): CounterReading => [
      { attributes: { reason: 'overflow' }, values: { drops } },
      { attributes: {}, values: { sent: 5 } },
    ]);
    expect(created).toEqual(['troupe.test.drops', 'troupe.test.sent']);
    drops = 2;
    const seen: [string, number, object][] = [];
    void (callback as unknown as BatchObservableCallback)({
      observe: (o: Observable, v: number, attrs: object) =>
        seen.push([(o as unknown as { name: string }).name, v, attrs]),
    } as never);
    expect(seen).toEqual([
      ['troupe.test.drops', 2, { node: 'a', reason: 'overflow' }],
      ['troupe.test.sent', 5, { node: 'a' }],
    ]);
    stop();
    expect(callback).toBeNull();
  });
});

describe('stopInReverse', () => {
  it('stops in reverse order; a part that throws or overruns does not keep the others running', async () => {
    const order: string[] = [];
    const timers: (() => void)[] = [];
    const part = (name: string, how: 'ok' | 'throw' | 'hang') => ({
      name,
      stop: async () => {
        order.push(name);
        if (how === 'throw') throw new Error('boom');
        if (how === 'hang') {
          timers.at(-1)?.();
          await new Promise(() => {});
        }
      },
    });
    const outcomes = await stopInReverse([part('a', 'ok'), part('b', 'hang'), part('c', 'throw')], 50, (_ms, fire) => {
      timers.push(fire);
      return { cancel: () => {} };
    });
    expect(order).toEqual(['c', 'b', 'a']);
    expect(outcomes.map((o) => [o.name, o.outcome])).toEqual([
      ['c', 'failed'],
      ['b', 'timeout'],
      ['a', 'stopped'],
    ]);
  });
});

describe('assertLimitBelow', () => {
  it('passes a relation that holds and names both limits when one does not', () => {
    const small = { name: 'a maxBytes', value: 10 };
    expect(() => assertLimitBelow(small, { name: 'b bytes', value: 11 })).not.toThrow();
    expect(() => assertLimitBelow(small, { name: 'b bytes', value: 10 }, { orEqual: true })).not.toThrow();
    let caught: unknown;
    try {
      assertLimitBelow(small, { name: 'b bytes', value: 10 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LimitConflictError);
    expect(isTroupeError(caught, 'ERR_BAD_CONFIG')).toBe(true);
    expect((caught as LimitConflictError).limits).toEqual(['a maxBytes', 'b bytes']);
    expect((caught as LimitConflictError).values).toEqual([10, 10]);
    expect((caught as Error).message).toBe('a maxBytes (10) must be below b bytes (10)');
  });
});
