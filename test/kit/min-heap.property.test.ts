// The one priority queue of virtual time: whatever is pushed comes out least first, and items due
// at the same time come out in the order they were pushed (so simulations replay exactly).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MinHeap, dueFirst, type Timed } from '../../runtime/index.js';

describe('MinHeap', () => {
  it('pops in (time, insertion) order under any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }), { maxLength: 300 }),
        (ops) => {
          const heap = new MinHeap<Timed>(dueFirst);
          const model: Timed[] = [];
          let seq = 0;
          for (const op of ops) {
            if (op === undefined) {
              model.sort((a, b) => a.at - b.at || a.seq - b.seq);
              expect(heap.pop()).toEqual(model.shift());
            } else {
              const item = { at: op, seq: seq++ };
              heap.push(item);
              model.push(item);
            }
            expect(heap.size).toBe(model.length);
          }
        },
      ),
    );
  });

  it('peeks without removing, counts by a predicate, and is empty-safe', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    for (const n of [5, 1, 4, 1]) heap.push(n);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(4);
    expect(heap.count((n) => n === 1)).toBe(2);
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual([1, 1, 4, 5, undefined]);
  });
});
