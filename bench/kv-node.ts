// One troupe node of the KV benchmark: a Cluster with the Raft host on LMDB (fsync on) running
// the KV store. It serves no load itself; it answers `role` and `counters` for the benchmark.
import { createInterface } from 'node:readline';
import { Cluster } from '../index.js';

const [name, dataDir, port, seeds, voters] = process.argv.slice(2) as [string, string, string, string, string];
const cluster = await Cluster.start({
  name,
  secret: 'kv-bench-secret-0123456789abcdef',
  listen: `127.0.0.1:${port}`,
  seeds: seeds.split(','),
  logger: false,
  raft: { dataDir, voters: voters.split(',') },
});
await cluster.ready({ nodes: voters.split(','), timeout: 60_000 });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
say({ up: name });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; id: number };
  const group = await cluster.kv.group();
  if (cmd.op === 'role') say({ id: cmd.id, role: group.status().role });
  else if (cmd.op === 'counters') say({ id: cmd.id, ...cluster.raft.counters });
}
