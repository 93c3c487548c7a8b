// Dials that fail (nobody listens, the peer refuses) are counted by reason and logged at warn,
// at most once per WARN_EVERY_MS per address with the number suppressed meanwhile, while the
// redials back off: a dead seed costs a few log lines a minute, not one per attempt.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Internode, MemoryNetwork, limits } from '../../internode/index.js';
import { Node, VirtualClock } from '../../runtime/index.js';
import { SECRET } from './helpers.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('a seed nobody answers', () => {
  it('is redialed with growing backoff; each failure is counted; warnings are rate-limited per address', async () => {
    const clock = new VirtualClock();
    const node = await Node.start({ name: 'lonely', incarnation: 1, clock });
    const net = new MemoryNetwork((fn, ms) => void clock.setTimer(ms, fn));
    const { logger, lines } = capture();
    const layer = await Internode.start({
      node,
      cluster: 'c',
      secret: SECRET,
      seeds: ['nobody'],
      transport: net.transport('lonely'),
      logger,
      random: { next: () => 0.5 },
    });
    try {
      const minutes = 2;
      for (let t = 0; t < minutes * 60_000; t += 100) await clock.advance(100);
      const failures = layer.stats().dialFailuresByReason.refused;
      expect(layer.stats().dialFailures).toBe(failures);
      // Backoff: ~ 12 attempts a minute at the 5 s ceiling, not one per heartbeat or faster.
      expect(failures).toBeGreaterThan(10);
      expect(failures).toBeLessThan(minutes * (60_000 / (limits.RECONNECT_MAX_MS / 2)) + 10);
      const warned = lines.filter((l) => l.msg === 'dial failed');
      expect(warned.length).toBeGreaterThanOrEqual(minutes * 5);
      expect(warned.length).toBeLessThanOrEqual(minutes * (60_000 / limits.WARN_EVERY_MS) + 1);
      expect(warned[0]).toMatchObject({ level: 40, address: 'nobody', failure: 'refused' });
      // Every failure is either a line or counted as suppressed on the next line (the last few wait for one).
      const reported = warned.length + warned.reduce((n, l) => n + ((l.suppressed as number | undefined) ?? 0), 0);
      expect(reported).toBeLessThanOrEqual(failures);
      expect(failures - reported).toBeLessThanOrEqual(limits.WARN_EVERY_MS / (limits.RECONNECT_MAX_MS / 2));
    } finally {
      await layer.stop();
      await node.stop();
    }
  });
});
