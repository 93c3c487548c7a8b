// The remote seam, exercised by two nodes joined through an in-memory router (the shape the
// internode layer implements over WebSocket).
import { describe, expect, it } from 'vitest';
import {
  Node,
  isDown,
  isExit,
  type DownMessage,
  type ExitMessage,
  type RemoteInbound,
  type RemoteRouter,
  type TroupeError,
  type From,
} from '../../runtime/index.js';
import { spawnProbe } from './helpers.js';

class Loopback {
  readonly inbound = new Map<string, RemoteInbound>();
  connected = true;
  routerFor(): RemoteRouter {
    const peer = (node: string): RemoteInbound | undefined => (this.connected ? this.inbound.get(node) : undefined);
    return {
      send: (from, to, message) => peer(to.node)?.deliver(from, to, message),
      sendNamed: (from, node, name, message) => peer(node)?.deliverNamed(from, name, message),
      monitor: (watcher, target, ref) => peer(target.node)?.monitor(watcher, target, ref),
      demonitor: (watcher, target, ref) => peer(target.node)?.demonitor(watcher, target, ref),
      down: (watcher, ref, target, reason) => peer(watcher.node)?.down(watcher, ref, target, reason),
      link: (local, remote) => peer(remote.node)?.link(local, remote),
      unlink: (local, remote) => peer(remote.node)?.unlink(local, remote),
      exit: (from, to, reason, link) => peer(to.node)?.exit(from, to, reason, link),
    };
  }
  /** Both sides see the other go down. */
  partition(a: string, b: string): void {
    this.connected = false;
    this.inbound.get(a)?.nodeDown(b);
    this.inbound.get(b)?.nodeDown(a);
  }
}

async function pair(): Promise<{ a: Node; b: Node; net: Loopback }> {
  const net = new Loopback();
  const a = await Node.start({ name: 'a', incarnation: 1 });
  const b = await Node.start({ name: 'b', incarnation: 1 });
  net.inbound.set('a', a.attachRemote(net.routerFor()));
  net.inbound.set('b', b.attachRemote(net.routerFor()));
  return { a, b, net };
}

describe('remote seam', () => {
  it('sends to a pid and to a registered name on another node, and calls across', async () => {
    const { a, b } = await pair();
    const probe = spawnProbe(b);
    b.register('inbox', probe.pid);
    a.send(probe.pid, 'by pid');
    a.send({ node: 'b', name: 'inbox' }, 'by name');
    expect(await probe.next()).toBe('by pid');
    expect(await probe.next()).toBe('by name');
    const echo = b.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive()) as { type: string; from: From; request: unknown };
        if (m.type === '$call') ctx.reply(m.from, { echoed: m.request });
      }
    });
    expect(await a.call(echo, 'ping')).toEqual({ echoed: 'ping' });
  });

  it('a remote monitor delivers DOWN with the reason; a dead remote target gives noproc', async () => {
    const { a, b } = await pair();
    const probe = spawnProbe(a);
    const target = b.spawn(async (ctx) => {
      await ctx.receive();
      throw new Error('remote crash');
    });
    const dead = b.spawn(() => {});
    await b.exited(dead);
    a.spawn(async (ctx) => {
      ctx.monitor(target);
      ctx.monitor(dead);
      const first = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, first.reason);
      ctx.send(target, 'go');
      const second = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, (second.reason as Error).message);
    });
    expect(await probe.next()).toBe('noproc');
    expect(await probe.next()).toBe('remote crash');
  });

  it('links cross nodes both ways', async () => {
    const { a, b } = await pair();
    const probe = spawnProbe(a);
    const remote = b.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'crash');
      throw new Error('linked crash');
    });
    a.spawn(
      async (ctx) => {
        ctx.link(remote);
        ctx.send(remote, 'crash');
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, { from: m.from?.equals(remote), reason: (m.reason as Error).message });
      },
      { trapExit: true },
    );
    expect(await probe.next()).toEqual({ from: true, reason: 'linked crash' });
    // And the other direction: a local crash kills the remote linked process.
    const victim = b.spawn(async (ctx) => void (await ctx.receive((m) => m === 'never')));
    const victimExit = b.exited(victim);
    a.spawn(async (ctx) => {
      ctx.link(victim);
      throw new Error('local crash');
    });
    expect(((await victimExit) as Error).message).toBe('local crash');
  });

  it("a node going down fires 'noconnection' for monitors, links and pending calls", async () => {
    const { a, b, net } = await pair();
    const probe = spawnProbe(a);
    const remote = b.spawn(async (ctx) => {
      for (;;) await ctx.receive(); // never replies
    });
    a.spawn(async (ctx) => {
      ctx.monitor(remote);
      ctx.send(probe.pid, 'monitoring');
      const down = (await ctx.receive(isDown)) as DownMessage;
      ctx.send(probe.pid, `monitor: ${String(down.reason)}`);
    });
    a.spawn(
      async (ctx) => {
        ctx.link(remote);
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.send(probe.pid, `link: ${String(m.reason)}`);
      },
      { trapExit: true },
    );
    const pendingCall = a.call(remote, 'hello?', { timeout: 60_000 }).catch((e: unknown) => (e as TroupeError).code);
    expect(await probe.next()).toBe('monitoring');
    await new Promise((r) => setImmediate(r));
    const remoteExit = b.exited(remote);
    net.partition('a', 'b');
    const seen = [await probe.next(), await probe.next()].sort();
    expect(seen).toEqual(['link: noconnection', 'monitor: noconnection']);
    expect(await pendingCall).toBe('ERR_NOCONNECTION');
    // On the other side, the link to a process of the departed node kills the linked process too.
    expect(await remoteExit).toBe('noconnection');
  });

  it('the remote side forgets monitors held from a departed node', async () => {
    const { a, b, net } = await pair();
    const probe = spawnProbe(a);
    const remote = b.spawn(async (ctx) => {
      for (;;) await ctx.receive();
    });
    a.spawn(async (ctx) => {
      ctx.monitor(remote);
      ctx.send(probe.pid, 'monitoring');
      await ctx.receive(isDown);
    });
    expect(await probe.next()).toBe('monitoring');
    expect(b.processInfo(remote)?.monitoredBy).toBe(1);
    net.partition('a', 'b');
    expect(b.processInfo(remote)?.monitoredBy).toBe(0);
  });

  it('a remote exit signal follows the same rules as a local one', async () => {
    const { a, b } = await pair();
    const trapper = b.spawn(
      async (ctx) => {
        const m = (await ctx.receive(isExit)) as ExitMessage;
        ctx.exitSelf(`got ${String(m.reason)}`);
      },
      { trapExit: true },
    );
    const trapExitP = b.exited(trapper);
    a.exit(trapper, 'stop please');
    expect(await trapExitP).toBe('got stop please');
    const plain = b.spawn(async (ctx) => void (await ctx.receive()), { trapExit: true });
    const plainExit = b.exited(plain);
    a.exit(plain, 'kill');
    expect(await plainExit).toBe('killed');
  });
});
