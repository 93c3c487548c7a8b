// Sweep thousands of simulation seeds, or replay one with its trace.
//
//   npx tsx sim/run-seeds.ts                          1000 seeds each of 3, 5, 7 nodes x both profiles
//   npx tsx sim/run-seeds.ts --count 5000 --nodes 5   5000 seeds of 5 nodes
//   npx tsx sim/run-seeds.ts --seed 123 --nodes 5 --profile leaderChurn --trace   replay one seed
//   npx tsx sim/run-seeds.ts --broken ackBeforeDurable --count 100                show a broken engine fail
//   npx tsx sim/run-seeds.ts --read lease                                         opt-in lease reads
//
// A failing seed prints its violation, the tail of its trace and the command that replays it.
import { runRaftSimulation, type RaftSimOptions } from './raft/index.js';

/** A command-line script: it prints to stdout (the library itself never does). */
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const nodesList = (arg('nodes') ?? '3,5,7').split(',').map(Number);
const profiles = (arg('profile') ?? 'mixed,leaderChurn').split(',') as Array<'mixed' | 'leaderChurn'>;
const from = Number(arg('from') ?? 1);
const count = Number(arg('count') ?? 1000);
const single = arg('seed');
const broken = arg('broken');
const traceAll = flag('trace');
const tail = Number(arg('tail') ?? 80);
const readMode = (arg('read') ?? 'safe') as 'safe' | 'lease';

function options(seed: number, nodes: number, profile: 'mixed' | 'leaderChurn', trace: boolean): RaftSimOptions {
  return {
    seed,
    nodes,
    profile,
    churn: profile === 'mixed',
    trace,
    readMode,
    ...(broken ? { broken: { [broken]: true } } : {}),
  };
}

function replayCommand(seed: number, nodes: number, profile: string): string {
  return (
    `npx tsx sim/run-seeds.ts --seed ${seed} --nodes ${nodes} --profile ${profile} --read ${readMode}` +
    `${broken ? ` --broken ${broken}` : ''} --trace`
  );
}

if (single !== undefined) {
  const seed = Number(single);
  const nodes = nodesList[0] ?? 3;
  const profile = profiles[0] ?? 'mixed';
  const r = runRaftSimulation(options(seed, nodes, profile, true));
  const lines = traceAll ? r.trace : r.trace.slice(-tail);
  for (const l of lines) say(l);
  say(JSON.stringify({ seed, nodes, profile, ok: r.ok, violation: r.violation, stats: r.stats }, null, 2));
  process.exit(r.ok ? 0 : 1);
}

let failures = 0;
const started = Date.now();
let events = 0;
for (const nodes of nodesList) {
  for (const profile of profiles) {
    let ok = 0;
    const t0 = Date.now();
    for (let seed = from; seed < from + count; seed++) {
      const r = runRaftSimulation(options(seed, nodes, profile, false));
      events += r.stats.events;
      if (r.ok) {
        ok++;
        continue;
      }
      failures++;
      const traced = runRaftSimulation(options(seed, nodes, profile, true));
      say(`\nFAIL seed=${seed} nodes=${nodes} profile=${profile}: ${r.violation?.kind}: ${r.violation?.detail}`);
      for (const l of traced.trace.slice(-tail)) say(`  ${l}`);
      say(`replay: ${replayCommand(seed, nodes, profile)}`);
    }
    say(`${nodes} nodes, ${profile}: ${ok}/${count} seeds passed in ${Date.now() - t0} ms`);
  }
}
say(`${failures} failing seeds; ${events} events in ${Date.now() - started} ms`);
process.exit(failures > 0 ? 1 : 0);
