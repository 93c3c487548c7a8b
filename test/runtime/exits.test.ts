import { describe, expect, it } from 'vitest';
import { Node, isExit, type ExitMessage } from '../../runtime/index.js';
import { captureLogs, spawnProbe, virtualNode } from './helpers.js';

const forever = async (ctx: { receive(): Promise<unknown> }): Promise<void> => {
  for (;;) await ctx.receive();
};

describe('exit signals and links', () => {
  it('a thrown error becomes the exit reason, with its stack, and is logged once', async () => {
    const logs = captureLogs();
    const node = await Node.start({ name: 'n1', logger: logs.logger });
    const pid = node.spawn(() => {
      throw new Error('boom');
    });
    const reason = await node.exited(pid);
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toBe('boom');
    expect((reason as Error).stack).toContain('exits.test.ts');
    const crashLines = logs.lines.filter((l) => l.msg === 'process crashed');
    expect(crashLines).toHaveLength(1);
    expect(crashLines[0]!.pid).toBe(pid.toString());
  });

  it('an abnormal exit kills a linked process; a normal one does not', async () => {
    const { node } = await virtualNode();
    const a = node.spawn(forever);
    const b = node.spawn(async (ctx) => {
      ctx.link(a);
      await ctx.receive((m) => m === 'crash');
      throw new Error('crash');
    });
    const c = node.spawn(forever);
    const d = node.spawn(async (ctx) => {
      ctx.link(c);
      await ctx.receive((m) => m === 'done');
    });
    await Promise.resolve();
    await Promise.resolve();
    node.send(d, 'done');
    expect(await node.exited(d)).toBe('normal');
    expect(node.isAlive(c)).toBe(true);
    node.send(b, 'crash');
    const reasonA = await node.exited(a);
    expect((reasonA as Error).message).toBe('crash');
  });

  it('a trapping process gets EXIT messages instead of dying', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const trapper = node.spawn(
      async (ctx) => {
        const child = ctx.spawnLink(() => {
          throw new Error('child died');
        });
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, { fromChild: m.from?.equals(child), reason: (m.reason as Error).message });
        await ctx.receive();
      },
      { trapExit: true },
    );
    expect(await probe.next()).toEqual({ fromChild: true, reason: 'child died' });
    expect(node.isAlive(trapper)).toBe(true);
  });

  it("exit(pid, 'kill') kills even a trapping process, with reason 'killed', and links see 'killed'", async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const victim = node.spawn(forever, { trapExit: true });
    node.spawn(
      async (ctx) => {
        ctx.link(victim);
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, m.reason);
      },
      { trapExit: true },
    );
    await Promise.resolve();
    await Promise.resolve();
    const victimExit = node.exited(victim);
    node.exit(victim, 'kill');
    expect(await victimExit).toBe('killed');
    expect(await probe.next()).toBe('killed');
  });

  it("a link signal with reason 'kill' is trappable (only exit/2's kill is not)", async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const dier = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'go');
      ctx.exitSelf('kill');
    });
    node.spawn(
      async (ctx) => {
        ctx.link(dier);
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, { reason: m.reason, alive: true });
      },
      { trapExit: true },
    );
    await Promise.resolve();
    await Promise.resolve();
    node.send(dier, 'go');
    expect(await probe.next()).toEqual({ reason: 'kill', alive: true });
  });

  it("exit(pid, 'normal') is ignored by a non-trapping process but ends the sender itself", async () => {
    const { node } = await virtualNode();
    const target = node.spawn(forever);
    node.exit(target, 'normal');
    const self = node.spawn(async (ctx) => {
      ctx.exit(ctx.self, 'normal');
      await ctx.receive();
    });
    expect(await node.exited(self)).toBe('normal');
    expect(node.isAlive(target)).toBe(true);
  });

  it('a custom reason kills a non-trapping process', async () => {
    const { node } = await virtualNode();
    const target = node.spawn(forever);
    const exited = node.exited(target);
    node.exit(target, 'custom_reason');
    expect(await exited).toBe('custom_reason');
  });

  it("linking to a dead process sends the linker 'noproc'", async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    const dead = node.spawn(() => {});
    await node.exited(dead);
    node.spawn(
      async (ctx) => {
        ctx.link(dead);
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, m.reason);
      },
      { trapExit: true },
    );
    expect(await probe.next()).toBe('noproc');
    const untrapped = node.spawn(async (ctx) => {
      ctx.link(dead);
      await ctx.receive();
    });
    expect(await node.exited(untrapped)).toBe('noproc');
  });

  it('unlink removes the link on both sides', async () => {
    const { node } = await virtualNode();
    const a = node.spawn(forever);
    const b = node.spawn(async (ctx) => {
      ctx.link(a);
      ctx.unlink(a);
      await ctx.receive((m) => m === 'crash');
      throw new Error('x');
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(node.processInfo(a)?.links).toEqual([]);
    node.send(b, 'crash');
    await node.exited(b);
    expect(node.isAlive(a)).toBe(true);
  });

  it('a long chain of links dies without exhausting the stack', async () => {
    const { node } = await virtualNode();
    const n = 20_000;
    const pids = [node.spawn(forever)];
    for (let i = 1; i < n; i++) {
      const prev = pids[i - 1]!;
      pids.push(
        node.spawn(async (ctx) => {
          ctx.link(prev);
          await ctx.receive();
        }),
      );
    }
    await Promise.resolve();
    await Promise.resolve();
    const last = node.exited(pids[n - 1]!);
    node.exit(pids[0]!, 'chain');
    expect(await last).toBe('chain');
    expect(node.stats().processes).toBe(0);
  });

  it('a killed process cannot send or receive any more, and its signal aborts', async () => {
    const { node } = await virtualNode();
    const probe = spawnProbe(node);
    let aborted = false;
    const pid = node.spawn(async (ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = true));
      try {
        await ctx.receive();
      } catch (err) {
        try {
          ctx.send(probe.pid, 'should not arrive');
        } catch (again) {
          // The unwinding process learns it has exited.
          expect((again as { code?: string }).code).toBe('ERR_EXITED');
        }
        throw err;
      }
    });
    await Promise.resolve();
    node.exit(pid, 'kill');
    await node.exited(pid);
    await Promise.resolve();
    expect(aborted).toBe(true);
    expect(probe.pending).toEqual([]);
  });
});
