import { describe, expect, it } from 'vitest';
import { isDown, type DownMessage } from '../../runtime/index.js';
import { spawnProbe, virtualNode } from './helpers.js';

describe('monitors', () => {
  it('deliver exactly one DOWN {ref, pid, reason} when the target exits', async () => {
    const { node, clock } = await virtualNode();
    const probe = spawnProbe(node);
    const target = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'stop');
      throw new Error('bye');
    });
    node.spawn(async (ctx) => {
      const ref = ctx.monitor(target);
      ctx.send(target, 'stop');
      const down = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, {
        sameRef: down.ref === ref,
        pid: down.pid.equals(target),
        reason: (down.reason as Error).message,
      });
      try {
        await ctx.receive(isDown, { timeout: 100 });
        ctx.send(probe.pid, 'second DOWN');
      } catch {
        ctx.send(probe.pid, 'only one');
      }
    });
    expect(await probe.next()).toEqual({ sameRef: true, pid: true, reason: 'bye' });
    await clock.advance(100);
    expect(await probe.next()).toBe('only one');
  });

  it("monitoring a dead or unknown pid delivers DOWN 'noproc' at once", async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const dead = node.spawn(() => {});
    await node.exited(dead);
    node.spawn(async (ctx) => {
      ctx.monitor(dead);
      ctx.monitor('no-such-name');
      const a = (await ctx.receive(isDown)) as DownMessage;
      const b = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, [a.reason, b.reason]);
    });
    expect(await probe.next()).toEqual(['noproc', 'noproc']);
  });

  it('demonitor stops delivery; with flush it also removes a DOWN already queued', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    node
      .spawn(async (ctx) => {
        const t1 = ctx.spawn(async (c) => void (await c.receive()));
        const t2 = ctx.spawn(async (c) => void (await c.receive()));
        const r1 = ctx.monitor(t1);
        const r2 = ctx.monitor(t2);
        const first = ctx.demonitor(r1);
        const again = ctx.demonitor(r1);
        ctx.send(t1, 'go');
        ctx.send(t2, 'go');
        await ctx.receive((m) => m === 'check');
        const queued = ctx.node.processInfo(ctx.self)!.mailboxLength;
        const flushed = ctx.demonitor(r2, { flush: true });
        const after = ctx.node.processInfo(ctx.self)!.mailboxLength;
        ctx.send(probe.pid, { first, again, queued, flushed, after });
      })
      .toString();
    // Let the targets exit, then ask the watcher to look.
    await new Promise((r) => setImmediate(r));
    for (const pid of node.processes()) if (!pid.equals(probe.pid)) node.send(pid, 'check');
    const r = await probe.next();
    // t2's DOWN was queued (1 message); demonitor after DOWN returns false (monitor already fired)
    // and flush removes it.
    expect(r).toEqual({ first: true, again: false, queued: 1, flushed: false, after: 0 });
  });

  it('spawnMonitor sets the monitor before the child runs', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    node.spawn(async (ctx) => {
      const { pid, ref } = ctx.spawnMonitor(() => {
        throw new Error('immediately');
      });
      const down = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, { ref: down.ref === ref, pid: down.pid.equals(pid), reason: (down.reason as Error).message });
    });
    expect(await probe.next()).toEqual({ ref: true, pid: true, reason: 'immediately' });
  });

  it('a monitor by name resolves the name at monitor time', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const named = node.spawn(async (ctx) => void (await ctx.receive()), { name: 'svc' });
    node.spawn(async (ctx) => {
      ctx.monitor('svc');
      ctx.send('svc', 'stop');
      const down = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, { pid: down.pid.equals(named), reason: down.reason });
    });
    expect(await probe.next()).toEqual({ pid: true, reason: 'normal' });
  });

  it('monitors held by an exiting process are removed from their targets', async () => {
    const { node } = await virtualNode();
    const target = node.spawn(async (ctx) => void (await ctx.receive()));
    const watcher = node.spawn(async (ctx) => {
      ctx.monitor(target);
      await ctx.receive((m) => m === 'die');
    });
    await new Promise((r) => setImmediate(r));
    expect(node.processInfo(target)!.monitoredBy).toBe(1);
    node.send(watcher, 'die');
    await node.exited(watcher).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    expect(node.processInfo(target)!.monitoredBy).toBe(0);
  });
});
