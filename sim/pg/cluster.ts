// A deterministic host for pg cores, the simulation's and the tests' harness: several nodes, each
// with one PgScope, joined by a message router with one FIFO queue per directed link. Messages
// cross the router encoded with runtime/codec (msgpack + the Pid extension), as they would on
// internode's `pg` class. The
// router plays the host's part: it drains outputs after every input, enqueues sends (calling
// peerQueueFull when a bounded queue is full and peerQueueReady when room returns), delivers
// node up/down, and records every monitor's snapshot and events.
import { decode, encode } from '../../runtime/codec.js';
import { Pid } from '../../runtime/pid.js';
import { PgScope } from '../../pg/index.js';
import type { Group, MonitorRef, PgEvent, PgLimits, PgTimings } from '../../pg/index.js';

export interface RecordedMonitor {
  readonly node: string;
  readonly incarnation: number;
  readonly ref: MonitorRef;
  /** Undefined for a scope monitor. */
  readonly group: Group | undefined;
  /** Key of the owning process, if any. */
  readonly owner: string | undefined;
  /** Replay of snapshot + events so far: group → pid key → count. */
  readonly replay: Map<Group, Map<string, number>>;
  readonly events: PgEvent[];
  /** Set when a leave event removed something the replay did not hold. */
  violation: string | undefined;
  active: boolean;
}

export interface SimNode {
  readonly name: string;
  incarnation: number;
  scope: PgScope;
  nextId: number;
  readonly alive: Map<string, Pid>;
}

export interface ClusterOptions {
  readonly queueCapacity?: number;
  readonly limits?: Partial<PgLimits>;
  readonly timings?: Partial<PgTimings>;
  readonly scopeName?: string;
}

function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Count pids of a pid list as a multiset keyed by string form. */
export function multiset(pids: readonly Pid[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) out.set(pid.toString(), (out.get(pid.toString()) ?? 0) + 1);
  return out;
}

export function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, n] of a) if (b.get(key) !== n) return false;
  return true;
}

export class Cluster {
  readonly nodes = new Map<string, SimNode>();
  readonly monitors: RecordedMonitor[] = [];
  /** Encoded messages waiting on each directed link. */
  readonly queues = new Map<string, Buffer[]>();
  /** Every message ever enqueued per directed link, for late/duplicate replays. */
  readonly history = new Map<string, Buffer[]>();
  /** Directed links whose sender was told the queue is full and not yet told it has room. */
  readonly blocked = new Set<string>();
  /** Unordered pairs currently connected (both sides told peerUp). */
  readonly connected = new Set<string>();
  /** Pairs kept apart by a partition. */
  readonly partitioned = new Set<string>();
  queueCapacity: number;
  now = 0;
  /** `node/incarnation` → local version → that node's local memberships then (see localState). */
  readonly localHistory = new Map<string, Map<number, string>>();
  readonly #options: ClusterOptions;

  constructor(names: readonly string[], options: ClusterOptions = {}) {
    this.#options = options;
    this.queueCapacity = options.queueCapacity ?? 1_000_000;
    for (const name of names) this.#boot(name, 1);
    for (const a of names) for (const b of names) if (a < b) this.connect(a, b);
  }

  node(name: string): SimNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  scope(name: string): PgScope {
    return this.node(name).scope;
  }

  spawn(name: string): Pid {
    const node = this.node(name);
    const pid = new Pid(name, node.nextId++, node.incarnation);
    node.alive.set(pid.toString(), pid);
    return pid;
  }

  /** Kill a local process: the host tells the scope (exit) and drains. */
  kill(pid: Pid): void {
    const node = this.node(pid.node);
    node.alive.delete(pid.toString());
    for (const m of this.monitors) if (m.node === pid.node && m.owner === pid.toString()) m.active = false;
    node.scope.processExit(pid);
    this.drain(pid.node);
  }

  /** Run `fn` against a node's scope, then drain its outputs (what a host does after each call). */
  on<T>(name: string, fn: (scope: PgScope) => T): T {
    try {
      return fn(this.scope(name));
    } finally {
      this.drain(name);
    }
  }

  monitorScope(name: string, owner?: Pid): RecordedMonitor {
    return this.on(name, (scope) => {
      const handle = scope.monitorScope(owner);
      return this.#record(name, handle.ref, undefined, handle.snapshot, owner);
    });
  }

  monitorGroup(name: string, group: Group, owner?: Pid): RecordedMonitor {
    return this.on(name, (scope) => {
      const handle = scope.monitor(group, owner);
      return this.#record(name, handle.ref, group, new Map([[group, handle.snapshot]]), owner);
    });
  }

  demonitor(monitor: RecordedMonitor): boolean {
    const result = this.on(monitor.node, (scope) => scope.demonitor(monitor.ref));
    monitor.active = false;
    return result;
  }

