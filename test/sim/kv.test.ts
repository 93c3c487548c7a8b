// KV clients on the simulated cluster (the real host and KV tenant under crashes, power losses,
// partitions and loss): the recorded history is linearizable and the replicas agree, a fixed
// CI slice of seeds; a KV that serves reads without a read index is caught.
import { describe, expect, it } from 'vitest';
import { runKvSimulation } from '../../sim/kv/index.js';

describe('kv simulation', () => {
  it('every run is linearizable and converges (seeds 1..10, 3 and 5 nodes)', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = await runKvSimulation({ seed, nodes: seed % 2 === 0 ? 5 : 3 });
      expect(r.violation, `seed ${seed}`).toBeNull();
      expect(r.stats.ok).toBeGreaterThan(100);
      expect(r.stats.unknownVerdicts).toBe(0);
    }
  }, 120_000);

  it('catches stale reads: a replica answering without a read index', async () => {
    const r = await runKvSimulation({ seed: 1, nodes: 3, unsafeStaleReads: true });
    expect(r.violation).toMatch(/not linearizable/);
  });
});
