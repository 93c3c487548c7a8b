// One node process of the Raft crash test: a Cluster with the Raft host on LMDB (fsync on) and
// a tenant that records the ids it applies, in order. JSON commands on stdin, JSON lines out:
// {"op":"load","prefix":"a"} proposes ids a1, a2, … (4 in flight) and prints {"ack":id} for
// each one acknowledged, {"indeterminate":id} for an unknown outcome (never retried);
// {"op":"ids"} answers {"ids":[…]} from a linearizable read.
import { createInterface } from 'node:readline';
import { pack, unpack } from 'msgpackr';
import { Cluster, type Tenant } from '../../index.js';

const [name, dataDir, port, seeds, voters] = process.argv.slice(2) as [string, string, string, string, string];

class IdLog implements Tenant<number> {
  ids: string[] = [];
  apply(command: Uint8Array): number {
    this.ids.push(unpack(command) as string);
    return this.ids.length;
  }
  snapshot(): Uint8Array {
    return pack(this.ids);
  }
  restore(image: Uint8Array): void {
    this.ids = unpack(image) as string[];
  }
}

const cluster = await Cluster.start({
  name,
  secret: 'raft-crash-test-secret-0123456789',
  listen: `127.0.0.1:${port}`,
  seeds: seeds.split(','),
  logger: false,
  raft: { dataDir, voters: voters.split(',') },
});
const group = await cluster.addGroup({ id: 'ids', tenant: new IdLog() });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
await cluster.ready({ nodes: voters.split(','), timeout: 60_000 });
say({ up: name });

let loading = false;
let loader: Promise<void> = Promise.resolve();
async function load(prefix: string): Promise<void> {
  let next = 0;
  loading = true;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (loading) {
        const id = `${prefix}${++next}`;
        try {
          await group.propose(pack(id), { timeout: 2_000 });
          say({ ack: id });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'ERR_RAFT_INDETERMINATE') say({ indeterminate: id });
          // A plain failure was never appended: the id is simply not used again.
          else {
            say({ failed: id, code });
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
    }),
  );
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; prefix?: string };
  if (cmd.op === 'load') loader = load(cmd.prefix!);
  else if (cmd.op === 'stop-load') {
    loading = false;
    await loader; // every proposal in flight has its outcome printed before this line
    say({ stopped: name });
  } else if (cmd.op === 'ids') {
    const r = await group.read((t) => [...t.ids], { timeout: 20_000 });
    say({ ids: r.value });
  } else if (cmd.op === 'role') say({ role: group.status().role });
}
