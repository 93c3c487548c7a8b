// Benchmarks of the CRDT eventual registry core (pure: no sockets).
//   npm run bench -- crdt            (BENCH_QUICK=1 for a smoke run)
// - registrations/s on one replica, beside a plain Map.set baseline measured in the same run;
// - bytes on the wire per registration (one alone, and amortized in a full delta batch);
// - 100k names registered across 5 replicas in the simulation: virtual and wall time to converge;
// - heap bytes per name per replica at 100k names (in a child process with --expose-gc), beside
//   a plain Map<string, Pid> baseline.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchModule } from './run.js';
import { EventualRegistryCore } from '../registry/index.js';
import { decode, encode } from '../runtime/codec.js';
import { Pid } from '../runtime/pid.js';
import { seededRandom } from '../runtime/base.js';
import { SimCluster } from '../sim/registry/index.js';

const MEMORY_CHILD_FLAG = '--crdt-memory-child';

function registrationsPerSecond(n: number): Record<string, unknown> {
  const names = Array.from({ length: n }, (_, i) => `service-${i}`);
  const pids = Array.from({ length: n }, (_, i) => new Pid('node-a', i + 1, 1));
  // Baseline: a plain map of name -> pid (what a local-only registry costs).
  let t = performance.now();
  const map = new Map<string, Pid>();
  for (let i = 0; i < n; i++) map.set(names[i] as string, pids[i] as Pid);
  const baselineMs = performance.now() - t;
  const core = new EventualRegistryCore({
    node: 'node-a',
    incarnation: 1,
    random: seededRandom(1),
    maxNamesPerNode: n,
  });
  core.nodeUp('node-b', 1, 0);
  t = performance.now();
  for (let i = 0; i < n; i++) core.register(names[i] as string, pids[i] as Pid);
  const registerMs = performance.now() - t;
  // Draining the outbox into delta messages and encoding them is part of a registration's cost.
  t = performance.now();
  let bytes = 0;
  let messages = 0;
  for (let now = 1; core.outboxSize > 0; now++) {
    for (const o of core.tick(now)) {
      if (o.type === 'broadcast') {
        bytes += encode(o.message).length;
        messages++;
      }
    }
  }
  const drainMs = performance.now() - t;
  return {
    names: n,
    registrationsPerSecond: Math.round(n / (registerMs / 1000)),
    registrationsPerSecondWithBroadcast: Math.round(n / ((registerMs + drainMs) / 1000)),
    baselineMapSetPerSecond: Math.round(n / (baselineMs / 1000)),
    ratioToBaseline: Number((registerMs / baselineMs).toFixed(1)),
    deltaMessages: messages,
    wireBytesPerRegistrationInBatch: Number((bytes / n).toFixed(1)),
  };
}

function singleRegistrationBytes(): Record<string, unknown> {
  const core = new EventualRegistryCore({ node: 'node-a', incarnation: 1, random: seededRandom(1) });
  core.nodeUp('node-b', 1, 0);
  core.register('service-12345', new Pid('node-a', 4242, 1));
  const msg = core.tick(1).find((o) => o.type === 'broadcast');
  if (msg === undefined) throw new Error('no delta');
  return { name: 'service-12345', node: 'node-a', wireBytesOneRegistrationAlone: encode(msg.message).length };
}

function convergence(total: number): Record<string, unknown> {
  const sim = new SimCluster({ seed: 1, nodes: 5, antiEntropyIntervalMs: 1000, nodeDownGraceMs: 5000 });
  const perNode = Math.floor(total / sim.nodes.length);
  sim.run(50); // the nodes meet (node-up anti-entropy) before anyone registers
  const bytesBefore = sim.bytesSent;
  const messagesBefore = sim.messagesSent;
  const wallStart = performance.now();
  for (const node of sim.nodes) {
    for (let i = 0; i < perNode; i++) sim.register(node, `${node.name}-svc-${i}`, sim.spawn(node));
  }
  const lastRegistration = sim.now;
  const registeredWallMs = performance.now() - wallStart;
  const t = performance.now();
  while (!sim.converged() || (sim.live[0]?.core.size ?? 0) < perNode * sim.nodes.length) sim.step();
  return {
    names: perNode * sim.nodes.length,
    replicas: sim.nodes.length,
    virtualMsToConvergeAfterLastRegistration: sim.now - lastRegistration,
    gossipIntervalMs: sim.stepMs,
    wallMsRegistering: Math.round(registeredWallMs),
    wallMsToConverge: Math.round(performance.now() - t),
    messages: sim.messagesSent - messagesBefore,
    wireBytesTotal: sim.bytesSent - bytesBefore,
    wireBytesPerNamePerReceivingReplica: Number(
      ((sim.bytesSent - bytesBefore) / (perNode * sim.nodes.length * (sim.nodes.length - 1))).toFixed(1),
    ),
  };
}

