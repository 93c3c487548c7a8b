import { describe, expect, it } from 'vitest';
import { isDown, isExit, type DownMessage, type ExitMessage, type Pid } from '../../runtime/index.js';
import { startMember, stopAll, until, waitFor, nextEvent } from './helpers.js';

describe('a cluster over real WebSocket connections (in one process)', () => {
  it('three nodes join through one seed and form a full mesh; messages, calls, monitors and links cross', async () => {
    const a = await startMember('a');
    const b = await startMember('b', { seeds: [a.net.address] });
    const c = await startMember('c', { seeds: [a.net.address] });
    try {
      const mesh = (m: typeof a, n: number): Promise<void> => waitFor(m.net, () => m.net.upNodes().length === n);
      await Promise.all([mesh(a, 2), mesh(b, 2), mesh(c, 2)]);
      expect(b.net.upNodes().sort()).toEqual(['a', 'c']);

      // send by pid, in order
      const got: unknown[] = [];
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const inbox = c.node.spawn(async (ctx) => {
        for (let i = 0; i < 100; i++) got.push(await ctx.receive());
        done();
      });
      const sender = b.node.spawn(async (ctx) => {
        for (let i = 0; i < 100; i++) ctx.send(inbox, i);
      });
      void sender;
      await all;
      expect(got).toEqual([...Array(100).keys()]);

      // call by name across nodes
      c.node.spawn(
        async (ctx) => {
          for (;;) {
            const m = (await ctx.receive()) as { type: string; from: { pid: Pid; ref: string }; request: number };
            if (m.type === '$call') ctx.reply(m.from, m.request + 1);
          }
        },
        { name: 'adder' },
      );
      const adder = c.node.whereis('adder')!;
      expect(await a.node.call(adder, 41)).toBe(42);

      // a remote monitor and a remote link see a crash
      const victim = c.node.spawn(async (ctx) => {
        await ctx.receive((m) => m === 'crash');
        throw new Error('remote boom');
      });
      const seen: string[] = [];
      const watcher = a.node.spawn(
        async (ctx) => {
          ctx.monitor(victim);
          ctx.link(victim);
          ctx.send(victim, 'crash');
          const down = (await ctx.receive(isDown)) as DownMessage;
          const exit = (await ctx.receive(isExit)) as ExitMessage;
          seen.push(`DOWN ${(down.reason as Error).message}`, `EXIT ${(exit.reason as Error).message}`);
        },
        { trapExit: true },
      );
      await a.node.exited(watcher);
      expect(seen).toEqual(['DOWN remote boom', 'EXIT remote boom']);
    } finally {
      await stopAll(c, b, a);
    }
  });

  it('a stopping node is seen down at once (it says so when leaving); its monitors fire noconnection', async () => {
    const a = await startMember('a');
    const b = await startMember('b', { seeds: [a.net.address] });
    try {
      await waitFor(a.net, () => a.net.upNodes().includes('b'));
      const remote = b.node.spawn(async (ctx) => void (await ctx.receive()));
      const reasons: unknown[] = [];
      const watcher = a.node.spawn(async (ctx) => {
        ctx.monitor(remote);
        const down = (await ctx.receive(isDown)) as DownMessage;
        reasons.push(down.reason);
      });
      await until(() => b.node.processInfo(remote)?.monitoredBy === 1);
      const downEvent = nextEvent(a.net, (e) => e.type === 'down' && e.node === 'b');
      await b.net.stop();
      expect(await downEvent).toMatchObject({ type: 'down', node: 'b', reason: 'left' });
      await a.node.exited(watcher);
      expect(reasons).toEqual(['noconnection']);
    } finally {
      await stopAll(b, a);
    }
  });
});
