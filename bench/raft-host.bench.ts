// The Raft host on real processes: 3 nodes on loopback, LMDB with fsync on, a no-op tenant.
// Proposals/s and p50/p99 at 1 and 64 in flight from the leader, entries per fsync, failover
// (kill -9 the leader → next successful proposal from a survivor), and the disk's own fsync
// latency measured in the same run (an LMDB transaction awaited until flushed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LmdbLogStore } from '../raft/store/index.js';
import { JsonChild, freePort } from './child.js';
import type { BenchOptions } from './run.js';

/** A node's JSON answer (fields depend on the command). */
type Reply = Record<string, number & string> & {
  role: string;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
};

type Proc = JsonChild;
const NODE = resolve(import.meta.dirname, 'raft-host-node.ts');

/** Every node is seeded with the addresses of the others, as a deployment would be. */
function startNode(name: string, dir: string, port: number, seeds: string[], voters: string[]): Proc {
  return new JsonChild(name, NODE, [name, join(dir, name), String(port), seeds.join(','), voters.join(',')]);
}

function ask(p: Proc, cmd: Record<string, unknown>): Promise<Reply> {
  return p.ask<Reply>(cmd);
}

async function leaderOf(procs: Proc[]): Promise<Proc> {
  for (;;) {
    for (const p of procs) if ((await ask(p, { op: 'role' })).role === 'leader') return p;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function diskFsyncMs(dir: string, n: number): Promise<number> {
  const store = LmdbLogStore.open({ dir: join(dir, 'fsync-probe'), nodeId: 'probe' });
  const times: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t = performance.now();
    await store.persist([
      {
        group: 'p',
        write: { id: i, hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [] },
      },
    ]);
    times.push(performance.now() - t);
  }
  await store.close();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export default async function raftHostBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-raft-bench-'));
  const voters = ['a', 'b', 'c'];
  const ports = await Promise.all(voters.map(() => freePort()));
  const addr = (i: number) => `127.0.0.1:${ports[i]}`;
  const others = (i: number) => voters.flatMap((_, j) => (j === i ? [] : [addr(j)]));
  const procs = voters.map((v, i) => startNode(v, dir, ports[i]!, others(i), voters));
  try {
    await Promise.all(procs.map((p) => p.up));
    let leader = await leaderOf(procs);
    const sequential = await ask(leader, { op: 'run', inflight: 1, count: opts.quick ? 300 : 1_000 });
    const pipelined = await ask(leader, { op: 'run', inflight: 64, count: opts.quick ? 3_000 : 10_000 });
    const fsyncP50Ms = await diskFsyncMs(dir, opts.quick ? 50 : 300);
    const trials = Number(process.env.BENCH_TRIALS ?? (opts.quick ? 3 : 9));
    const failover: number[] = [];
    for (let t = 0; t < trials; t++) {
      leader = await leaderOf(procs);
      const at = procs.indexOf(leader);
      const survivor = procs.find((p) => p !== leader)!;
      const t0 = performance.now();
      leader.child.kill('SIGKILL');
      await ask(survivor, { op: 'propose-until-ok' });
      failover.push(performance.now() - t0);
      // Restart the killed node from its data directory; it answers once it has rejoined.
      procs[at] = startNode(leader.name, dir, ports[at]!, others(at), voters);
      await procs[at]!.up;
    }
    failover.sort((a, b) => a - b);
    return {
      what: '3 node processes on loopback, LMDB fsync on, no-op tenant, 64-byte commands, proposals from the leader',
      sequential,
      pipelined64: pipelined,
      failoverMs: {
        trials,
        median: failover[Math.floor(trials / 2)],
        min: failover[0],
        max: failover[trials - 1],
      },
      diskFsyncP50Ms: fsyncP50Ms,
      reference: {
        note: 'etcd 3.4, 3 members, fsync on, measured on this machine when the issue was filed (not in this run)',
        etcdPutsPerSec64: 5338,
        etcdSequentialP50Ms: 1.34,
        etcdFailoverMedianMs: 1270,
      },
      ratios: {
        throughput64VsEtcd: pipelined.perSec / 5338,
        sequentialP50VsEtcd: sequential.p50Ms / 1.34,
        failoverVsEtcd: (failover[Math.floor(trials / 2)] ?? 0) / 1270,
      },
    };
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
