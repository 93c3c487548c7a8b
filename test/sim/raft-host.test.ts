// The real Raft host in the seeded simulation (sim/raft/host-simulation.ts): loss, delay and
// reordering, partitions, single crashes and power losses (every node at once, each losing what
// its disk had not made durable), snapshots. A bounded CI slice of seeds; the same seed gives the
// same run; and a disk that lies about durability is caught.
import { describe, expect, it } from 'vitest';
import { runRaftHostSimulation } from '../../sim/raft/index.js';

describe('raft host simulation', () => {
  it('holds every invariant and converges after healing (3 nodes, seeds 1..12)', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = await runRaftHostSimulation({ seed, nodes: 3 });
      expect(r.violation, `seed ${seed}`).toBeNull();
      expect(r.stats.acked).toBeGreaterThan(100);
    }
    expect.hasAssertions();
  }, 120_000);

  it('holds with five nodes (seeds 101..104)', async () => {
    for (let seed = 101; seed <= 104; seed++) {
      const r = await runRaftHostSimulation({ seed, nodes: 5 });
      expect(r.violation, `seed ${seed}`).toBeNull();
      expect(r.stats.crashes).toBeGreaterThan(0);
    }
  }, 120_000);

  it('is deterministic: the same seed gives the same run', async () => {
    const a = await runRaftHostSimulation({ seed: 7 });
    const b = await runRaftHostSimulation({ seed: 7 });
    expect(b).toEqual(a);
  });

  it('catches a disk that reports writes durable before they are', async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 30 && failures.length === 0; seed++) {
      const r = await runRaftHostSimulation({ seed, nodes: 3, unsafeLyingDisk: true });
      if (r.violation !== null) failures.push(r.violation);
    }
    expect(failures.length).toBeGreaterThan(0);
  }, 120_000);
});