/** Runs in a child with --expose-gc: heap per name of one replica holding `total` names. */
function memoryChild(total: number): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return { error: 'no global.gc' };
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  // Five owner nodes produce their deltas; the replica under test only ever sees wire bytes.
  const owners = 5;
  const messages: { from: string; bytes: Buffer }[] = [];
  for (let o = 0; o < owners; o++) {
    const node = `node-${o}`;
    const src = new EventualRegistryCore({ node, incarnation: 1, random: seededRandom(o), maxNamesPerNode: total });
    src.nodeUp('replica', 1, 0);
    for (let i = 0; i < total / owners; i++) src.register(`${node}-service-${i}`, new Pid(node, i + 1, 1));
    for (let now = 1; src.outboxSize > 0; now++)
      for (const out of src.tick(now))
        if (out.type === 'broadcast') messages.push({ from: node, bytes: encode(out.message) });
  }
  const before = heap();
  let replica: EventualRegistryCore | undefined = new EventualRegistryCore({
    node: 'replica',
    incarnation: 1,
    random: seededRandom(9),
  });
  for (let o = 0; o < owners; o++) replica.nodeUp(`node-${o}`, 1, 0);
  for (const m of messages) replica.receive(m.from, decode(m.bytes));
  const after = heap();
  const names = replica.size;
  replica = undefined;
  // An owner replica: the same count of names held by its own processes (extra own-claim index).
  const ownPids = Array.from({ length: total }, (_, i) => new Pid('owner', i + 1, 1));
  const ownNames = Array.from({ length: total }, (_, i) => `owner-service-${i}`);
  const beforeOwn = heap();
  let owner: EventualRegistryCore | undefined = new EventualRegistryCore({
    node: 'owner',
    incarnation: 1,
    random: seededRandom(3),
    maxNamesPerNode: total,
  });
  for (let i = 0; i < total; i++) owner.register(ownNames[i] as string, ownPids[i] as Pid);
  owner.tick(1); // no peer: the outbox is emptied, as after a broadcast
  const afterOwn = heap();
  const ownCount = owner.size;
  owner = undefined;
  // Baseline: a plain Map<string, Pid> of the same names (decoded fresh, like the replica's).
  const beforeMap = heap();
  let map: Map<string, Pid> | undefined = new Map();
  for (let i = 0; i < total; i++) map.set(`node-0-service-${i}`, new Pid('node-0', i + 1, 1));
  const afterMap = heap();
  const mapCount = map.size;
  map = undefined;
  return {
    names,
    bytesPerNameRemoteClaims: Math.round((after - before) / names),
    bytesPerNameOwnClaims: Math.round((afterOwn - beforeOwn) / ownCount),
    baselinePlainMapBytesPerName: Math.round((afterMap - beforeMap) / mapCount),
    note:
      'remote: names and pids decoded from the wire, included; ' +
      'own: pids allocated outside the measured window (a runtime holds them anyway)',
  };
}

function memory(total: number): Record<string, unknown> {
  const file = fileURLToPath(import.meta.url);
  try {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', file, MEMORY_CHILD_FLAG, String(total)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const last = out.trim().split('\n').at(-1) ?? '{}';
    return JSON.parse(last) as Record<string, unknown>;
  } catch (err) {
    return { error: `memory child failed: ${String(err)}` };
  }
}

const bench: BenchModule = async (opts) => {
  const n = opts.quick ? 20_000 : 100_000;
  return {
    registrations: registrationsPerSecond(n),
    wire: singleRegistrationBytes(),
    convergenceSim: convergence(n),
    memory: memory(n),
    aimMemoryBytesPerName: 200,
  };
};

export default bench;

if (process.argv.includes(MEMORY_CHILD_FLAG)) {
  const total = Number(process.argv[process.argv.indexOf(MEMORY_CHILD_FLAG) + 1] ?? 100_000);
  console.log(JSON.stringify(memoryChild(total)));
}