  /** Drain a node's outputs: messages into link queues, events into monitor records. */
  drain(name: string): void {
    const node = this.node(name);
    const historyKey = `${name}/${node.incarnation}`;
    let versions = this.localHistory.get(historyKey);
    if (versions === undefined) this.localHistory.set(historyKey, (versions = new Map()));
    if (!versions.has(node.scope.version)) versions.set(node.scope.version, localState(node.scope, name));
    const outputs = node.scope.takeOutputs();
    const failed = new Set<string>();
    for (const { to, message } of outputs.sends) {
      if (failed.has(to)) continue;
      const key = linkKey(name, to);
      if (!this.connected.has(pairKey(name, to))) continue;
      const queue = this.queues.get(key) ?? [];
      this.queues.set(key, queue);
      if (queue.length >= this.queueCapacity) {
        // The host's rule: a message that cannot be queued stops this peer's batch here.
        failed.add(to);
        this.blocked.add(key);
        node.scope.peerQueueFull(to);
        continue;
      }
      const bytes = encode(message);
      queue.push(bytes);
      const history = this.history.get(key) ?? [];
      history.push(bytes);
      if (history.length > 64) history.shift();
      this.history.set(key, history);
    }
    for (const ref of outputs.readyMonitors) this.#collect(node, ref);
  }

  /** Deliver the first message waiting on link from→to. Returns false if none. */
  deliverOne(from: string, to: string): boolean {
    const key = linkKey(from, to);
    const queue = this.queues.get(key);
    const bytes = queue?.shift();
    if (bytes === undefined) return false;
    this.#receive(from, to, bytes);
    // Room is reported when the queue is empty, so a full resync fits (see maxSyncBytes).
    if (this.blocked.has(key) && (queue as Buffer[]).length === 0) {
      this.blocked.delete(key);
      this.on(from, (scope) => scope.peerQueueReady(to));
    }
    return true;
  }

  /** Deliver raw bytes (a replay of an old message, or a forged one) on from→to. */
  inject(from: string, to: string, value: unknown): void {
    this.#receive(from, to, Buffer.isBuffer(value) ? value : encode(value));
  }

  /** Deliver everything until no link has a message left; every node drained. */
  settle(maxSteps = 1_000_000): void {
    for (const name of this.nodes.keys()) this.drain(name);
    for (let steps = 0; ; steps++) {
      if (steps > maxSteps) throw new Error('settle did not converge');
      let moved = false;
      for (const key of [...this.queues.keys()]) {
        const [from, to] = key.split('->') as [string, string];
        if (this.deliverOne(from, to)) moved = true;
      }
      if (!moved) return;
    }
  }

  /** Advance virtual time on every node (retries, anti-entropy) and drain. */
  tick(ms: number): void {
    this.now += ms;
    for (const name of this.nodes.keys()) this.on(name, (scope) => scope.tick(this.now));
  }

  connect(a: string, b: string): void {
    if (this.connected.has(pairKey(a, b))) return;
    this.connected.add(pairKey(a, b));
    this.on(a, (scope) => scope.peerUp(b, this.node(b).incarnation));
    this.on(b, (scope) => scope.peerUp(a, this.node(a).incarnation));
  }

  disconnect(a: string, b: string): void {
    if (!this.connected.delete(pairKey(a, b))) return;
    for (const key of [linkKey(a, b), linkKey(b, a)]) {
      this.queues.delete(key);
      this.blocked.delete(key);
    }
    this.on(a, (scope) => scope.peerDown(b));
    this.on(b, (scope) => scope.peerDown(a));
  }

  partition(a: string, b: string): void {
    this.partitioned.add(pairKey(a, b));
    this.disconnect(a, b);
  }

  heal(a: string, b: string): void {
    this.partitioned.delete(pairKey(a, b));
    if (this.nodes.has(a) && this.nodes.has(b)) this.connect(a, b);
  }

  healAll(): void {
    this.partitioned.clear();
    const names = [...this.nodes.keys()];
    for (const a of names) for (const b of names) if (a < b) this.connect(a, b);
  }

  /** Start a new node (incarnation 1) and connect it to every node not partitioned from it. */
  addNode(name: string): SimNode {
    if (this.nodes.has(name)) throw new Error(`node ${name} exists`);
    this.#boot(name, 1);
    for (const other of this.nodes.keys()) if (other !== name) this.connect(name, other);
    return this.node(name);
  }

  /** Crash a node and start it again with the next incarnation: its processes are gone. */
  restart(name: string, peersSeeDownFirst: boolean): void {
    const old = this.node(name);
    for (const m of this.monitors) if (m.node === name) m.active = false;
    for (const other of this.nodes.keys()) {
      if (other === name) continue;
      const key = pairKey(name, other);
      const wasConnected = this.connected.delete(key);
      for (const link of [linkKey(name, other), linkKey(other, name)]) {
        this.queues.delete(link);
        this.blocked.delete(link);
      }
      if (wasConnected && peersSeeDownFirst) this.on(other, (scope) => scope.peerDown(name));
    }
    this.nodes.delete(name);
    this.#boot(name, old.incarnation + 1);
    for (const other of this.nodes.keys()) {
      if (other !== name && !this.partitioned.has(pairKey(name, other))) this.connect(name, other);
    }
  }

