// The seeded pg simulation (sim/pg) over a small fixed slice of seeds (the CI slice). A longer sweep:
//   node --import tsx sim/sweep.ts pg --from 0 --count 2000
// Replay one seed here:  PG_SEED=123 npx vitest run test/pg/simulation.test.ts
import { describe, expect, it } from 'vitest';
import { runSeed } from '../../sim/pg/index.js';

const only = process.env.PG_SEED === undefined ? undefined : Number(process.env.PG_SEED);
const seeds = only !== undefined ? [only] : Array.from({ length: 60 }, (_, i) => i + 1);

describe('pg seeded simulation', () => {
  it(`converges and keeps every monitor replayable over seeds ${seeds[0]}..${seeds[seeds.length - 1]}`, () => {
    const totals: Record<string, number> = {};
    for (const seed of seeds) {
      const result = runSeed(seed, { steps: 400, nodes: 3 });
      if (result.failure !== undefined) {
        throw new Error(
          `pg simulation failed: seed=${seed} step=${result.step} ` +
            `(replay: PG_SEED=${seed} npx vitest run test/pg/simulation.test.ts)\n${result.failure}`,
        );
      }
      for (const [k, v] of Object.entries(result.counters)) totals[k] = (totals[k] ?? 0) + v;
    }
    // The slice must actually exercise the hard paths, or it proves little.
    if (only === undefined) {
      for (const path of [
        'restart',
        'partition',
        'replay-old',
        'exit',
        'monitor',
        'demonitor',
        'join-dead-refused',
        'join-remote-refused',
        'join-limit-refused',
        'silent-loss',
        'flap',
      ]) {
        expect(totals[path] ?? 0, path).toBeGreaterThan(0);
      }
      for (const stat of [
        'peerQueueFull',
        'droppedDuplicate',
        'droppedNotUp',
        'droppedGap',
        'droppedSyncPart',
        'syncsReceived',
      ]) {
        expect(totals[`stats.${stat}`] ?? 0, stat).toBeGreaterThan(0);
      }
    }
  });

  it('is deterministic: the same seed gives the same run', () => {
    expect(runSeed(7)).toEqual(runSeed(7));
  });
});
