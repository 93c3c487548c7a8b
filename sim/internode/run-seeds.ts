// Sweeps many seeds of the internode membership simulation and prints the failing ones.
//   node --import tsx sim/internode/run-seeds.ts [first=1] [count=500] [nodes=7]
// A failing seed replays with runMembershipSeed({ seed, ... }) (see test/sim/membership.test.ts).
import { runMembershipSeed } from './cluster.js';

const [first = 1, count = 500, nodes = 7] = process.argv.slice(2).map(Number);
const failing: number[] = [];
const started = Date.now();
for (let seed = first; seed < first + count; seed++) {
  const { failure } = await runMembershipSeed({
    seed,
    nodes,
    chaosMs: 60_000,
    settleMs: 25_000,
    lossRate: 0.05,
    maxDelayMs: 120,
  });
  if (failure !== undefined) {
    failing.push(seed);
    process.stdout.write(`seed ${seed}: ${failure}\n`);
  }
}
process.stdout.write(
  `${count} seeds, ${failing.length} failing${failing.length > 0 ? `: ${failing.join(' ')}` : ''} ` +
    `(${Date.now() - started} ms)\n`,
);
process.exitCode = failing.length > 0 ? 1 : 0;
