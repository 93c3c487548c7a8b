// The client process of the KV benchmark, the same for both systems: 16-byte keys, 256-byte
// values, phases driven by JSON commands. `etcd`: the etcd3 npm client with retries off.
// `troupe`: a troupe node that joins the cluster (a learner of the KV group: it votes on
// nothing) and calls `cluster.kv` — its writes are forwarded to the leader, its linearizable
// reads confirmed by the leader, its local reads served by its own replica.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { Cluster } from '../index.js';
import { runLoad } from './child.js';

const [system, endpoints, voters] = process.argv.slice(2) as ['etcd' | 'troupe', string, string];
const KEYS = 10_000;
const key = (i: number) => `key-${String(i % KEYS).padStart(12, '0')}`; // 16 bytes
const value = 'v'.repeat(256);

interface Client {
  put(k: string): Promise<unknown>;
  /** A put that gives up after `ms` (failover: a call to a dead member must not hang). */
  putWithin(k: string, ms: number): Promise<unknown>;
  get(k: string, local: boolean): Promise<unknown>;
  close(): Promise<void>;
}

async function connect(): Promise<Client> {
  if (system === 'etcd') {
    const etcd = new Etcd3({
      hosts: endpoints.split(',').map((e) => `http://${e}`),
      faultHandling: { host: () => noop, global: noop },
    });
    return {
      put: (k) => etcd.put(k).value(value).exec(),
      putWithin: (k, ms) =>
        etcd
          .put(k)
          .value(value)
          .options({ deadline: Date.now() + ms })
          .exec(),
      get: (k, local) => etcd.get(k).serializable(local).string(),
      close: async () => etcd.close(),
    };
  }
  const cluster = await Cluster.start({
    name: 'client',
    secret: 'kv-bench-secret-0123456789abcdef',
    listen: '127.0.0.1:0',
    seeds: endpoints.split(','),
    logger: false,
    raft: { dataDir: mkdtempSync(join(tmpdir(), 'troupe-kv-client-')), voters: voters.split(',') },
  });
  await cluster.ready({ nodes: 4, timeout: 60_000 });
  const space = cluster.kv.space('bench');
  await space.put('warm', 'up', { timeout: 30_000 });
  // Wait until this node's replica has caught up (it serves the local reads).
  while ((await space.get('warm', { consistency: 'local' })).kv === null) await new Promise((r) => setTimeout(r, 50));
  return {
    put: (k) => space.put(k, value, { timeout: 10_000 }),
    putWithin: (k, ms) => space.put(k, value, { timeout: ms }),
    get: (k, local) => space.get(k, { consistency: local ? 'local' : 'linearizable', timeout: 10_000 }),
    close: async () => void (await cluster.stop()),
  };
}

const client = await connect();
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
say({ up: system });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; id: number; inflight?: number; count?: number };
  if (cmd.op === 'put' || cmd.op === 'get' || cmd.op === 'get-local') {
    const local = cmd.op === 'get-local';
    const r = await runLoad(cmd.inflight!, cmd.count!, (i) =>
      cmd.op === 'put' ? client.put(key(i)) : client.get(key(i), local),
    );
    say({ id: cmd.id, ...r });
  } else if (cmd.op === 'put-until-ok') {
    const t0 = performance.now();
    for (let i = 0; ; i++) {
      try {
        await client.putWithin(key(i), 500);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    say({ id: cmd.id, ms: performance.now() - t0 });
  } else if (cmd.op === 'close') {
    await client.close();
    say({ id: cmd.id, closed: true });
    break;
  }
}
process.exit(0);