  /**
   * Every synced peer's block in every node's view equals that peer's local memberships at the
   * version the view claims (so a view is always a true past state of the peer, never a mix).
   * Only versions at the end of a host call are recorded; `strict` requires every view to be at one.
   */
  peerViewProblems(strict: boolean): string[] {
    const problems: string[] = [];
    for (const [name, node] of this.nodes) {
      for (const peer of node.scope.peers()) {
        if (!peer.synced) continue;
        const truth = this.localHistory.get(`${peer.node}/${peer.incarnation}`)?.get(peer.version);
        if (truth === undefined) {
          // Between the messages of one flush cut in several deltas, a view sits at a version
          // no drain recorded; once everything is delivered it must be a recorded one.
          if (!strict) continue;
          problems.push(
            `${name}: view of ${peer.node}/${peer.incarnation} at version ${peer.version}, a version never flushed`,
          );
          continue;
        }
        const seen = localState(node.scope, peer.node);
        if (seen !== truth)
          problems.push(`${name}: view of ${peer.node}@${peer.version} is ${seen}, the peer had ${truth}`);
      }
    }
    return problems;
  }

  /** Every active monitor whose snapshot + events does not give the current view, described. */
  monitorReplayProblems(): string[] {
    const problems: string[] = [];
    for (const m of this.monitors) {
      if (!m.active) continue;
      if (m.violation !== undefined) problems.push(`monitor ${m.ref} on ${m.node}: ${m.violation}`);
      const scope = this.scope(m.node);
      const groups = m.group === undefined ? new Set([...scope.whichGroups(), ...m.replay.keys()]) : new Set([m.group]);
      for (const group of groups) {
        const replayed = m.replay.get(group) ?? new Map<string, number>();
        const current = multiset(scope.members(group));
        if (!sameCounts(replayed, current)) {
          problems.push(
            `monitor ${m.ref} on ${m.node}, group ${group}: ` +
              `replay ${JSON.stringify([...replayed])} != view ${JSON.stringify([...current])}`,
          );
        }
      }
    }
    return problems;
  }

  #boot(name: string, incarnation: number): void {
    const alive = new Map<string, Pid>();
    const scope = new PgScope({
      scope: this.#options.scopeName ?? 'default',
      node: name,
      incarnation,
      isAlive: (pid) => alive.has(pid.toString()),
      limits: this.#options.limits,
      timings: this.#options.timings,
      now: this.now,
    });
    this.nodes.set(name, { name, incarnation, scope, nextId: 1, alive });
  }

  #receive(from: string, to: string, bytes: Buffer): void {
    const receiver = this.nodes.get(to);
    if (receiver === undefined) return;
    const value = decode(bytes);
    this.on(to, (scope) => scope.receive(from, value));
  }

  #record(
    name: string,
    ref: MonitorRef,
    group: Group | undefined,
    snapshot: ReadonlyMap<Group, readonly Pid[]>,
    owner: Pid | undefined,
  ): RecordedMonitor {
    const replay = new Map<Group, Map<string, number>>();
    for (const [g, pids] of snapshot) if (pids.length > 0) replay.set(g, multiset(pids));
    const monitor: RecordedMonitor = {
      node: name,
      incarnation: this.node(name).incarnation,
      ref,
      group,
      owner: owner?.toString(),
      replay,
      events: [],
      violation: undefined,
      active: true,
    };
    this.monitors.push(monitor);
    return monitor;
  }

  #collect(node: SimNode, ref: MonitorRef): void {
    const monitor = this.monitors.find(
      (m) => m.node === node.name && m.incarnation === node.incarnation && m.ref === ref,
    );
    const events = node.scope.takeEvents(ref);
    if (monitor === undefined) return;
    for (const event of events) {
      monitor.events.push(event);
      if (event.kind === 'overflow') {
        monitor.active = false;
        continue;
      }
      const counts = monitor.replay.get(event.group) ?? new Map<string, number>();
      for (const pid of event.pids) {
        const key = pid.toString();
        const n = (counts.get(key) ?? 0) + (event.kind === 'join' ? 1 : -1);
        if (n < 0) monitor.violation ??= `leave of ${key} from ${event.group} that the replay did not hold`;
        if (n <= 0) counts.delete(key);
        else counts.set(key, n);
      }
      if (counts.size === 0) monitor.replay.delete(event.group);
      else monitor.replay.set(event.group, counts);
    }
  }
}

/** One node's memberships as seen in `scope`, groups sorted, each block newest first. */
export function localState(scope: PgScope, node: string): string {
  const parts: string[] = [];
  for (const group of [...scope.whichGroups()].sort()) {
    const block = scope.members(group).filter((p) => p.node === node);
    if (block.length > 0) parts.push(`${group}:${block.map(String).join(',')}`);
  }
  return parts.join(' ');
}

/** Membership events of a monitor, as compact strings: `join g [<a.1.1>,<a.2.1>]`. */
export function describeEvents(events: readonly PgEvent[]): string[] {
  return events.map((e) =>
    e.kind === 'overflow' ? 'overflow' : `${e.kind} ${e.group} [${e.pids.map((p) => p.toString()).join(',')}]`,
  );
}
