// One sweep command for every simulation: runs seeds from..from+count-1 of one target and prints
// one `replay:` line per failing seed (the command that replays it with its trace).
//
//   node --import tsx sim/sweep.ts <raft|raft-host|kv|pg|registry|membership> --from N --count K [--trace]
//
// Target options (each seed's configuration is a function of the seed unless fixed here, so a
// `replay:` line reproduces the run exactly):
//   raft        --nodes 3|5|7 (default 3, 5, 7 by seed)  --profile mixed|leaderChurn (default by seed)
//               --read safe|lease   --broken <name> (a deliberately broken engine, to see checks fire)
//   raft-host   --nodes 3|5 (default by seed)  --broken lyingDisk (a disk that reports writes durable early)
//   kv          --nodes 3|5 (default by seed)  --broken staleReads|lyingDisk; --trace prints the history
//   pg          --nodes N (default 3 or 4 by seed)  --steps N (default 400)
//   registry    --bulk N (names per node registered up front)  --budget BYTES (delta and AE budgets)
//   membership  --nodes N (default 7)
// --trace prints the trace (or the failure in full) of each failing seed; with --count 1 also of
// a passing one. Exit code 1 when a seed failed. A command-line script: it writes to stdout.
import { parseArgs } from 'node:util';
import { runRaftHostSimulation, runRaftSimulation, type RaftSimOptions } from './raft/index.js';
import { runMembershipSeed } from './internode/cluster.js';
import { runKvSimulation } from './kv/index.js';
import { runSeed as runPgSeed } from './pg/index.js';
import { runScenario } from './registry/index.js';

const TARGETS = ['raft', 'raft-host', 'kv', 'pg', 'registry', 'membership'] as const;
type Target = (typeof TARGETS)[number];

const say = (line: string): void => void process.stdout.write(`${line}\n`);

interface Outcome {
  /** Undefined when the seed passed; else what failed, in one line. */
  readonly failure: string | undefined;
  /** Lines printed under --trace. */
  readonly trace: readonly string[];
  /** Target flags that reproduce this seed's configuration. */
  readonly flags: string;
  /** Work done, for the summary (events, steps, registrations…). */
  readonly work: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string', default: '1' },
    count: { type: 'string', default: '100' },
    trace: { type: 'boolean', default: false },
    nodes: { type: 'string' },
    profile: { type: 'string' },
    read: { type: 'string' },
    broken: { type: 'string' },
    steps: { type: 'string' },
    bulk: { type: 'string' },
    budget: { type: 'string' },
    tail: { type: 'string', default: '80' },
  },
});

const chosen = positionals[0] as Target | undefined;
if (chosen === undefined || !TARGETS.includes(chosen)) {
  say(`usage: node --import tsx sim/sweep.ts <${TARGETS.join('|')}> --from N --count K [--trace]`);
  process.exit(2);
}
const target: Target = chosen;
const from = Number(values.from);
const count = Number(values.count);
const tail = Number(values.tail);
const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const flag = (name: string, v: string | number | undefined): string => (v === undefined ? '' : ` --${name} ${v}`);

async function runOne(seed: number, trace: boolean): Promise<Outcome> {
  switch (target) {
    case 'raft': {
      const nodes = num(values.nodes) ?? [3, 5, 7][seed % 3]!;
      const profile = (values.profile ?? (seed % 2 === 0 ? 'mixed' : 'leaderChurn')) as 'mixed' | 'leaderChurn';
      const readMode = (values.read ?? 'safe') as 'safe' | 'lease';
      const options: RaftSimOptions = {
        seed,
        nodes,
        profile,
        churn: profile === 'mixed',
        trace,
        readMode,
        ...(values.broken !== undefined ? { broken: { [values.broken]: true } as RaftSimOptions['broken'] } : {}),
      };
      const r = runRaftSimulation(options);
      return {
        failure: r.ok ? undefined : `${r.violation?.kind}: ${r.violation?.detail}`,
        trace: r.trace.slice(-tail),
        flags: [
          flag('nodes', nodes),
          flag('profile', profile),
          flag('read', readMode),
          flag('broken', values.broken),
        ].join(''),
        work: r.stats.events,
      };
    }
    case 'raft-host': {
      const nodes = num(values.nodes) ?? [3, 5][seed % 2]!;
      const r = await runRaftHostSimulation({ seed, nodes, unsafeLyingDisk: values.broken === 'lyingDisk' });
      return {
        failure: r.violation ?? undefined,
        trace: [JSON.stringify(r.stats)],
        flags: `${flag('nodes', nodes)}${flag('broken', values.broken)}`,
        work: r.stats.proposals,
      };
    }
    case 'kv': {
      const nodes = num(values.nodes) ?? [3, 5][seed % 2]!;
      const r = await runKvSimulation({
        seed,
        nodes,
        unsafeLyingDisk: values.broken === 'lyingDisk',
        unsafeStaleReads: values.broken === 'staleReads',
      });
      return {
        failure: r.violation ?? undefined,
        trace: [JSON.stringify(r.stats), ...r.history.split('\n')],
        flags: `${flag('nodes', nodes)}${flag('broken', values.broken)}`,
        work: r.stats.calls ?? 0,
      };
    }
    case 'pg': {
      const nodes = num(values.nodes) ?? 3 + (seed % 2);
      const steps = num(values.steps) ?? 400;
      const r = runPgSeed(seed, { steps, nodes });
      return {
        failure: r.failure === undefined ? undefined : `step ${r.step}: ${r.failure.split('\n')[0]}`,
        trace: [...(r.failure?.split('\n') ?? []), JSON.stringify(r.counters)],
        flags: `${flag('nodes', nodes)}${flag('steps', steps)}`,
        work: steps,
      };
    }
    case 'registry': {
      const bulk = num(values.bulk);
      const budget = num(values.budget);
      const r = runScenario(seed, {
        ...(bulk !== undefined ? { bulkNamesPerNode: bulk } : {}),
        ...(budget !== undefined ? { budgetBytes: budget } : {}),
      });
      const { violations, ...figures } = r;
      return {
        failure: violations.length === 0 ? undefined : violations[0],
        trace: [...violations, JSON.stringify(figures)],
        flags: `${flag('bulk', bulk)}${flag('budget', budget)}`,
        work: r.registrations,
      };
    }
    case 'membership': {
      const nodes = num(values.nodes) ?? 7;
      const r = await runMembershipSeed({
        seed,
        nodes,
        chaosMs: 60_000,
        settleMs: 25_000,
        lossRate: 0.05,
        maxDelayMs: 120,
      });
      return {
        failure: r.failure,
        trace: r.trace.slice(-tail).map((t) => `${t.at} ${t.text}`),
        flags: flag('nodes', nodes),
        work: r.trace.length,
      };
    }
  }
}

const started = Date.now();
let failures = 0;
let work = 0;
for (let seed = from; seed < from + count; seed++) {
  const r = await runOne(seed, values.trace);
  work += r.work;
  if (r.failure === undefined) {
    if (values.trace && count === 1) for (const line of r.trace) say(line);
    continue;
  }
  failures++;
  say(`FAIL ${target} seed=${seed}: ${r.failure}`);
  if (values.trace) for (const line of r.trace) say(`  ${line}`);
  say(`replay: node --import tsx sim/sweep.ts ${target} --from ${seed} --count 1${r.flags} --trace`);
}
say(`${target}: ${count - failures}/${count} seeds passed (from ${from}); work ${work}; ${Date.now() - started} ms`);
process.exitCode = failures > 0 ? 1 : 0;
