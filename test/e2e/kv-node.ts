// One node process of the KV crash test: a Cluster with the KV store on LMDB (fsync on) and
// two clients on it that put, get and cas three keys. Each operation is printed twice, as the
// history format wants it split across a crash: {"inv": …} before the call, {"end": …} after
// (a node killed in between leaves the invocation alone: the test records it as indeterminate).
// Times are wall-clock nanoseconds since the test's epoch, shared by every process.
import { createInterface } from 'node:readline';
import { Cluster } from '../../index.js';

const [name, dataDir, port, seeds, voters, prefix, epoch] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
const cluster = await Cluster.start({
  name,
  secret: 'kv-crash-test-secret-0123456789',
  listen: `127.0.0.1:${port}`,
  seeds: seeds.split(','),
  logger: false,
  raft: { dataDir, voters: voters.split(',') },
});
await cluster.ready({ nodes: voters.split(','), timeout: 60_000 });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const since = Number(epoch); // the test's start, so that nanoseconds stay below 2^53
const now = () => Math.round((performance.timeOrigin + performance.now() - since) * 1e6);
say({ up: name });

const space = cluster.kv.space('crash');
const keys = ['x', 'y', 'z'];
let running = true;
let seq = 0;

async function client(lane: number): Promise<void> {
  const who = `${prefix}${lane}`;
  for (let i = 0; running; i++) {
    const key = keys[(i * 7 + lane) % keys.length]!;
    const id = `${who}:${++seq}`;
    const kind = i % 3;
    const value = `${who}-${i}`;
    const expectValue = `${who}-${i - 3}`;
    const request =
      kind === 0
        ? { op: 'put', key, value }
        : kind === 1
          ? { op: 'get', key }
          : { op: 'cas', key, expect: expectValue, value };
    say({ inv: { id, client: who, ...request, call: now() } });
    try {
      if (kind === 0) {
        await space.put(key, value, { timeout: 3_000 });
        say({ end: { id, ret: now() } });
      } else if (kind === 1) {
        const r = await space.get(key, { timeout: 3_000 });
        say({ end: { id, ret: now(), read: r.kv === null ? null : String(r.kv.value) } });
      } else {
        const r = await space.cas(key, { value: expectValue }, value, { timeout: 3_000 });
        say({ end: { id, ret: now(), ok: r.ok } });
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      // Only an indeterminate outcome may have taken effect: the host promises every other
      // error was never appended, and the checker holds it to that.
      say({ end: { id, ret: now(), error: code === 'ERR_RAFT_INDETERMINATE' ? 'timeout' : code } });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

let clients: Promise<void> = Promise.resolve();
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string };
  if (cmd.op === 'load') clients = Promise.all([client(0), client(1)]).then(() => {});
  else if (cmd.op === 'stop-load') {
    running = false;
    await clients;
    say({ stopped: name });
  } else if (cmd.op === 'role') say({ role: (await cluster.kv.group()).status().role });
}
