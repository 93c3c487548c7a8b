// call({ node, name }) across two nodes over the in-memory transport: the name is resolved where it
// lives, the reply comes back, and the monitor of the name guards the call (noproc when nobody
// holds it there, the callee's exit reason when it dies mid-call).
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../internode/index.js';
import { isCall, isDown, type CallEnvelope, type DownMessage, type TroupeError } from '../../runtime/index.js';
import { startMember, stopAll, until, waitFor, type Member } from './helpers.js';

async function pair(): Promise<{ a: Member; b: Member }> {
  const net = new MemoryNetwork();
  const quiet = { heartbeatIntervalMs: 1_000, downAfterMs: 60_000 };
  const a = await startMember('a', { transport: net.transport('a'), listen: 'a', ...quiet });
  const b = await startMember('b', { transport: net.transport('b'), listen: 'b', seeds: ['a'], ...quiet });
  await waitFor(b.net, () => b.net.upNodes().includes('a'));
  await until(() => a.net.upNodes().includes('b'));
  return { a, b };
}

async function rejection(p: Promise<unknown>): Promise<TroupeError & { reason?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as TroupeError;
  }
  throw new Error('expected a rejection');
}

// Long enough that only a prompt answer (not a timeout) can end these calls within the test's time.
const LONG = 60_000;

describe('call({ node, name }) across nodes', () => {
  it('reaches a process registered on another node, from the node and from a process', async () => {
    const { a, b } = await pair();
    try {
      const adder = b.node.spawn(
        async (ctx) => {
          for (;;) {
            const m = (await ctx.receive(isCall)) as CallEnvelope<number>;
            ctx.reply(m.from, m.request + 1);
          }
        },
        { name: 'adder' },
      );
      expect(await a.node.call({ node: 'b', name: 'adder' }, 41, { timeout: LONG })).toBe(42);
      const result = new Promise<unknown>((resolve, reject) => {
        a.node.spawn(async (ctx) => {
          try {
            resolve(await ctx.call<number>({ node: 'b', name: 'adder' }, 1, { timeout: LONG }));
          } catch (err) {
            reject(err);
          }
        });
      });
      expect(await result).toBe(2);
      // The same form naming this node is a local call.
      expect(await b.node.call({ node: 'b', name: 'adder' }, 9)).toBe(10);
      // Each call's monitor of the name is gone from the callee once the call returned.
      await until(() => b.node.processInfo(adder)?.monitoredBy === 0);
    } finally {
      await stopAll(b, a);
    }
  });

  it('a name nobody holds on the other node is ERR_NOPROC at once, not a timeout', async () => {
    const { a, b } = await pair();
    try {
      const e = await rejection(a.node.call({ node: 'b', name: 'nobody' }, 'hi', { timeout: LONG }));
      expect(e.code).toBe('ERR_NOPROC');
      expect(e.reason).toBe('noproc');
      expect(e.message).toContain('"nobody" on b');
      expect(a.node.stats().dropped.late_reply).toBe(0);
    } finally {
      await stopAll(b, a);
    }
  });

  it('a callee that dies handling the call is ERR_CALLEE_EXITED with its reason', async () => {
    const { a, b } = await pair();
    try {
      b.node.spawn(
        async (ctx) => {
          await ctx.receive(isCall);
          throw new Error('died on the call');
        },
        { name: 'doomed' },
      );
      const e = await rejection(a.node.call({ node: 'b', name: 'doomed' }, 'work', { timeout: LONG }));
      expect(e.code).toBe('ERR_CALLEE_EXITED');
      expect((e.reason as Error).message).toBe('died on the call');
    } finally {
      await stopAll(b, a);
    }
  });

  it("a call's timeout names the remote callee; the late reply is dropped", async () => {
    const { a, b } = await pair();
    try {
      b.node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')), { name: 'silent' });
      const e = await rejection(a.node.call({ node: 'b', name: 'silent' }, 'q', { timeout: 30 }));
      expect(e.code).toBe('ERR_TIMEOUT');
      expect(e.message).toBe('call to "silent" on b timed out after 30 ms');
    } finally {
      await stopAll(b, a);
    }
  });

  it('monitor({ node, name }): DOWN with the holder pid, noproc for nobody, noconnection on node down', async () => {
    const { a, b } = await pair();
    try {
      const target = b.node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'stop')), { name: 'svc' });
      const downs: DownMessage[] = [];
      const watcher = a.node.spawn(async (ctx) => {
        const none = ctx.monitor({ node: 'b', name: 'none' });
        const d1 = (await ctx.receive((m) => isDown(m) && m.ref === none)) as DownMessage;
        downs.push(d1);
        const svc = ctx.monitor({ node: 'b', name: 'svc' });
        ctx.send({ node: 'b', name: 'svc' }, 'stop');
        downs.push((await ctx.receive((m) => isDown(m) && m.ref === svc)) as DownMessage);
        ctx.monitor({ node: 'b', name: 'other' });
        downs.push((await ctx.receive(isDown)) as DownMessage);
      });
      await until(() => downs.length === 2);
      expect(downs[0]!.reason).toBe('noproc');
      expect(downs[0]!.pid.equals(watcher)).toBe(true);
      expect(downs[1]!.reason).toBe('normal');
      expect(downs[1]!.pid.equals(target)).toBe(true);
      // 'other' was never registered on b: noproc, as soon as b answers.
      await until(() => downs.length === 3);
      expect(downs[2]!.reason).toBe('noproc');
      const other = b.node.spawn(async (ctx) => void (await ctx.receive()), { name: 'other' });
      const late = a.node.spawn(async (ctx) => {
        ctx.monitor({ node: 'b', name: 'other' });
        downs.push((await ctx.receive(isDown)) as DownMessage);
      });
      await until(() => b.node.processInfo(other)?.monitoredBy === 1);
      expect(a.node.processInfo(late)!.monitors).toEqual([
        { ref: expect.any(String), pid: { node: 'b', name: 'other' } },
      ]);
      await b.net.stop();
      await until(() => downs.length === 4);
      expect(downs[3]!.reason).toBe('noconnection');
    } finally {
      await stopAll(b, a);
    }
  });
});
