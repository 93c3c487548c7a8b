import { describe, expect, it } from 'vitest';
import { Pid } from '../../runtime/index.js';
import { spawnProbe, virtualNode } from './helpers.js';

describe('send and mailbox bounds', () => {
  it('send to a dead pid is no error, like Erlang, but is counted', async () => {
    const { node } = await virtualNode();
    const dead = node.spawn(() => {});
    await node.exited(dead);
    node.send(dead, 'into the void');
    expect(node.stats().dropped.dead_process).toBe(1);
  });

  it('a pid of an old incarnation of this node is dead (counted as stale)', async () => {
    const { node } = await virtualNode('n1', { incarnation: 2 });
    const probe = spawnProbe(node);
    const old = new Pid('n1', probe.pid.id, 1);
    node.send(old, 'stale');
    expect(node.stats().dropped.stale_incarnation).toBe(1);
    expect(probe.pending).toEqual([]);
  });

  it('a remote pid with no internode attached is counted as no_route', async () => {
    const { node } = await virtualNode();
    node.send(new Pid('elsewhere', 1, 1), 'hi');
    expect(node.stats().dropped.no_route).toBe(1);
  });

  it('drop-newest keeps the first messages and counts the rest', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(
      async (ctx) => {
        await ctx.receive((m) => m === 'go');
        const got: unknown[] = [];
        for (let i = 0; i < 3; i++) got.push(await ctx.receive());
        ctx.send(probe.pid, got);
      },
      { mailboxLimit: 3 },
    );
    await Promise.resolve();
    await Promise.resolve();
    for (let i = 1; i <= 5; i++) node.send(pid, i);
    node.send(pid, 'go'); // matches the waiting receive: handed over even with a full mailbox
    expect(await probe.next()).toEqual([1, 2, 3]);
    expect(node.stats().dropped.mailbox_full).toBe(2);
  });

  it('drop-oldest keeps the newest messages and counts the dropped ones', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(
      async (ctx) => {
        await ctx.receive((m) => m === 'go');
        const got: unknown[] = [];
        for (let i = 0; i < 3; i++) got.push(await ctx.receive());
        ctx.send(probe.pid, got);
      },
      { mailboxLimit: 4, overflow: 'drop-oldest' },
    );
    for (let i = 1; i <= 5; i++) node.send(pid, i);
    node.send(pid, 'go');
    expect(await probe.next()).toEqual([3, 4, 5]);
    expect(node.stats().dropped.mailbox_full).toBe(2);
  });

  it("overflow 'exit' ends the flooded process with reason mailbox_overflow", async () => {
    const { node } = await virtualNode();
    const pid = node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')), {
      mailboxLimit: 2,
      overflow: 'exit',
    });
    const exited = node.exited(pid);
    for (let i = 0; i < 3; i++) node.send(pid, i);
    expect(await exited).toBe('mailbox_overflow');
    expect(node.stats().dropped.mailbox_full).toBe(1);
  });

  it('rejects a mailbox bound outside the allowed range', async () => {
    const { node } = await virtualNode();
    expect(() => node.spawn(() => {}, { mailboxLimit: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }),
    );
  });
});
