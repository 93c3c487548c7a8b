// A seeded simulation of N eventual-registry replicas on the one fault model (sim/network.ts):
// loss, duplication and delay decided by a FaultModel and carried by a Scheduler, with a random
// delivery order among the messages due in a step; partitions with a membership oracle (node
// down/up on both sides); node restarts with a new incarnation; processes that register,
// unregister, exit and conflict. Every message goes through the msgpack codec, as on the wire.
// It records what the checks need: the processes alive, each live registration, every "lost"
// notification, and each node's watch stream.
import type { RegistryMessage, RegistryOutput } from '../../registry/index.js';
import {
  EventualRegistryCore,
  MAX_AE_MESSAGE_BYTES,
  MAX_DELTA_BATCH_BYTES,
  NameTakenError,
  RegistryLimitError,
} from '../../registry/index.js';
import { decode, encode } from '../../runtime/codec.js';
import { Pid } from '../../runtime/pid.js';
import type { Random } from '../../runtime/base.js';
import { seededRandom } from '../../runtime/base.js';
import { SimNetwork, type Delivery, type NetworkFaults } from '../network.js';
import { Scheduler } from '../scheduler.js';

function isRegistryUserError(err: unknown): boolean {
  return err instanceof NameTakenError || err instanceof RegistryLimitError;
}

export interface SimFaults {
  /** Probability a message is lost. */
  loss: number;
  /** Probability a message is delivered twice. */
  duplicate: number;
  /** Max extra delay of a message, in ms (random delivery order comes from it). */
  maxDelayMs: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly stepMs?: number;
  readonly antiEntropyIntervalMs?: number;
  readonly nodeDownGraceMs?: number;
  readonly maxDeltaBatchBytes?: number;
  readonly maxAeMessageBytes?: number;
  readonly faults?: SimFaults;
}

/** The registry's faults as the one fault model sees them (delays from 0 to maxDelayMs). */
function networkFaults(f: SimFaults): NetworkFaults {
  return { lossRate: f.loss, duplicateRate: f.duplicate, minDelay: 0, maxDelay: f.maxDelayMs };
}

export interface SimNode {
  readonly name: string;
  incarnation: number;
  core: EventualRegistryCore;
  nextPid: number;
  readonly alive: Set<number>;
  /** Last watch event per name seen from this node's current core (to check the stream). */
  watch: Map<string, Pid | undefined>;
  /** Killed for good: no ticks, no messages, its processes are dead. */
  crashed: boolean;
}

/** A registration a process made and has not undone itself. */
interface Ledger {
  readonly pid: Pid;
  readonly name: string;
  told: number;
}

export class SimCluster {
  readonly rng: Random;
  readonly nodes: SimNode[] = [];
  now = 0;
  readonly stepMs: number;
  readonly violations: string[] = [];
  /** node -> partition group; nodes talk only within a group. */
  readonly group = new Map<string, number>();
  /** Single links cut on top of the groups ("a|b", a < b): connectivity need not be transitive. */
  readonly cutLinks = new Set<string>();
  private readonly scheduler = new Scheduler<Delivery<Buffer>>();
  private readonly network: SimNetwork<Buffer>;
  private readonly ledger = new Map<string, Ledger>(); // `${pid}|${name}`
  private readonly options: SimOptions;
  messagesSent = 0;
  bytesSent = 0;
  lostNotices = 0;
  registrations = 0;

  constructor(options: SimOptions) {
    this.options = options;
    this.rng = seededRandom(options.seed);
    this.stepMs = options.stepMs ?? 10;
    this.network = new SimNetwork<Buffer>(
      this.rng.fork(),
      this.scheduler,
      networkFaults(options.faults ?? { loss: 0, duplicate: 0, maxDelayMs: 0 }),
    );
    const n = options.nodes ?? 5;
    for (let i = 0; i < n; i++) {
      const name = `n${i}`;
      this.group.set(name, 0);
      this.nodes.push({
        name,
        incarnation: 1,
        core: this.makeCore(name, 1),
        nextPid: 1,
        alive: new Set(),
        watch: new Map(),
        crashed: false,
      });
    }
    for (const a of this.nodes)
      for (const b of this.nodes) if (a !== b) this.route(a, a.core.nodeUp(b.name, b.incarnation, this.now));
  }

  private makeCore(name: string, incarnation: number): EventualRegistryCore {
    return new EventualRegistryCore({
      node: name,
      incarnation,
      random: this.rng.fork(),
      antiEntropyIntervalMs: this.options.antiEntropyIntervalMs ?? 200,
      nodeDownGraceMs: this.options.nodeDownGraceMs ?? 300,
      ...(this.options.maxDeltaBatchBytes === undefined ? {} : { maxDeltaBatchBytes: this.options.maxDeltaBatchBytes }),
      ...(this.options.maxAeMessageBytes === undefined ? {} : { maxAeMessageBytes: this.options.maxAeMessageBytes }),
    });
  }

