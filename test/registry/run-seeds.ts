// Long seed sweep of the registry simulation (not part of CI):
//   npx tsx test/registry/run-seeds.ts [firstSeed=1] [count=1000] [bulkNamesPerNode=0 budgetBytes]
// Prints one line per failing seed and a summary; exits 1 if any seed failed.
import { runScenario } from './scenario.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 1000);
const bulk = Number(process.argv[4] ?? 0);
const budget = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
const started = Date.now();
let failed = 0;
let maxHeal = 0;
for (let seed = first; seed < first + count; seed++) {
  const r = runScenario(seed, { bulkNamesPerNode: bulk, ...(budget === undefined ? {} : { budgetBytes: budget }) });
  maxHeal = Math.max(maxHeal, r.healMs);
  if (r.violations.length > 0) {
    failed++;
    console.log(`seed ${seed} FAILED:\n  ${r.violations.join('\n  ')}`);
  } else if (count === 1) {
    console.log(JSON.stringify(r));
  }
}
console.log(
  `${count - failed}/${count} seeds passed in ${Date.now() - started} ms; slowest heal ${maxHeal} virtual ms`,
);
process.exitCode = failed > 0 ? 1 : 0;
