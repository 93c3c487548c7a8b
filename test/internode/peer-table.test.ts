// The peer table is bounded and never fills up for good (issue 11, defect 8): peers that left
// are forgotten after FORGET_DEPARTED_AFTER_MS, the longest-down one makes room for a newcomer,
// and a newcomer refused because every slot is live is told why in the handshake ('too many
// peers', typed), counted on both sides, and never sees an up.
import { describe, expect, it } from 'vitest';
import { CLOSE, HandshakeError, Internode, dialerHandshake, limits } from '../../internode/index.js';
import { Node, RealClock, VirtualClock } from '../../runtime/index.js';
import { SECRET, until } from './helpers.js';
import { identity, rawConnect, type RawPeer } from './raw-peer.js';

async function join(address: string, name: string): Promise<RawPeer | HandshakeError> {
  const raw = await rawConnect(address);
  try {
    await dialerHandshake(raw, identity(name), new RealClock());
    raw.detach();
    return raw;
  } catch (err) {
    if (err instanceof HandshakeError) return err;
    throw err;
  }
}

describe('a bounded peer table', () => {
  it('names that come and go never fill it; a full table of live peers refuses with a typed reason', async () => {
    const clock = new VirtualClock();
    const node = await Node.start({ name: 'hub', incarnation: 1, clock });
    const hub = await Internode.start({ node, cluster: 'test', secret: SECRET, listen: '127.0.0.1:0', maxPeers: 3 });
    try {
      // 20 pods with unique names, each leaving gracefully: the table never refuses one.
      for (let i = 0; i < 20; i++) {
        const pod = await join(hub.address, `pod-${i}`);
        expect(pod).not.toBeInstanceOf(HandshakeError);
        await until(() => hub.upNodes().includes(`pod-${i}`));
        (pod as RawPeer).close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
        await until(() => !hub.upNodes().includes(`pod-${i}`));
      }
      expect(hub.members().length).toBeLessThanOrEqual(3);
      // Departed members are forgotten after the bound.
      await clock.advance(limits.FORGET_DEPARTED_AFTER_MS + limits.DEFAULT_HEARTBEAT_INTERVAL_MS);
      expect(hub.members()).toEqual([]);

      // Three live peers fill it; a fourth is refused in the handshake, and told why.
      const live = await Promise.all(['p1', 'p2', 'p3'].map((n) => join(hub.address, n)));
      await until(() => hub.upNodes().length === 3);
      const before = hub.stats().handshakeRefusals[CLOSE.tooManyPeers.reason] ?? 0;
      const fourth = await join(hub.address, 'p4');
      expect(fourth).toBeInstanceOf(HandshakeError);
      expect((fourth as HandshakeError).refusal).toBe('tooManyPeers');
      expect((fourth as HandshakeError).by).toBe('peer');
      expect((fourth as HandshakeError).closeCode).toBe(CLOSE.tooManyPeers.code);
      expect(hub.stats().handshakeRefusals[CLOSE.tooManyPeers.reason]).toBe(before + 1);
      expect(hub.upNodes().sort()).toEqual(['p1', 'p2', 'p3']);

      // One leaves: the next newcomer takes the slot of the member down the longest.
      (live[0] as RawPeer).close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
      await until(() => hub.upNodes().length === 2);
      expect(await join(hub.address, 'p5')).not.toBeInstanceOf(HandshakeError);
      await until(() => hub.upNodes().includes('p5'));
      expect(
        hub
          .members()
          .map((m) => m.node)
          .sort(),
      ).toEqual(['p2', 'p3', 'p5']);
      for (const p of live) if (!(p instanceof HandshakeError)) p.ws.terminate();
    } finally {
      await hub.stop();
      await node.stop();
    }
  });
});