  node(name: string): SimNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  connected(a: string, b: string): boolean {
    return this.group.get(a) === this.group.get(b) && !this.cutLinks.has(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  /** Cut (or restore) one link; membership tells both ends. */
  setLink(a: SimNode, b: SimNode, up: boolean): void {
    const before = this.connected(a.name, b.name);
    const key = a.name < b.name ? `${a.name}|${b.name}` : `${b.name}|${a.name}`;
    if (up) this.cutLinks.delete(key);
    else this.cutLinks.add(key);
    const after = this.connected(a.name, b.name);
    if (before === after) return;
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (after) this.route(x, x.core.nodeUp(y.name, y.incarnation, this.now));
      else this.route(x, x.core.nodeDown(y.name, this.now));
    }
  }

  /** Loss, duplication and delay from now on. */
  set faults(faults: SimFaults) {
    this.network.faults = networkFaults(faults);
  }

  // ------------------------------------------------------------ process actions

  spawn(node: SimNode): Pid {
    const pid = new Pid(node.name, node.nextPid++, node.incarnation);
    node.alive.add(pid.id);
    return pid;
  }

  register(node: SimNode, name: string, pid: Pid): boolean {
    try {
      this.route(node, node.core.register(name, pid));
    } catch (err) {
      if (isRegistryUserError(err)) return false;
      throw err;
    }
    this.registrations++;
    this.ledger.set(`${pid.toString()}|${name}`, { pid, name, told: 0 });
    return true;
  }

  unregister(node: SimNode, name: string): boolean {
    const pid = node.core.ownNames().get(name);
    if (pid === undefined) return false;
    this.route(node, node.core.unregister(name, pid));
    this.ledger.delete(`${pid.toString()}|${name}`);
    return true;
  }

  exit(node: SimNode, pid: Pid): void {
    node.alive.delete(pid.id);
    this.route(node, node.core.processExited(pid));
  }

  /** The node restarts: a new incarnation with an empty core, all its processes gone. */
  restart(node: SimNode): void {
    node.incarnation++;
    node.alive.clear();
    node.core = this.makeCore(node.name, node.incarnation);
    node.watch = new Map();
    for (const other of this.nodes) {
      if (other === node) continue;
      this.route(other, other.core.nodeDown(node.name, this.now));
      if (this.connected(node.name, other.name)) {
        this.route(other, other.core.nodeUp(node.name, node.incarnation, this.now));
        this.route(node, node.core.nodeUp(other.name, other.incarnation, this.now));
      }
    }
  }

  /** The node dies for good (kill -9, never restarted): others see it down and must drop its names after the grace. */
  crash(node: SimNode): void {
    node.crashed = true;
    node.alive.clear();
    this.partition(new Map([[node.name, -1 - this.nodes.indexOf(node)]]));
  }

  get live(): SimNode[] {
    return this.nodes.filter((n) => !n.crashed);
  }

  /** Move nodes into partition groups; membership tells both sides of every changed link. */
  partition(groups: ReadonlyMap<string, number>): void {
    const was = new Map<string, boolean>();
    for (const a of this.nodes)
      for (const b of this.nodes) if (a !== b) was.set(`${a.name}|${b.name}`, this.connected(a.name, b.name));
    for (const [n, g] of groups) if (!this.node(n).crashed || g < 0) this.group.set(n, g);
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a === b) continue;
        const before = was.get(`${a.name}|${b.name}`) === true;
        const is = this.connected(a.name, b.name);
        if (before && !is) this.route(a, a.core.nodeDown(b.name, this.now));
        if (!before && is) this.route(a, a.core.nodeUp(b.name, b.incarnation, this.now));
      }
    }
  }

  heal(): void {
    this.partition(new Map(this.live.map((n) => [n.name, 0])));
    for (const a of this.live) for (const b of this.live) if (a.name < b.name) this.setLink(a, b, true);
  }

  // ------------------------------------------------------------ time

  /** One step: deliver what is due (random order), then tick every node. */
  step(): void {
    this.now += this.stepMs;
    const due: Delivery<Buffer>[] = [];
    while (this.scheduler.peekTime() <= this.now) due.push(this.scheduler.next() as Delivery<Buffer>);
    this.scheduler.now = this.now;
    // Random delivery order among due messages.
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [due[i], due[j]] = [due[j] as Delivery<Buffer>, due[i] as Delivery<Buffer>];
    }
    for (const m of due) {
      if (!this.network.accept(m) || !this.connected(m.from, m.to)) continue; // cut while in flight
      const target = this.node(m.to);
      this.route(target, target.core.receive(m.from, decode(m.message)));
    }
    for (const n of this.live) this.route(n, n.core.tick(this.now));
  }

  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) this.step();
  }

  // ------------------------------------------------------------ outputs

  route(node: SimNode, outputs: readonly RegistryOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'broadcast':
          for (const to of o.to) this.send(node.name, to, o.message);
          break;
        case 'send':
          this.send(node.name, o.to, o.message);
          break;
        case 'watch':
          this.checkWatch(node, o.event.kind, o.event.name, o.event.pid);
          break;
        case 'lost': {
          this.lostNotices++;
          if (o.pid.node !== node.name || o.pid.incarnation !== node.incarnation)
            this.violations.push(`${node.name} told non-local ${o.pid.toString()} it lost ${o.name}`);
          const entry = this.ledger.get(`${o.pid.toString()}|${o.name}`);
          if (entry === undefined) this.violations.push(`${o.pid.toString()} told it lost ${o.name} it did not hold`);
          else if (++entry.told > 1) this.violations.push(`${o.pid.toString()} told twice it lost ${o.name}`);
          if (o.winner.equals(o.pid)) this.violations.push(`${o.pid.toString()} lost ${o.name} to itself`);
          break;
        }
      }
    }
  }

  private send(from: string, to: string, message: RegistryMessage): void {
    const bytes = encode(message);
    const budget =
      message.t === 'delta'
        ? (this.options.maxDeltaBatchBytes ?? MAX_DELTA_BATCH_BYTES)
        : (this.options.maxAeMessageBytes ?? MAX_AE_MESSAGE_BYTES);
    if (bytes.length > budget)
      this.violations.push(`${from} sent a ${message.t} of ${bytes.length} bytes over its ${budget} byte budget`);
    this.messagesSent++;
    this.bytesSent += bytes.length;
    if (!this.connected(from, to)) return;
    this.network.send(from, to, bytes);
  }

  /** A watch stream must replay to a consistent owner sequence: never unregister what it did not show. */
  private checkWatch(node: SimNode, kind: 'register' | 'unregister', name: string, pid: Pid): void {
    const last = node.watch.get(name);
    if (kind === 'register') {
      if (last !== undefined)
        this.violations.push(`${node.name} watch: register ${name}=${pid.toString()} while showing ${last.toString()}`);
      node.watch.set(name, pid);
    } else {
      if (last === undefined || !last.equals(pid))
        this.violations.push(`${node.name} watch: unregister ${name}=${pid.toString()} while showing ${String(last)}`);
      node.watch.set(name, undefined);
    }
  }

  get inFlight(): number {
    return this.scheduler.size;
  }

  // ------------------------------------------------------------ checks

  converged(): boolean {
    const first = this.live[0] as SimNode;
    const digests = first.core.digests().join();
    return this.live.every((n) => n.core.digests().join() === digests && n.core.outboxSize === 0);
  }

  /** The end-state properties; returns the list of violations (empty when all hold). */
  finalViolations(): string[] {
    const out = [...this.violations];
    const first = this.live[0] as SimNode;
    const view = first.core.view();
    for (const n of this.nodes)
      if (n.core.counters.malformedDropped > 0)
        out.push(`${n.name} dropped ${n.core.counters.malformedDropped} of our own messages as malformed`);
    for (const n of this.live) {
      const v = n.core.view();
      if (v.size !== view.size || [...v].some(([name, pid]) => !view.get(name)?.equals(pid)))
        out.push(`${n.name} view differs from ${first.name}`);
      for (const name of v.keys())
        if (n.core.claims(name).length > 1)
          out.push(`${n.name}: ${name} still has ${n.core.claims(name).length} claims`);
      // The watch stream replays to the view.
      for (const [name, pid] of n.watch)
        if (pid !== undefined && !v.get(name)?.equals(pid))
          out.push(`${n.name} watch shows ${name}=${pid.toString()}, view ${String(v.get(name))}`);
      for (const [name, pid] of v)
        if (!n.watch.get(name)?.equals(pid))
          out.push(`${n.name} view has ${name}=${pid.toString()} never announced to watchers`);
    }
    for (const [name, pid] of view) {
      const owner = this.node(pid.node);
      if (owner.crashed || owner.incarnation !== pid.incarnation || !owner.alive.has(pid.id))
        out.push(`${name} owned by dead ${pid.toString()}`);
    }
    for (const entry of this.ledger.values()) {
      const owner = this.node(entry.pid.node);
      const alive = !owner.crashed && owner.incarnation === entry.pid.incarnation && owner.alive.has(entry.pid.id);
      if (!alive) continue;
      const holds = view.get(entry.name)?.equals(entry.pid) ?? false;
      if (!holds && entry.told === 0) out.push(`${entry.pid.toString()} lost ${entry.name} and was never told`);
      if (holds && entry.told > 0) out.push(`${entry.pid.toString()} owns ${entry.name} but was told it lost it`);
    }
    return out;
  }
}
