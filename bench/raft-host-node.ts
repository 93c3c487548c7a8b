// One node process of the raft-host benchmark: a Cluster with the Raft host on LMDB (fsync on)
// and a no-op tenant. Reads JSON commands on stdin, answers JSON lines on stdout.
import { createInterface } from 'node:readline';
import { Cluster, type Tenant } from '../index.js';
import { runLoad } from './child.js';

const [name, dataDir, port, seedList, votersList] = process.argv.slice(2) as [string, string, string, string, string];
class Noop implements Tenant<number> {
  apply(_command: Uint8Array, index: number) {
    return index;
  }
  snapshot() {
    return new Uint8Array(0);
  }
  restore() {}
}
const cluster = await Cluster.start({
  name,
  secret: 'raft-host-bench-secret-0123456789',
  listen: `127.0.0.1:${port}`,
  logger: false,
  seeds: seedList.split(','),
  raft: { dataDir, voters: votersList.split(',') },
});
const group = await cluster.addGroup({ id: 'bench', tenant: new Noop() });
// Up means connected to every voter: a restarted node counts only once it has rejoined.
await cluster.ready({ nodes: votersList.split(','), timeout: 60_000 });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
say({ up: name });
const command = new Uint8Array(64).fill(7);

const run = (inflight: number, count: number) =>
  runLoad(inflight, count, () => group.propose(command, { timeout: 10_000 }));

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; inflight?: number; count?: number; id: number };
  if (cmd.op === 'role') {
    say({ id: cmd.id, role: group.status().role, leader: group.status().leader });
  } else if (cmd.op === 'run') {
    const before = { ...cluster.raft.counters };
    const r = await run(cmd.inflight!, cmd.count!);
    const c = cluster.raft.counters;
    const synced = c.persists - c.persistsUnsynced - (before.persists - before.persistsUnsynced);
    say({
      id: cmd.id,
      ...r,
      entriesPerFsync: synced > 0 ? (c.entriesPersisted - before.entriesPersisted) / synced : 0,
      unsyncedPersists: c.persistsUnsynced - before.persistsUnsynced,
    });
  } else if (cmd.op === 'propose-until-ok') {
    const t0 = performance.now();
    for (;;) {
      try {
        await group.propose(command, { timeout: 1_000 });
        break;
      } catch {
        /* keep trying until a leader commits it */
      }
    }
    say({ id: cmd.id, ms: performance.now() - t0 });
  }
}
