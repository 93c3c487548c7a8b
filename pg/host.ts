// The host of process groups: one PgScope core per scope, wired to the runtime (process exits,
// monitor owners, mailbox delivery) and to internode (the `pg` frame class, node up/down). The
// cores do the thinking; this file moves their inputs and outputs.
import { metrics, type BatchObservableResult, type Meter, type ObservableCounter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { TroupeError, isPid, type Node, type Pid, type ProcessContext } from '../runtime/index.js';
import type { Internode, NodeEvent } from '../internode/index.js';
import { PgScope, newStats } from './scope.js';
import type { PgLimits, PgTimings } from './limits.js';
import type { Group, LeaveResult, MonitorRef, PgEvent } from './types.js';

/** The scope every node runs. */
export const DEFAULT_SCOPE = 'default';
/** How often scopes get `tick` (discover retries, blocked-peer retries, anti-entropy). */
export const PG_TICK_MS = 250;
/** Scopes one node may run. */
export const MAX_SCOPES = 64;

/** What a monitor delivers to a process's mailbox (`{ owner: ctx }` monitors). */
export interface PgMailboxMessage {
  readonly type: 'pg';
  readonly scope: string;
  readonly ref: MonitorRef;
  readonly event: PgEvent;
}

export const isPgMessage = (m: unknown): m is PgMailboxMessage =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'pg';

/** A monitor whose events are read as an async iterator. */
export interface PgMonitor<Snapshot> extends AsyncIterable<PgEvent>, Disposable {
  readonly ref: MonitorRef;
  readonly snapshot: Snapshot;
  /** Stops the monitor now; no event arrives after it returns. False if it had already stopped. */
  demonitor(): boolean;
}

export interface ProcessGroupsOptions {
  readonly node: Node;
  /** Without internode, groups are local to this node. */
  readonly internode?: Internode;
  readonly logger?: Logger;
  readonly limits?: Partial<PgLimits>;
  readonly timings?: Partial<PgTimings>;
  /** An OpenTelemetry meter; the global one by default. Each scope's counters are `troupe.pg.<counter>`. */
  readonly meter?: Meter;
}

/** Process groups with Erlang `pg` semantics (see ../shared specs/pg-semantics.md), per scope. */
export class ProcessGroups implements AsyncDisposable {
  readonly node: Node;
  readonly #net: Internode | undefined;
  readonly #logger: Logger;
  readonly #scopes = new Map<string, Scope>();
  readonly #opts: ProcessGroupsOptions;
  readonly #unsubscribe: () => void;
  #timer: { cancel(): void } | null = null;
  #stopped = false;
  #unobserve: () => void = () => {};

  private constructor(opts: ProcessGroupsOptions) {
    this.node = opts.node;
    this.#net = opts.internode;
    this.#opts = opts;
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'pg', node: opts.node.name });
    this.#net?.handle('pg', (from, body) => {
      const scope = typeof body === 'object' && body !== null ? (body as { scope?: unknown }).scope : undefined;
      const target = typeof scope === 'string' ? this.#scopes.get(scope) : undefined;
      if (target === undefined) return; // a scope we do not run: its discover is retried with backoff, harmlessly
      target.receive(from, body);
    });
    this.#unsubscribe = this.#net?.subscribe((e) => this.#onNodeEvent(e)) ?? (() => {});
    this.#observe(opts.meter ?? metrics.getMeter('troupe'));
    this.#scheduleTick();
  }

  // Counters are read when a metrics reader collects, never on the hot path.
  #observe(meter: Meter): void {
    const counters = new Map<string, ObservableCounter>();
    const counter = (name: string): ObservableCounter => {
      let c = counters.get(name);
      if (c === undefined) counters.set(name, (c = meter.createObservableCounter(`troupe.pg.${name}`)));
      return c;
    };
    for (const name of Object.keys(newStats())) counter(name);
    const observables = [...counters.values()];
    const cb = (r: BatchObservableResult): void => {
      for (const [scope, s] of this.#scopes) {
        for (const [name, value] of Object.entries(s.stats()))
          r.observe(counter(name), value, { node: this.node.name, scope });
      }
    };
    meter.addBatchObservableCallback(cb, observables);
    this.#unobserve = () => meter.removeBatchObservableCallback(cb, observables);
  }

  /** Starts process groups on a node, with the default scope running. */
  static start(opts: ProcessGroupsOptions): ProcessGroups {
    const pg = new ProcessGroups(opts);
    pg.startScope(DEFAULT_SCOPE);
    return pg;
  }

  /** Starts a scope, or returns it if it already runs (never a second copy). */
  startScope(name: string): Scope {
    const existing = this.#scopes.get(name);
    if (existing !== undefined) return existing;
    if (this.#stopped) throw new TroupeError('ERR_NODE_STOPPED', 'process groups are stopped');
    if (typeof name !== 'string' || name.length === 0 || name.length > 255)
      throw new TroupeError('ERR_BAD_NAME', 'a scope name is 1-255 characters');
    if (this.#scopes.size >= MAX_SCOPES) throw new TroupeError('ERR_LIMIT', `a node runs at most ${MAX_SCOPES} scopes`);
    const core = new PgScope({
      scope: name,
      node: this.node.name,
      incarnation: this.node.incarnation,
      isAlive: (pid) => this.node.isAlive(pid),
      now: this.node.clock.now(),
      ...(this.#opts.limits !== undefined ? { limits: this.#opts.limits } : {}),
      ...(this.#opts.timings !== undefined ? { timings: this.#opts.timings } : {}),
    });
    const scope = new Scope(name, core, this.node, this.#net, this.#logger);
    this.#scopes.set(name, scope);
    for (const m of this.#net?.members() ?? []) if (m.state === 'up') scope.peerUp(m.node, m.incarnation);
    return scope;
  }

  scope(name: string = DEFAULT_SCOPE): Scope {
    const s = this.#scopes.get(name);
    if (s === undefined) throw new TroupeError('ERR_BAD_ARGUMENT', `scope ${name} is not running`);
    return s;
  }

  scopes(): string[] {
    return [...this.#scopes.keys()];
  }

  // The default scope's API, for the common case.
  join(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): void {
    this.scope().join(groups, pids);
  }
  leave(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): LeaveResult {
    return this.scope().leave(groups, pids);
  }
  members(group: Group): readonly Pid[] {
    return this.scope().members(group);
  }
  localMembers(group: Group): readonly Pid[] {
    return this.scope().localMembers(group);
  }
  whichGroups(): readonly Group[] {
    return this.scope().whichGroups();
  }
  whichLocalGroups(): readonly Group[] {
    return this.scope().whichLocalGroups();
  }
  monitorScope(): PgMonitor<ReadonlyMap<Group, readonly Pid[]>> {
    return this.scope().monitorScope();
  }
  monitor(group: Group): PgMonitor<readonly Pid[]> {
    return this.scope().monitor(group);
  }
  broadcast(group: Group, message: unknown): number {
    return this.scope().broadcast(group, message);
  }
  broadcastLocal(group: Group, message: unknown): number {
    return this.scope().broadcastLocal(group, message);
  }

  #onNodeEvent(e: NodeEvent): void {
    for (const scope of this.#scopes.values()) {
      if (e.type === 'up') scope.peerUp(e.node, e.incarnation);
      else scope.peerDown(e.node);
    }
  }

  #scheduleTick(): void {
    this.#timer = this.node.clock.setTimer(PG_TICK_MS, () => {
      if (this.#stopped) return;
      const now = this.node.clock.now();
      for (const scope of this.#scopes.values()) scope.tick(now);
      this.#scheduleTick();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#unsubscribe();
    this.#unobserve();
    for (const scope of this.#scopes.values()) scope.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

type Consumer = { kind: 'iterator'; wake: (() => void) | null } | { kind: 'mailbox'; owner: Pid };

/** One running scope on this node. */
export class Scope {
  readonly name: string;
  readonly #core: PgScope;
  readonly #node: Node;
  readonly #net: Internode | undefined;
  readonly #logger: Logger;
  readonly #consumers = new Map<MonitorRef, Consumer>();
  /** Local pids (and monitor owners) whose exit we watch, with the watch's cancel. */
  readonly #watched = new Map<string, () => void>();
  #flushQueued = false;
  #closed = false;

  constructor(name: string, core: PgScope, node: Node, net: Internode | undefined, logger: Logger) {
    this.name = name;
    this.#core = core;
    this.#node = node;
    this.#net = net;
    this.#logger = logger;
  }

  /** Joins one pid or many (each local, alive) to one group or many. A pid may join several times. */
  join(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): void {
    this.#core.join(groups, pids);
    for (const pid of Array.isArray(pids) ? (pids as readonly Pid[]) : [pids as Pid]) this.#watch(pid);
    this.#afterLocalChange();
  }

  /** Removes one membership per listed pid per group; 'not_joined' if none was a member. */
  leave(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): LeaveResult {
    const result = this.#core.leave(groups, pids);
    this.#afterLocalChange();
    return result;
  }

  /** Every member on every connected node, newest first per node, once per join. Cached, immutable. */
  members(group: Group): readonly Pid[] {
    return this.#core.members(group);
  }

  localMembers(group: Group): readonly Pid[] {
    return this.#core.localMembers(group);
  }

  whichGroups(): readonly Group[] {
    return this.#core.whichGroups();
  }

  whichLocalGroups(): readonly Group[] {
    return this.#core.whichLocalGroups();
  }

  /** Snapshot of every group, then every later change in the scope, as an async iterator. */
  monitorScope(): PgMonitor<ReadonlyMap<Group, readonly Pid[]>> {
    const handle = this.#core.monitorScope();
    return this.#iterator(handle.ref, handle.snapshot);
  }

  /** Snapshot of one group, then every later change of it, as an async iterator. */
  monitor(group: Group): PgMonitor<readonly Pid[]> {
    const handle = this.#core.monitor(group);
    return this.#iterator(handle.ref, handle.snapshot);
  }

  /**
   * A monitor owned by a process: its events arrive in that process's mailbox as `PgMailboxMessage`s
   * (as Erlang's pg does), and it ends when the process exits. Pass `group` to watch one group.
   */
  monitorFrom(
    ctx: ProcessContext,
    group?: Group,
  ): { ref: MonitorRef; snapshot: ReadonlyMap<Group, readonly Pid[]> | readonly Pid[] } {
    const handle = group === undefined ? this.#core.monitorScope(ctx.self) : this.#core.monitor(group, ctx.self);
    this.#consumers.set(handle.ref, { kind: 'mailbox', owner: ctx.self });
    this.#watch(ctx.self);
    return { ref: handle.ref, snapshot: handle.snapshot };
  }

  /**
   * Stops a monitor at once. For a process's monitor, pass its context to also remove the events
   * already in its mailbox. False if the monitor had already stopped.
   */
  demonitor(ref: MonitorRef, ctx?: ProcessContext): boolean {
    const consumer = this.#consumers.get(ref);
    const was = this.#core.demonitor(ref);
    this.#consumers.delete(ref);
    if (consumer?.kind === 'iterator') consumer.wake?.();
    if (ctx !== undefined && consumer?.kind === 'mailbox')
      flushMailbox(ctx, (m) => isPgMessage(m) && m.ref === ref && m.scope === this.name);
    return was;
  }

  /** Sends `message` once to each distinct member; returns how many sends were made. */
  broadcast(group: Group, message: unknown): number {
    return this.#sendEach(this.#core.distinctMembers(group), message);
  }

  /** Sends `message` once to each distinct local member. */
  broadcastLocal(group: Group, message: unknown): number {
    return this.#sendEach(this.#core.distinctLocalMembers(group), message);
  }

  stats(): ReturnType<PgScope['stats']> {
    return this.#core.stats();
  }

  /** Sends to each of `pids` (already distinct: the core caches them per group). */
  #sendEach(pids: readonly Pid[], message: unknown): number {
    let sent = 0;
    for (const pid of pids) {
      try {
        this.#node.send(pid, message);
        sent++;
      } catch (err) {
        // A full link to one member's node must not stop the others; the caller sees the count.
        this.#logger.debug({ pid: pid.toString(), err: (err as Error).message }, 'broadcast send refused');
      }
    }
    return sent;
  }

  #iterator<S>(ref: MonitorRef, snapshot: S): PgMonitor<S> {
    const consumer: Consumer = { kind: 'iterator', wake: null };
    this.#consumers.set(ref, consumer);
    const core = this.#core;
    const stop = (): boolean => this.demonitor(ref);
    return {
      ref,
      snapshot,
      demonitor: stop,
      [Symbol.dispose]: () => void stop(),
      async *[Symbol.asyncIterator](): AsyncGenerator<PgEvent> {
        try {
          for (;;) {
            const events = core.takeEvents(ref);
            for (const e of events) {
              if (!core.hasMonitor(ref) && e.kind !== 'overflow') return; // demonitored meanwhile: nothing more
              yield e;
            }
            if (!core.hasMonitor(ref)) return;
            await new Promise<void>((resolve) => (consumer.wake = resolve));
            consumer.wake = null;
          }
        } finally {
          stop();
        }
      },
    };
  }

  #watch(pid: Pid): void {
    if (!isPid(pid)) return;
    const key = pid.toString();
    if (this.#watched.has(key) || !this.#node.isAlive(pid)) return;
    const cancel = this.#node.onExit(pid, () => {
      this.#watched.delete(key);
      if (this.#closed) return;
      this.#core.processExit(pid);
      for (const [ref, c] of this.#consumers)
        if (c.kind === 'mailbox' && c.owner.equals(pid)) this.#consumers.delete(ref);
      this.#afterLocalChange();
    });
    this.#watched.set(key, cancel);
  }

  // Local monitors get their events before join/leave returns (rule 19); peer messages are
  // batched until the end of this turn, one packet per peer per batch.
  #afterLocalChange(): void {
    this.#deliver(this.#core.takeReadyMonitors());
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }

  /** Sends what the core has for peers and delivers ready monitor events. */
  flush(): void {
    if (this.#closed) return;
    const out = this.#core.takeOutputs();
    let blocked: string | undefined;
    for (const send of out.sends) {
      if (send.to === blocked) continue;
      const r = this.#net?.sendFrame(send.to, 'pg', send.message) ?? 'no-route';
      if (r === 'rejected') {
        // Back-pressure, not failure: the core stops the stream and resyncs this peer later.
        this.#core.peerQueueFull(send.to);
        blocked = send.to;
      }
    }
    this.#deliver(out.readyMonitors);
  }

  #deliver(refs: readonly MonitorRef[]): void {
    for (const ref of refs) {
      const consumer = this.#consumers.get(ref);
      if (consumer === undefined) continue;
      if (consumer.kind === 'iterator') {
        consumer.wake?.();
        continue;
      }
      for (const event of this.#core.takeEvents(ref)) {
        this.#node.send(consumer.owner, { type: 'pg', scope: this.name, ref, event } satisfies PgMailboxMessage);
      }
    }
  }

  receive(from: string, body: unknown): void {
    this.#core.receive(from, body);
    this.flush();
  }

  peerUp(node: string, incarnation: number): void {
    this.#core.peerUp(node, incarnation);
    this.flush();
  }

  peerDown(node: string): void {
    this.#core.peerDown(node);
    this.flush();
  }

  tick(now: number): void {
    // Room returned in a peer's pg queue: its pending resync may go.
    for (const p of this.#core.peers())
      if ((this.#net?.queued(p.node, 'pg') ?? 0) === 0) this.#core.peerQueueReady(p.node);
    this.#core.tick(now);
    this.flush();
  }

  close(): void {
    this.#closed = true;
    for (const cancel of this.#watched.values()) cancel();
    this.#watched.clear();
    for (const c of this.#consumers.values()) if (c.kind === 'iterator') c.wake?.();
  }
}

function flushMailbox(ctx: ProcessContext, match: (m: unknown) => boolean): void {
  // A timeout-0 receive only looks: it takes a matching message if one is there.
  const take = (): void => {
    ctx.receive(match, { timeout: 0 }).then(take, () => {});
  };
  take();
}
