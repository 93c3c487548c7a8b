import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Node, type Pid } from '../../runtime/index.js';

// Per-pair FIFO: whatever the interleaving of many senders, and whatever selective receives
// the receiver does, the messages of one sender arrive in the order that sender sent them.
describe('per-pair FIFO order', () => {
  it('holds under random interleavings of many senders and selective receives (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 120 }),
        fc.array(fc.boolean(), { maxLength: 120 }),
        async (senders, schedule, selective) => {
          const node = await Node.start({ name: 'fifo', incarnation: 1 });
          const received: { from: number; seq: number }[] = [];
          const total = schedule.length;
          const receiver = node.spawn(async (ctx) => {
            for (let i = 0; i < total; i++) {
              // Sometimes pick the next message of one particular sender, out of arrival order.
              const pickFrom = selective[i] === true ? i % senders : undefined;
              let m: { from: number; seq: number };
              if (pickFrom !== undefined) {
                try {
                  m = (await ctx.receive((x) => (x as { from: number }).from === pickFrom, { timeout: 0 })) as typeof m;
                } catch {
                  m = (await ctx.receive()) as typeof m;
                }
              } else {
                m = (await ctx.receive()) as typeof m;
              }
              received.push(m);
            }
          });
          const done = node.exited(receiver);
          const senderPids: Pid[] = [];
          for (let s = 0; s < senders; s++) {
            senderPids.push(
              node.spawn(async (ctx) => {
                let seq = 0;
                for (;;) {
                  await ctx.receive((m) => m === 'step');
                  ctx.send(receiver, { from: s, seq: seq++ });
                }
              }),
            );
          }
          // The driver decides which sender sends next; yielding between steps lets senders and
          // receiver interleave with each other.
          for (const pick of schedule) {
            node.send(senderPids[pick % senders]!, 'step');
            if (pick % 3 === 0) await Promise.resolve();
          }
          await done;
          await node.stop();
          expect(received).toHaveLength(total);
          const last = new Map<number, number>();
          for (const m of received) {
            expect(m.seq).toBe((last.get(m.from) ?? -1) + 1);
            last.set(m.from, m.seq);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
