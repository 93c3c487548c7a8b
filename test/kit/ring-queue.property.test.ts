// RingQueue behaves exactly like an array used as a FIFO, under any sequence of operations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingQueue } from '../../runtime/index.js';

type Op =
  | { kind: 'push'; value: number }
  | { kind: 'shift' }
  | { kind: 'removeAt'; at: number }
  | { kind: 'removeAll'; mod: number }
  | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer().map((value) => ({ kind: 'push' as const, value })) },
  { weight: 3, arbitrary: fc.constant({ kind: 'shift' as const }) },
  { weight: 2, arbitrary: fc.nat(80).map((at) => ({ kind: 'removeAt' as const, at })) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }).map((mod) => ({ kind: 'removeAll' as const, mod })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('RingQueue', () => {
  it('matches an array model for push, shift, removeAt, removeAll, clear, at and iteration', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new RingQueue<number>();
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            q.push(o.value);
            model.push(o.value);
          } else if (o.kind === 'shift') expect(q.shift()).toBe(model.shift());
          else if (o.kind === 'removeAt') {
            const expected = o.at < model.length ? model.splice(o.at, 1)[0] : undefined;
            expect(q.removeAt(o.at)).toBe(expected);
          } else if (o.kind === 'removeAll') {
            const before = model.length;
            const kept = model.filter((v) => v % o.mod !== 0);
            expect(q.removeAll((v) => v % o.mod === 0)).toBe(before - kept.length);
            model.splice(0, model.length, ...kept);
          } else expect(q.clear()).toBe(model.splice(0).length);
          expect(q.length).toBe(model.length);
          expect(q.peek()).toBe(model[0]);
        }
        expect([...q]).toEqual(model);
        for (let i = 0; i < model.length; i++) expect(q.at(i)).toBe(model[i]);
        expect(q.at(model.length)).toBeUndefined();
        expect(q.findIndex((v) => v === model[model.length - 1])).toBe(
          model.length === 0 ? -1 : model.indexOf(model[model.length - 1]!),
        );
      }),
    );
  });
});
