// pg core benchmarks (in-process, no network): join+leave of one pid, members() on groups of
// 1 / 100 / 10 000 members (cached read, and read right after a change), joining 1 000 pids to
// one group. Baseline: the same operations with Erlang/OTP's pg (bench/erlang/pg_bench.erl),
// run in the same process tree when `escript` is installed; skipped cleanly otherwise.
//   npm run bench -- pg            (BENCH_QUICK=1 for a short run)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pid } from '../runtime/pid.js';
import { decode, encode } from '../runtime/codec.js';
import { PgScope } from '../pg/index.js';
import type { BenchOptions } from './run.js';

const here = dirname(fileURLToPath(import.meta.url));

function newScope(): PgScope {
  return new PgScope({ scope: 'bench', node: 'bench', incarnation: 1 });
}

function pids(from: number, count: number): Pid[] {
  return Array.from({ length: count }, (_, i) => new Pid('bench', from + i, 1));
}

function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

function joinLeaveOpsPerSec(iterations: number): number {
  const scope = newScope();
  const [pid] = pids(1, 1) as [Pid];
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      scope.join('jl', pid);
      scope.leave('jl', pid);
    }
  };
  run(Math.min(iterations, 50_000)); // warm-up
  const ns = timeNs(() => run(iterations));
  return Math.round(iterations / (ns / 1e9));
}

function membersNs(size: number, calls: number): { cachedNs: number; afterChangeNs: number } {
  const scope = newScope();
  scope.join('g', pids(1, size));
  const extra = new Pid('bench', size + 1, 1);
  let sink = 0;
  const read = (n: number): void => {
    for (let i = 0; i < n; i++) sink += scope.members('g').length;
  };
  read(Math.min(calls, 10_000));
  const cached = timeNs(() => read(calls)) / calls;
  // A read right after a change of the group rebuilds its array: O(size of that group).
  const changes = Math.max(10, Math.floor(calls / Math.max(1, size)));
  const changed = (n: number): void => {
    for (let i = 0; i < n; i++) {
      scope.join('g', extra);
      sink += scope.members('g').length;
      scope.leave('g', extra);
      sink += scope.members('g').length;
    }
  };
  changed(Math.min(changes, 100));
  const afterChange = timeNs(() => changed(changes)) / (changes * 2);
  if (sink < 0) throw new Error('unreachable');
  return { cachedNs: round(cached), afterChangeNs: round(afterChange) };
}

function join1000Ms(mode: 'list' | 'each', rounds: number): number {
  const scope = newScope();
  const list = pids(1, 1000);
  const once = (r: number): number => {
    const group = `many-${mode}-${r}`;
    const ns = timeNs(() => {
      if (mode === 'list') scope.join(group, list);
      else for (const pid of list) scope.join(group, pid);
    });
    if (scope.members(group).length !== 1000) throw new Error('join1000 did not join 1000');
    scope.leave(group, list);
    return ns;
  };
  for (let r = 0; r < 5; r++) once(-r - 1);
  let total = 0;
  for (let r = 0; r < rounds; r++) total += once(r);
  return round(total / rounds / 1e6);
}

/**
 * In-process propagation through the core protocol: node a joins `count` pids (one call each),
 * flushes one delta, and node b decodes and applies it (msgpack via runtime/codec included).
 */
function propagateOpsPerSec(count: number): number {
  const a = new PgScope({ scope: 'bench', node: 'a', incarnation: 1 });
  const b = new PgScope({ scope: 'bench', node: 'b', incarnation: 1 });
  a.peerUp('b', 1);
  b.peerUp('a', 1);
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        for (const send of from.takeOutputs().sends) {
          moved = true;
          to.receive(from.node, decode(encode(send.message)));
        }
      }
    }
  };
  pump();
  const list = Array.from({ length: count }, (_, i) => new Pid('a', i + 1, 1));
  const ns = timeNs(() => {
    for (const pid of list) a.join('g', pid);
    pump();
  });
  if (b.members('g').length !== count) throw new Error('propagation lost members');
  return Math.round(count / (ns / 1e9));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

interface ErlangFigures {
  readonly otp: string;
  readonly joinLeaveOpsPerSec: number;
  readonly members: Record<string, number>;
  readonly join1000ListMs: number;
  readonly join1000EachMs: number;
}

function runErlang(quick: boolean): ErlangFigures | { skipped: string } {
  const script = join(here, 'erlang', 'pg_bench.erl');
  const result = spawnSync('escript', quick ? [script, 'quick'] : [script], { encoding: 'utf8', timeout: 300_000 });
  if (result.error !== undefined)
    return {
      skipped:
        `escript not available (${(result.error as NodeJS.ErrnoException).code ?? result.error.message}); ` +
        'apt-get install erlang-base',
    };
  if (result.status !== 0) return { skipped: `escript failed (${result.status}): ${result.stderr.slice(0, 300)}` };
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ErlangFigures;
  } catch {
    return { skipped: `unreadable escript output: ${line.slice(0, 200)}` };
  }
}

export default async function pgBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const scale = opts.quick ? 1 : 5;
  propagateOpsPerSec(5_000); // warm-up of the codec and the receive path
  const troupe = {
    joinLeaveOpsPerSec: joinLeaveOpsPerSec(200_000 * scale),
    members: {
      '1': membersNs(1, 1_000_000 * scale),
      '100': membersNs(100, 1_000_000 * scale),
      '10000': membersNs(10_000, 1_000_000 * scale),
    },
    join1000ListMs: join1000Ms('list', 20 * scale),
    join1000EachMs: join1000Ms('each', 20 * scale),
    // No Erlang baseline here: cross-node figures over real sockets come with the host.
    propagateJoinsOpsPerSec: propagateOpsPerSec(20_000 * scale),
  };
  const erlang = runErlang(opts.quick);
  const ratios =
    'skipped' in erlang
      ? undefined
      : {
          // > 1 means troupe is faster.
          joinLeave: round(troupe.joinLeaveOpsPerSec / erlang.joinLeaveOpsPerSec),
          members1: round((erlang.members['1'] ?? NaN) / troupe.members['1'].cachedNs),
          members100: round((erlang.members['100'] ?? NaN) / troupe.members['100'].cachedNs),
          members10000: round((erlang.members['10000'] ?? NaN) / troupe.members['10000'].cachedNs),
          join1000List: round(erlang.join1000ListMs / troupe.join1000ListMs),
          join1000Each: round(erlang.join1000EachMs / troupe.join1000EachMs),
        };
  return {
    note:
      'core only, in-process; members figures are ns per call; ' +
      'ratios > 1 mean troupe is faster than Erlang pg on this machine',
    troupe,
    erlang,
    ratios,
  };
}
