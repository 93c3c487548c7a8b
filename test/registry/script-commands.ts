// The commands of the eventual registry's scripted scenarios (test/registry/testdata/*.txt):
// real EventualRegistryCore replicas, one FIFO queue per directed link (messages encoded as on
// the wire), membership told by hand, and time moved by hand. Pids are named by aliases.
//
//   replicas <a,b,...> [grace=MS] [ae=MS] [seed=N]   every pair up (anti-entropy digests queued)
//   spawn <node> <alias>            register <node> <name> <alias>      unregister <node> <name>
//   exit <alias>                    restart <node>  (a new incarnation: empty, told to everyone up)
//   down <a> <b> | up <a> <b>       membership of the pair, told to both sides (a partition)
//   queue                           settle (deliver everything, printing each message)
//   drop <from> <to> [n]            tick <ms>          (every replica ticks; outputs routed)
//   whereis <name>                  owner per replica  claims <node> <name>
//   lost                            notices of lost claims since the last `lost`
//   watch <node>                    watch events of a replica since the last `watch`
import { decode, encode } from '../../runtime/codec.js';
import { Pid, seededRandom } from '../../runtime/index.js';
import { EventualRegistryCore, type RegistryMessage, type RegistryOutput } from '../../registry/index.js';
import type { CommandTable } from '../datadriven.js';

interface Replica {
  core: EventualRegistryCore;
  incarnation: number;
  nextId: number;
  watch: string[];
}

export interface RegistryScriptState {
  readonly replicas: Map<string, Replica>;
  readonly queues: Map<string, Buffer[]>;
  readonly aliases: Map<string, Pid>;
  /** Pairs ("a|b", sorted) membership shows down. */
  readonly down: Set<string>;
  lost: string[];
  now: number;
  options: { grace: number; ae: number; seed: number };
}

export const newRegistryScriptState = (): RegistryScriptState => ({
  replicas: new Map(),
  queues: new Map(),
  aliases: new Map(),
  down: new Set(),
  lost: [],
  now: 0,
  options: { grace: 300, ae: 200, seed: 1 },
});

const pair = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

function replica(s: RegistryScriptState, node: string): Replica {
  const r = s.replicas.get(node);
  if (r === undefined) throw new Error(`no replica ${node}`);
  return r;
}

function alias(s: RegistryScriptState, pid: Pid): string {
  for (const [name, p] of s.aliases) if (p.equals(pid)) return name;
  return pid.toString();
}

function pidOf(s: RegistryScriptState, name: string): Pid {
  const pid = s.aliases.get(name);
  if (pid === undefined) throw new Error(`no pid ${name}`);
  return pid;
}

function makeCore(s: RegistryScriptState, node: string, incarnation: number): EventualRegistryCore {
  return new EventualRegistryCore({
    node,
    incarnation,
    random: seededRandom(s.options.seed + incarnation * 97 + node.charCodeAt(0)),
    nodeDownGraceMs: s.options.grace,
    antiEntropyIntervalMs: s.options.ae,
  });
}

function route(s: RegistryScriptState, from: string, outputs: readonly RegistryOutput[]): void {
  const r = replica(s, from);
  const enqueue = (to: string, message: RegistryMessage): void => {
    if (s.down.has(pair(from, to)) || !s.replicas.has(to)) return;
    const key = `${from}>${to}`;
    s.queues.set(key, [...(s.queues.get(key) ?? []), encode(message)]);
  };
  for (const o of outputs) {
    if (o.type === 'broadcast') for (const to of o.to) enqueue(to, o.message);
    else if (o.type === 'send') enqueue(o.to, o.message);
    else if (o.type === 'watch') r.watch.push(`${o.event.kind} ${o.event.name}=${alias(s, o.event.pid)}`);
    else s.lost.push(`${alias(s, o.pid)} lost ${o.name} to ${alias(s, o.winner)} (told by ${from})`);
  }
}

const pidNames = (s: RegistryScriptState, pids: readonly Pid[]): string => pids.map((p) => alias(s, p)).join(',');

function describe(s: RegistryScriptState, raw: unknown): string {
  const m = raw as RegistryMessage;
  switch (m.t) {
    case 'delta':
      return `delta ${m.d.map(([key, values]) => `${key}=[${pidNames(s, values as Pid[])}]`).join(' ')}`;
    case 'ae-digest':
      return 'ae-digest';
    case 'ae-shards':
      return `ae-shards hop=${m.h} chunks=${m.c.length} keys=${m.c.reduce((n, c) => n + c[6].length, 0)}`;
  }
}

function membership(s: RegistryScriptState, a: string, b: string, up: boolean): void {
  if (up ? !s.down.delete(pair(a, b)) : s.down.has(pair(a, b))) return;
  if (!up) s.down.add(pair(a, b));
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const rx = replica(s, x);
    const ry = replica(s, y);
    route(s, x, up ? rx.core.nodeUp(y, ry.incarnation, s.now) : rx.core.nodeDown(y, s.now));
    if (!up) s.queues.delete(`${x}>${y}`);
  }
}

