// Awaitable sends keep their order: a later send never overtakes one that waits for room.
import { describe, expect, it } from 'vitest';
import { OutboundQueues, newQueueCounters, limits } from '../../internode/index.js';

const small = { ...limits.CLASS_LIMITS, user: { frames: 100, bytes: 400, quantum: 1000 } };
const frame = (n: number, bytes: number): Buffer => Buffer.alloc(bytes, n);

describe('send order under back-pressure', () => {
  it('queues waiting senders in arrival order, and a newcomer waits behind them', async () => {
    const q = new OutboundQueues(newQueueCounters(), small);
    const order: number[] = [];
    const a = q.enqueueWhenRoom('user', frame(1, 250)).then(() => order.push(1));
    const b = q.enqueueWhenRoom('user', frame(2, 250)).then(() => order.push(2));
    const c = q.enqueueWhenRoom('user', frame(3, 10)).then(() => order.push(3));
    // A plain enqueue may not jump the line either.
    expect(q.enqueue('user', frame(4, 10))).toBe('rejected');
    await a;
    expect(q.length('user')).toBe(1);
    const drained: number[] = [];
    while (drained.length < 3) {
      for (const f of q.drain(1000)) drained.push(f[0]!);
      await Promise.resolve();
    }
    await Promise.all([b, c]);
    expect(drained).toEqual([1, 2, 3]);
    expect(order).toEqual([1, 2, 3]);
  });
});
