// A node that crashes and comes back under the same name with a higher incarnation is a down
// (reason 'new-incarnation') followed by an up, in that order; pids of the old incarnation are
// dead everywhere; and the old incarnation cannot come back.
import { describe, expect, it } from 'vitest';
import { CLOSE, HandshakeError, MemoryNetwork, dialerHandshake, type NodeEvent } from '../../internode/index.js';
import { RealClock, isDown, isExit, type DownMessage, type ExitMessage, type Pid } from '../../runtime/index.js';
import { startMember, stopAll, until, waitFor, type Member } from './helpers.js';
import { identity } from './raw-peer.js';

const quiet = { heartbeatIntervalMs: 1_000, downAfterMs: 60_000 };

/** Spawns a process on `m` that reports the first DOWN or EXIT it gets after running `act`. */
function observe(
  m: Member,
  act: (ctx: Parameters<Parameters<Member['node']['spawn']>[0]>[0]) => void,
): Promise<unknown> {
  return new Promise((resolve) => {
    m.node.spawn(
      async (ctx) => {
        act(ctx);
        const msg = (await ctx.receive((x) => isDown(x) || isExit(x))) as DownMessage | ExitMessage;
        resolve(msg.reason);
      },
      { trapExit: true },
    );
  });
}

describe('a node restarted under the same name with a higher incarnation', () => {
  it('is seen down (new-incarnation) then up, in order; old pids dead; the old incarnation is refused', async () => {
    const net = new MemoryNetwork();
    const a = await startMember('a', { transport: net.transport('a'), listen: 'a', ...quiet });
    const b1 = await startMember('b', {
      transport: net.transport('b'),
      listen: 'b',
      seeds: ['a'],
      incarnation: 1,
      ...quiet,
    });
    let b2: Member | undefined;
    try {
      await waitFor(a.net, () => a.net.upNodes().includes('b'));
      const events: NodeEvent[] = [];
      a.net.subscribe((e) => events.push(e));

      const old = b1.node.spawn(async (ctx) => void (await ctx.receive()));
      const monitoredBeforeCrash = observe(a, (ctx) => ctx.monitor(old));
      await until(() => b1.node.processInfo(old)?.monitoredBy === 1);

      // b hangs: a hears nothing more from it (not even a close), and its connection looks alive.
      // b comes back as incarnation 2 (on another port, as a restarted process may) before a
      // noticed anything: the handshake of the new incarnation is what tells a.
      net.faults.blocked = (x, y) => (x === 'a' && y === 'b') || (x === 'b' && y === 'a');
      b2 = await startMember('b', {
        transport: net.transport('b2'),
        listen: 'b2',
        seeds: ['a'],
        incarnation: 2,
        ...quiet,
      });
      await until(() => a.net.members().some((m) => m.node === 'b' && m.incarnation === 2 && m.state === 'up'));

      expect(events).toEqual([
        { type: 'down', node: 'b', incarnation: 1, reason: 'new-incarnation' },
        { type: 'up', node: 'b', incarnation: 2, address: 'b2' },
      ]);
      expect(await monitoredBeforeCrash).toBe('noconnection');

      // A process on the new incarnation with the very same id as the old pid.
      let twin: Pid | undefined;
      const twinGot: unknown[] = [];
      for (let i = 0; i <= old.id + 1 && twin === undefined; i++) {
        const p = b2.node.spawn(async (ctx) => {
          for (;;) twinGot.push(await ctx.receive());
        });
        if (p.id === old.id) twin = p;
      }
      expect(twin).toBeDefined();
      expect(twin!.equals(old)).toBe(false);

      // A send to the old pid is counted as unroutable and reaches nobody (not the twin).
      const noRoute = a.net.stats().noRoute;
      a.node.send(old, 'for the dead');
      expect(a.net.stats().noRoute).toBe(noRoute + 1);
      // A monitor and a link to the old pid report it dead.
      expect(await observe(a, (ctx) => ctx.monitor(old))).toBe('noproc');
      expect(await observe(a, (ctx) => ctx.link(old))).toBe('noproc');
      // The new incarnation is reachable, and the twin got only what was sent to it.
      a.node.send(twin!, 'for the twin');
      await until(() => twinGot.length === 1);
      expect(twinGot).toEqual(['for the twin']);

      // The old incarnation trying to connect again is refused; the new one stays up, no events.
      // It is told so in the handshake, before it is welcomed (it never sees a up).
      const conn = await net.transport('ghost').dial('a');
      const refused = await dialerHandshake(conn, identity('b', { incarnation: 1 }), new RealClock()).then(
        () => undefined,
        (e: unknown) => e as HandshakeError,
      );
      expect(refused).toBeInstanceOf(HandshakeError);
      expect(refused!.refusal).toBe('staleIncarnation');
      expect({ code: refused!.closeCode, reason: refused!.reason }).toEqual(CLOSE.staleIncarnation);
      expect(events).toHaveLength(2);
      expect(a.net.members()).toEqual([{ node: 'b', incarnation: 2, address: 'b2', state: 'up', connected: true }]);
    } finally {
      await stopAll(...(b2 !== undefined ? [b2] : []), b1, a);
    }
  });
});
