// Node.sendAwait and ctx.sendAwait to another node: they wait for room in the link's `user` queue
// (where a plain send raises ERR_BACKPRESSURE), by pid and by { node, name }, in order.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, limits, type FrameClassName } from '../../internode/index.js';
import { TroupeError } from '../../runtime/index.js';
import { startMember, stopAll, until, waitFor } from './helpers.js';

type Limits = Record<FrameClassName, { frames: number; bytes: number; quantum: number }>;

describe('sendAwait across nodes', () => {
  it('waits for room in a full link queue instead of ERR_BACKPRESSURE; by pid and by name, in order', async () => {
    const net = new MemoryNetwork();
    const held: (() => void)[] = [];
    let holding = true;
    const defer = (fn: () => void): void => {
      if (holding) held.push(fn);
      else setImmediate(fn);
    };
    const quiet = { heartbeatIntervalMs: 1_000, downAfterMs: 60_000 };
    const a = await startMember('a', { transport: net.transport('a'), listen: 'a', ...quiet });
    const b = await startMember('b', {
      transport: net.transport('b'),
      listen: 'b',
      seeds: ['a'],
      defer,
      classLimits: { ...limits.CLASS_LIMITS, user: { frames: 2, bytes: 1 << 20, quantum: 64 * 1024 } } as Limits,
      ...quiet,
    });
    try {
      await waitFor(b.net, () => b.net.upNodes().includes('a'));
      await until(() => a.net.upNodes().includes('b'));
      const got: unknown[] = [];
      const inbox = a.node.spawn(
        async (ctx) => {
          for (;;) got.push(await ctx.receive());
        },
        { name: 'inbox' },
      );
      b.node.send(inbox, 0);
      b.node.send(inbox, 1);
      expect(() => b.node.send(inbox, 'refused')).toThrow(TroupeError);
      const done: string[] = [];
      const byPid = b.node.sendAwait(inbox, 2).then(() => done.push('pid'));
      const sender = b.node.spawn(async (ctx) => {
        await ctx.sendAwait({ node: 'a', name: 'inbox' }, 3);
        done.push('name');
      });
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(done).toEqual([]);
      holding = false;
      for (const fn of held.splice(0)) fn();
      await byPid;
      await b.node.exited(sender);
      await until(() => got.length === 4);
      expect(got).toEqual([0, 1, 2, 3]);
      expect(done).toEqual(['pid', 'name']);
      await expect(b.node.sendAwait({ node: 'nowhere', name: 'x' }, 1)).rejects.toMatchObject({
        code: 'ERR_NO_ROUTE',
      });
    } finally {
      holding = false;
      for (const fn of held.splice(0)) fn();
      await stopAll(b, a);
    }
  });
});
