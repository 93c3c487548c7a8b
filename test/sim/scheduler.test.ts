import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Scheduler, SchedulerOverflowError } from '../../sim/index.js';

describe('Scheduler (virtual time)', () => {
  test('events come out in time order, ties in insertion order, and the clock follows', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (delays) => {
        const s = new Scheduler<number>();
        delays.forEach((d, i) => s.after(d, i));
        const out: Array<[number, number]> = [];
        for (let e = s.next(); e !== undefined; e = s.next()) out.push([s.now, e]);
        const expected = delays.map((d, i) => [d, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
    );
  });

  test('an event cannot be scheduled in the past', () => {
    const s = new Scheduler<string>();
    s.after(10, 'a');
    s.next();
    s.at(3, 'late');
    expect(s.peekTime()).toBe(10);
  });

  test('the queue is bounded and overflow is a typed error', () => {
    const s = new Scheduler<number>(3);
    s.after(1, 1);
    s.after(1, 2);
    s.after(1, 3);
    expect(() => s.after(1, 4)).toThrow(SchedulerOverflowError);
  });
});
