// The KV store beside etcd, in the same run: a 3-member etcd 3.4 and a 3-node troupe cluster on
// loopback, both with fresh data directories and fsync on, each driven by a separate client
// process with the same method (bench/kv-client.ts: 16-byte keys, 256-byte values). Phases,
// alternating between the two: sequential put, put at 64 in flight, linearizable get and
// local/serializable get at 64 in flight, then failover (kill -9 the leader → the next
// successful put). Without `etcd` on the PATH only troupe runs (install Debian's etcd-server).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JsonChild, freePort, type Reply } from './child.js';
import type { BenchOptions } from './run.js';

const HERE = import.meta.dirname;
const MEMBERS = ['a', 'b', 'c'];

interface Phase extends Reply {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

interface System {
  readonly name: 'etcd' | 'troupe';
  client: JsonChild;
  leader(): Promise<number>;
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  /** Entries per fsync on the leader since the last call (null where not measurable). */
  entriesPerFsync(): Promise<number | null>;
  stop(): Promise<void>;
}

function hasEtcd(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function metrics(clientUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${clientUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [k, v] = line.split(' ');
    if (k !== undefined && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

async function startEtcd(dir: string): Promise<System> {
  const client = await Promise.all(MEMBERS.map(() => freePort()));
  const peer = await Promise.all(MEMBERS.map(() => freePort()));
  const initial = MEMBERS.map((m, i) => `${m}=http://127.0.0.1:${peer[i]}`).join(',');
  const procs: ChildProcess[] = [];
  const url = (i: number) => `http://127.0.0.1:${client[i]}`;
  const start = (i: number) => {
    procs[i] = spawn(
      'etcd',
      [
        `--name=${MEMBERS[i]}`,
        `--data-dir=${join(dir, MEMBERS[i]!)}`,
        `--listen-client-urls=${url(i)}`,
        `--advertise-client-urls=${url(i)}`,
        `--listen-peer-urls=http://127.0.0.1:${peer[i]}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer[i]}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-token=troupe-bench',
        '--initial-cluster-state=new',
      ],
      { stdio: 'ignore' },
    );
  };
  MEMBERS.forEach((_, i) => start(i));
  const endpoints = client.map((p) => `127.0.0.1:${p}`).join(',');
  const c = new JsonChild('etcd client', resolve(HERE, 'kv-client.ts'), ['etcd', endpoints, '-']);
  await c.up;
  await c.ask({ op: 'put-until-ok' });
  let last: { fsyncs: number; committed: number } | null = null;
  const leader = async (): Promise<number> => {
    for (;;) {
      for (let i = 0; i < MEMBERS.length; i++) {
        try {
          if ((await metrics(url(i))).get('etcd_server_is_leader') === 1) return i;
        } catch {
          /* down */
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    name: 'etcd',
    client: c,
    leader,
    kill: async (i) => {
      const p = procs[i]!;
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    },
    restart: async (i) => {
      start(i);
      for (;;) {
        try {
          if ((await metrics(url(i))).has('etcd_server_is_leader')) return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    entriesPerFsync: async () => {
      const m = await metrics(url(await leader()));
      const now = {
        fsyncs: m.get('etcd_disk_wal_fsync_duration_seconds_count') ?? 0,
        committed: m.get('etcd_server_proposals_committed_total') ?? 0,
      };
      const before = last;
      last = now;
      if (before === null || now.fsyncs === before.fsyncs) return null;
      return (now.committed - before.committed) / (now.fsyncs - before.fsyncs);
    },
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
      await c.kill();
    },
  };
}

async function startTroupe(dir: string): Promise<System> {
  const ports = await Promise.all(MEMBERS.map(() => freePort()));
  const others = (i: number) => ports.flatMap((p, j) => (j === i ? [] : [`127.0.0.1:${p}`])).join(',');
  const nodes: JsonChild[] = [];
  const start = (i: number) => {
    nodes[i] = new JsonChild(MEMBERS[i]!, resolve(HERE, 'kv-node.ts'), [
      MEMBERS[i]!,
      join(dir, MEMBERS[i]!),
      String(ports[i]),
      others(i),
      MEMBERS.join(','),
    ]);
    return nodes[i]!.up;
  };
  await Promise.all(MEMBERS.map((_, i) => start(i)));
  const endpoints = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const c = new JsonChild('troupe client', resolve(HERE, 'kv-client.ts'), ['troupe', endpoints, MEMBERS.join(',')]);
  await c.up;
  const leader = async (): Promise<number> => {
    for (;;) {
      for (let i = 0; i < nodes.length; i++) {
        const r = await nodes[i]!.ask<{ role: string }>({ op: 'role' });
        if (r.role === 'leader') return i;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let last: { persists: number; unsynced: number; entries: number } | null = null;
  return {
    name: 'troupe',
    client: c,
    leader,
    kill: (i) => nodes[i]!.kill(),
    restart: async (i) => void (await start(i)),
    entriesPerFsync: async () => {
      const r = await nodes[await leader()]!.ask<{
        persists: number;
        persistsUnsynced: number;
        entriesPersisted: number;
      }>({ op: 'counters' });
      const now = { persists: r.persists, unsynced: r.persistsUnsynced, entries: r.entriesPersisted };
      const before = last;
      last = now;
      if (before === null) return null;
      const synced = now.persists - now.unsynced - (before.persists - before.unsynced);
      return synced > 0 ? (now.entries - before.entries) / synced : null;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      await c.kill();
    },
  };
}

export default async function kvBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-kv-bench-'));
  const systems: System[] = [];
  try {
    const withEtcd = hasEtcd();
    if (withEtcd) systems.push(await startEtcd(join(dir, 'etcd')));
    else process.stderr.write('kv bench: etcd not found; install it (apt-get install etcd-server) for the baseline\n');
    systems.push(await startTroupe(join(dir, 'troupe')));
    const n = opts.quick ? 1 : 4;
    const phases: [string, string, number, number][] = [
      ['sequentialPut', 'put', 1, 300 * n],
      ['put64', 'put', 64, 3_000 * n],
      ['get64', 'get', 64, 5_000 * n],
      ['localGet64', 'get-local', 64, 5_000 * n],
    ];
    const results: Record<string, Record<string, unknown>> = {};
    for (const s of systems) results[s.name] = {};
    for (const [label, op, inflight, count] of phases) {
      for (const s of systems) {
        if (op === 'put' && inflight > 1) await s.entriesPerFsync();
        const r = await s.client.ask<Phase>({ op, inflight, count });
        const { id: _id, ...figures } = r;
        results[s.name]![label] = {
          ...figures,
          ...(op === 'put' && inflight > 1 ? { entriesPerFsync: await s.entriesPerFsync() } : {}),
        };
      }
    }
    const trials = Number(process.env.BENCH_TRIALS ?? (opts.quick ? 3 : 9));
    for (const s of systems) {
      const times: number[] = [];
      for (let t = 0; t < trials; t++) {
        const at = await s.leader();
        const t0 = performance.now();
        await s.kill(at);
        await s.client.ask({ op: 'put-until-ok' });
        times.push(performance.now() - t0);
        await s.restart(at);
        await s.client.ask({ op: 'put-until-ok' });
      }
      times.sort((x, y) => x - y);
      results[s.name]!.failoverMs = {
        trials,
        median: times[Math.floor(trials / 2)],
        min: times[0],
        max: times[trials - 1],
      };
    }
    const ratio = (label: string, field: 'perSec' | 'p50Ms' | 'p99Ms') => {
      const e = (results.etcd?.[label] as Phase | undefined)?.[field];
      const t = (results.troupe?.[label] as Phase | undefined)?.[field];
      return e !== undefined && t !== undefined && e > 0 ? t / e : null;
    };
    const fo = (name: string) => (results[name]?.failoverMs as { median: number } | undefined)?.median;
    return {
      what: '3 members each on loopback, fsync on, one client process per system, 16 B keys, 256 B values',
      ...results,
      ratios: withEtcd
        ? {
            note: 'troupe / etcd; higher is better for perSec, lower for latencies',
            put64PerSec: ratio('put64', 'perSec'),
            put64P99: ratio('put64', 'p99Ms'),
            sequentialPutP50: ratio('sequentialPut', 'p50Ms'),
            get64PerSec: ratio('get64', 'perSec'),
            localGet64PerSec: ratio('localGet64', 'perSec'),
            failoverMedian: (fo('troupe') ?? 0) / (fo('etcd') ?? 1),
          }
        : null,
    };
  } finally {
    for (const s of systems) await s.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
