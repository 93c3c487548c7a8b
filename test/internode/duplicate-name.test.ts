// Two live nodes under one name. The rule (docs/wire.md §5): a newer incarnation replaces a
// member only when the old one is really gone. A node that holds a live connection to the old
// one probes it; if it answers, the newcomer is refused in the handshake with 'name in use' (a
// typed refusal both sides count), before it is welcomed, so neither side sees an up; the
// newcomer redials with backoff. The live node never flaps. Once the old one leaves, the
// newcomer gets in. (Real processes: duplicate-name-processes.test.ts.)
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, type NodeEvent } from '../../internode/index.js';
import { VirtualClock } from '../../runtime/index.js';
import { startMember, stopAll } from './helpers.js';

describe('a second node starting under the name of a live node', () => {
  it('is refused with "name in use" while the first lives, without any flapping, and backs off', async () => {
    const clock = new VirtualClock();
    const net = new MemoryNetwork((fn, ms) => void clock.setTimer(ms, fn));
    const common = {
      clock,
      defer: (fn: () => void) => void clock.setTimer(0, fn),
      random: { next: () => 0.5 },
    };
    const x1 = await startMember('x', { ...common, transport: net.transport('x1'), listen: 'x1', incarnation: 1 });
    const y = await startMember('y', { ...common, transport: net.transport('y'), listen: 'y', seeds: ['x1'] });
    const events = { x1: [] as string[], y: [] as string[], x2: [] as string[] };
    const record = (who: keyof typeof events) => (e: NodeEvent) =>
      void events[who].push(`${e.type} ${e.node}@${e.incarnation}${e.type === 'down' ? ` ${e.reason}` : ''}`);
    x1.net.subscribe(record('x1'));
    y.net.subscribe(record('y'));
    let x2: Awaited<ReturnType<typeof startMember>> | undefined;
    try {
      await clock.advance(2_000);
      expect(y.net.upNodes()).toEqual(['x']);
      events.x1.length = 0;
      events.y.length = 0;
      x2 = await startMember('x', {
        ...common,
        transport: net.transport('x2'),
        listen: 'x2',
        seeds: ['y'],
        incarnation: 2,
      });
      x2.net.subscribe(record('x2'));
      for (let t = 0; t < 60_000; t += 100) await clock.advance(100);

      // Nobody saw anything come or go: x1 and y stayed up for each other, x2 was never welcomed.
      expect(events).toEqual({ x1: [], y: [], x2: [] });
      expect(y.net.members()).toMatchObject([{ node: 'x', incarnation: 1, state: 'up', connected: true }]);
      const refusedByY = y.net.stats().handshakeRefusals['name in use'] ?? 0;
      const refusedX2 = x2.net.stats().handshakeRefusals['name in use'] ?? 0;
      expect(refusedByY).toBeGreaterThan(0);
      expect(refusedX2).toBe(refusedByY);
      // Backoff: a minute holds a handful of attempts (about one per 5 s once at the ceiling), not 20 a second.
      expect(refusedByY).toBeLessThan(25);

      // x1 leaves: x2's next attempt gets in, as the restart it now is.
      await x1.net.stop();
      for (let t = 0; t < 10_000; t += 100) await clock.advance(100);
      expect(events.y).toEqual(['down x@1 left', 'up x@2']);
      expect(x2.net.upNodes()).toEqual(['y']);
    } finally {
      await stopAll(...(x2 !== undefined ? [x2] : []), y, x1);
    }
  });
});