export const registryCommands: CommandTable<RegistryScriptState> = {
  replicas(s, cmd) {
    s.options = { grace: cmd.num('grace', 300)!, ae: cmd.num('ae', 200)!, seed: cmd.num('seed', 1)! };
    const nodes = cmd.arg(0, 'nodes').split(',');
    for (const n of nodes) s.replicas.set(n, { core: makeCore(s, n, 1), incarnation: 1, nextId: 1, watch: [] });
    for (const a of nodes) for (const b of nodes) if (a !== b) route(s, a, replica(s, a).core.nodeUp(b, 1, s.now));
  },
  spawn(s, cmd) {
    const r = replica(s, cmd.arg(0, 'node'));
    const pid = new Pid(cmd.arg(0, 'node'), r.nextId++, r.incarnation);
    s.aliases.set(cmd.arg(1, 'alias'), pid);
    return [`${cmd.arg(1, 'alias')} = ${pid.toString()}`];
  },
  register(s, cmd) {
    const node = cmd.arg(0, 'node');
    route(s, node, replica(s, node).core.register(cmd.arg(1, 'name'), pidOf(s, cmd.arg(2, 'pid'))));
  },
  unregister(s, cmd) {
    const node = cmd.arg(0, 'node');
    route(s, node, replica(s, node).core.unregister(cmd.arg(1, 'name')));
  },
  exit(s, cmd) {
    const pid = pidOf(s, cmd.arg(0, 'pid'));
    route(s, pid.node, replica(s, pid.node).core.processExited(pid));
  },
  restart(s, cmd) {
    const node = cmd.arg(0, 'node');
    const r = replica(s, node);
    r.incarnation++;
    r.core = makeCore(s, node, r.incarnation);
    r.watch = [];
    for (const key of [...s.queues.keys()])
      if (key.startsWith(`${node}>`) || key.endsWith(`>${node}`)) s.queues.delete(key);
    for (const other of s.replicas.keys()) {
      if (other === node || s.down.has(pair(node, other))) continue;
      route(s, other, replica(s, other).core.nodeUp(node, r.incarnation, s.now));
      route(s, node, r.core.nodeUp(other, replica(s, other).incarnation, s.now));
    }
  },
  down(s, cmd) {
    membership(s, cmd.arg(0, 'a'), cmd.arg(1, 'b'), false);
  },
  up(s, cmd) {
    membership(s, cmd.arg(0, 'a'), cmd.arg(1, 'b'), true);
  },
  queue(s) {
    const out: string[] = [];
    for (const key of [...s.queues.keys()].sort())
      for (const b of s.queues.get(key) ?? []) out.push(`${key} ${describe(s, decode(b))}`);
    return out.length > 0 ? out : ['nothing waits'];
  },
  drop(s, cmd) {
    const key = `${cmd.arg(0, 'from')}>${cmd.arg(1, 'to')}`;
    const lost = (s.queues.get(key) ?? []).splice(0, Number(cmd.args[2] ?? 1));
    return lost.map((b) => `${key} lost ${describe(s, decode(b))}`);
  },
  settle(s) {
    const out: string[] = [];
    for (let moved = true, rounds = 0; moved; rounds++) {
      if (rounds > 10_000) throw new Error('settle did not settle');
      moved = false;
      for (const key of [...s.queues.keys()].sort()) {
        const bytes = s.queues.get(key)?.shift();
        if (bytes === undefined) continue;
        moved = true;
        const [from, to] = key.split('>') as [string, string];
        const value = decode(bytes);
        out.push(`${key} ${describe(s, value)}`);
        route(s, to, replica(s, to).core.receive(from, value));
      }
    }
    return out;
  },
  tick(s, cmd) {
    s.now += Number(cmd.arg(0, 'ms'));
    for (const [node, r] of s.replicas) route(s, node, r.core.tick(s.now));
  },
  whereis(s, cmd) {
    const name = cmd.arg(0, 'name');
    return [
      [...s.replicas]
        .map(([node, r]) => {
          const owner = r.core.whereis(name);
          return `${node}: ${owner === undefined ? '-' : alias(s, owner)}`;
        })
        .join(' '),
    ];
  },
  claims(s, cmd) {
    const claims = replica(s, cmd.arg(0, 'node')).core.claims(cmd.arg(1, 'name'));
    return [claims.length === 0 ? '(none)' : claims.map((p) => alias(s, p)).join(',')];
  },
  lost(s) {
    const out = s.lost.length === 0 ? ['(none)'] : s.lost;
    s.lost = [];
    return out;
  },
  watch(s, cmd) {
    const r = replica(s, cmd.arg(0, 'node'));
    const out = r.watch.length === 0 ? ['(no events)'] : r.watch;
    r.watch = [];
    return out;
  },
};
