import { describe, expect, it } from 'vitest';
import { isTroupeError, type ProcessContext } from '../../runtime/index.js';
import { spawnProbe, virtualNode } from './helpers.js';

describe('receive', () => {
  it('takes messages in arrival order', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(async (ctx) => {
      const got = [await ctx.receive(), await ctx.receive(), await ctx.receive()];
      ctx.send(probe.pid, got);
    });
    node.send(pid, 1);
    node.send(pid, 2);
    node.send(pid, 3);
    expect(await probe.next()).toEqual([1, 2, 3]);
  });

  it('selective receive takes the first match and leaves the rest in their order', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(async (ctx) => {
      const first = await ctx.receive((m) => m === 'b');
      const rest = [await ctx.receive(), await ctx.receive(), await ctx.receive()];
      ctx.send(probe.pid, [first, ...rest]);
    });
    for (const m of ['a', 'c', 'b', 'd']) node.send(pid, m);
    expect(await probe.next()).toEqual(['b', 'a', 'c', 'd']);
  });

  it('a waiting selective receive wakes only for a matching message', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(async (ctx) => {
      const m = await ctx.receive(
        (x): x is { k: 'go' } => typeof x === 'object' && x !== null && (x as { k?: unknown }).k === 'go',
      );
      ctx.send(probe.pid, { matched: m, queued: ctx.node.processInfo(ctx.self)?.mailboxLength });
    });
    node.send(pid, 'noise');
    node.send(pid, { k: 'other' });
    node.send(pid, { k: 'go' });
    expect(await probe.next()).toEqual({ matched: { k: 'go' }, queued: 2 });
  });

  it('times out on the node clock with ERR_TIMEOUT', async () => {
    const { node, clock } = await virtualNode();
    const probe = spawnProbe(node);
    node.spawn(async (ctx) => {
      try {
        await ctx.receive({ timeout: 1000 });
      } catch (err) {
        ctx.send(probe.pid, { code: (err as { code?: string }).code, at: ctx.node.clock.now() });
      }
    });
    await clock.advance(999);
    expect(probe.pending).toEqual([]);
    await clock.advance(1);
    expect(await probe.next()).toEqual({ code: 'ERR_TIMEOUT', at: 1000 });
  });

  it('timeout 0 only looks: a present message is returned, else ERR_TIMEOUT at once', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'start');
      const present = await ctx.receive({ timeout: 0 });
      let code: string | undefined;
      try {
        await ctx.receive({ timeout: 0 });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      ctx.send(probe.pid, [present, code]);
    });
    node.send(pid, 'x');
    node.send(pid, 'start');
    expect(await probe.next()).toEqual(['x', 'ERR_TIMEOUT']);
  });

  it('an AbortSignal cancels a pending receive with ERR_ABORTED', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const ac = new AbortController();
    node.spawn(async (ctx) => {
      try {
        await ctx.receive({ signal: ac.signal });
      } catch (err) {
        ctx.send(probe.pid, (err as { code?: string }).code);
      }
    });
    await Promise.resolve();
    ac.abort();
    expect(await probe.next()).toBe('ERR_ABORTED');
  });

  it('refuses a second concurrent receive in one process', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    node.spawn(async (ctx: ProcessContext) => {
      const first = ctx.receive();
      try {
        await ctx.receive();
      } catch (err) {
        ctx.send(probe.pid, isTroupeError(err, 'ERR_RECEIVE_PENDING'));
      }
      void first.catch(() => {});
    });
    expect(await probe.next()).toBe(true);
  });

  it('a throwing match predicate fails the receive and keeps the message', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const pid = node.spawn(async (ctx) => {
      try {
        await ctx.receive(() => {
          throw new Error('bad predicate');
        });
      } catch (err) {
        ctx.send(probe.pid, (err as Error).message);
      }
      ctx.send(probe.pid, await ctx.receive());
    });
    await Promise.resolve();
    node.send(pid, 'kept');
    expect(await probe.next()).toBe('bad predicate');
    expect(await probe.next()).toBe('kept');
  });
});
