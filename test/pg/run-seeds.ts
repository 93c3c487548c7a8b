// Long sweep of the pg simulation (not run by CI):  npx tsx test/pg/run-seeds.ts [from] [to] [steps]
// Prints each failing seed with its replay command and exits non-zero if any failed.
import { runSeed } from './simulation.js';

const from = Number(process.argv[2] ?? 0);
const to = Number(process.argv[3] ?? 500);
const steps = Number(process.argv[4] ?? 600);
let failed = 0;
const totals: Record<string, number> = {};
for (let seed = from; seed < to; seed++) {
  const result = runSeed(seed, { steps, nodes: 3 + (seed % 2) });
  if (result.failure !== undefined) {
    failed++;
    console.log(`seed ${seed} failed at step ${result.step}: ${result.failure.split('\n')[0]}`);
    console.log(
      `  replay: PG_SEED=${seed} npx vitest run test/pg/simulation.test.ts  ` +
        `(steps/nodes may differ: runSeed(${seed}, { steps: ${steps}, nodes: ${3 + (seed % 2)} }))`,
    );
  }
  for (const [k, v] of Object.entries(result.counters)) totals[k] = (totals[k] ?? 0) + v;
}
console.log(JSON.stringify({ seeds: to - from, failed, totals }, null, 2));
process.exitCode = failed > 0 ? 1 : 0;
