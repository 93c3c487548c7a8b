import { describe, expect, it } from 'vitest';
import { Node, VirtualClock, isExit, type TroupeError } from '../../runtime/index.js';
import { virtualNode } from './helpers.js';

describe('node lifecycle and introspection', () => {
  it("stop() exits every process with 'shutdown', waits for them, and refuses new spawns", async () => {
    const { node } = await virtualNode();
    const plain = node.spawn(async (ctx) => void (await ctx.receive()));
    const cleanups: string[] = [];
    const trapper = node.spawn(
      async (ctx) => {
        const m = await ctx.receive(isExit);
        cleanups.push(`cleaned up after ${(m as { reason: string }).reason}`);
      },
      { trapExit: true },
    );
    const reasons = Promise.all([node.exited(plain), node.exited(trapper)]);
    await node.stop();
    expect(await reasons).toEqual(['shutdown', 'normal']);
    expect(cleanups).toEqual(['cleaned up after shutdown']);
    expect(node.state).toBe('stopped');
    expect(node.stats().processes).toBe(0);
    expect(() => node.spawn(() => {})).toThrow(expect.objectContaining({ code: 'ERR_NODE_STOPPED' }));
  });

  it('stop() kills a trapping process that ignores shutdown once the stop timeout passes', async () => {
    const clock = new VirtualClock();
    const node = await Node.start({ name: 'n', clock, stopTimeoutMs: 300 });
    const stubborn = node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')), { trapExit: true });
    const exit = node.exited(stubborn);
    const stopping = node.stop();
    await clock.advance(299);
    expect(node.isAlive(stubborn)).toBe(true);
    await clock.advance(1);
    expect(await exit).toBe('killed');
    await stopping;
  });

  it('works with await using (Symbol.asyncDispose)', async () => {
    let pid;
    let n: Node;
    {
      await using node = await Node.start({ name: 'disposable' });
      n = node;
      pid = node.spawn(async (ctx) => void (await ctx.receive()));
    }
    expect(n.state).toBe('stopped');
    expect(n.isAlive(pid)).toBe(false);
  });

  it('reports process info, the process list and counts', async () => {
    const { node } = await virtualNode();
    const a = node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')), { name: 'a', trapExit: true });
    const b = node.spawn(async (ctx) => {
      ctx.link(a);
      ctx.monitor(a);
      for (;;) await ctx.receive((m) => m === 'never');
    });
    await new Promise((r) => setImmediate(r));
    node.send(a, 'queued-1');
    node.send(a, 'queued-2');
    const infoA = node.processInfo(a)!;
    expect(infoA).toMatchObject({
      status: 'waiting',
      mailboxLength: 2,
      registeredName: 'a',
      trapExit: true,
      monitoredBy: 1,
    });
    expect(infoA.links.map(String)).toEqual([b.toString()]);
    const infoB = node.processInfo(b)!;
    expect(infoB.monitors.map((m) => m.pid.toString())).toEqual([a.toString()]);
    expect(node.processes().map(String).sort()).toEqual([a, b].map(String).sort());
    expect(node.stats()).toMatchObject({ processes: 2, spawned: 2, exited: 0, registeredNames: 1 });
    node.exit(b, 'kill');
    expect(node.processInfo(b)).toBeUndefined();
    expect(node.stats()).toMatchObject({ processes: 1, exited: 1 });
  });

  it('refuses bad node names with a typed error', async () => {
    const err = (await Node.start({ name: 'has space' }).catch((e: unknown) => e)) as TroupeError;
    expect(err.code).toBe('ERR_BAD_NAME');
  });
});

describe('VirtualClock', () => {
  it('fires timers in time order, ties in the order set, and skips cancelled ones', async () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.setTimer(50, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(50, () => fired.push('c'));
    const t = clock.setTimer(20, () => fired.push('cancelled'));
    t.cancel();
    await clock.advance(49);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(149);
    await clock.advance(1);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.pending).toBe(0);
  });

  it('runs timers set by timers within the same advance', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimer(10, () => {
      fired.push(clock.now());
      clock.setTimer(10, () => fired.push(clock.now()));
    });
    await clock.advance(25);
    expect(fired).toEqual([10, 20]);
  });
});
