import { describe, expect, it } from 'vitest';
import { isCall, type CallEnvelope, type TroupeError } from '../../runtime/index.js';
import { spawnProbe, virtualNode } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<TroupeError & { reason?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as TroupeError;
  }
  throw new Error('expected a rejection');
}

describe('call', () => {
  it('sends a request and returns the reply', async () => {
    const { node } = await virtualNode();
    const echo = node.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive(isCall)) as CallEnvelope<number>;
        ctx.reply(m.from, m.request * 2);
      }
    });
    expect(await node.call(echo, 21)).toBe(42);
    expect(await node.call(echo, 5)).toBe(10);
  });

  it('a dead callee rejects with ERR_NOPROC; an unknown name too', async () => {
    const { node } = await virtualNode();
    const dead = node.spawn(() => {});
    await node.exited(dead);
    const e1 = await rejection(node.call(dead, 'hi'));
    expect(e1.code).toBe('ERR_NOPROC');
    const e2 = await rejection(node.call('nobody', 'hi'));
    expect(e2.code).toBe('ERR_NOPROC');
  });

  it('a callee that dies mid-call rejects with its exit reason', async () => {
    const { node } = await virtualNode();
    const doomed = node.spawn(async (ctx) => {
      await ctx.receive(isCall);
      throw new Error('died handling the call');
    });
    const e = await rejection(node.call(doomed, 'work'));
    expect(e.code).toBe('ERR_CALLEE_EXITED');
    expect((e.reason as Error).message).toBe('died handling the call');
  });

  it('a timeout rejects with ERR_TIMEOUT and the late reply is dropped, never left in the mailbox', async () => {
    const { node, clock } = await virtualNode();
    const probe = spawnProbe(node);
    const slow = node.spawn(async (ctx) => {
      const m = (await ctx.receive(isCall)) as CallEnvelope;
      await ctx.receive((x) => x === 'now reply');
      ctx.reply(m.from, 'late');
    });
    const caller = node.spawn(async (ctx) => {
      try {
        await ctx.call(slow, 'q', { timeout: 50 });
      } catch (err) {
        ctx.send(probe.pid, (err as TroupeError).code);
      }
      await ctx.receive((x) => x === 'look');
      ctx.send(probe.pid, ctx.node.processInfo(ctx.self)!.mailboxLength);
    });
    await clock.advance(50);
    expect(await probe.next()).toBe('ERR_TIMEOUT');
    const before = node.stats().dropped.late_reply;
    node.send(slow, 'now reply');
    await new Promise((r) => setImmediate(r));
    node.send(caller, 'look');
    expect(await probe.next()).toBe(0);
    expect(node.stats().dropped.late_reply).toBe(before + 1);
  });

  it('a target that is not a pid, a name or { node, name } is ERR_BAD_ARGUMENT at once, not a timeout', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const bad: unknown[] = [3, { id: 3 }, null, undefined, { node: 'n1' }, ['<n1.1.1>']];
    for (const to of bad) {
      const e = await rejection(node.call(to as string, 'hi'));
      expect(e.code).toBe('ERR_BAD_ARGUMENT');
      expect(() => node.cast(to as string, 'hi')).toThrow(expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }));
    }
    node.spawn(async (ctx) => {
      try {
        await ctx.call(42 as unknown as string, 'hi');
      } catch (err) {
        ctx.send(probe.pid, (err as TroupeError).code);
      }
    });
    expect(await probe.next()).toBe('ERR_BAD_ARGUMENT');
  });

  it("a timeout's message names the callee and the time waited", async () => {
    const { node, clock } = await virtualNode();
    const silent = node.spawn(async (ctx) => {
      await ctx.receive((x) => x === 'never');
    });
    node.register('silent', silent);
    const byPid = rejection(node.call(silent, 'q'));
    const byName = rejection(node.call('silent', 'q', { timeout: 20 }));
    await clock.advance(20);
    const e2 = await byName;
    expect(e2.code).toBe('ERR_TIMEOUT');
    expect(e2.message).toBe(`call to "silent" (${silent.toString()}) timed out after 20 ms`);
    await clock.advance(5000);
    const e1 = await byPid;
    expect(e1.code).toBe('ERR_TIMEOUT');
    expect(e1.message).toBe(`call to ${silent.toString()} timed out after 5000 ms`);
  });
});
