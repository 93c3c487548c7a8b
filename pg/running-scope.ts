// One running scope on a node: a PgScope core wired to the runtime (process exits, mailboxes)
// and to internode (the `pg` class). Local monitors get their events before join/leave returns
// (rule 19); peer messages are batched until the end of the turn, one packet per peer.
import type { Logger } from 'pino';
import { BoundedStream, TroupeError, isPid, type Node, type Pid, type ProcessContext } from '../runtime/index.js';
import type { Internode } from '../internode/index.js';
import type { PgScope } from './scope.js';
import type { Group, LeaveResult, MonitorRef, PgEvent, PgStats } from './types.js';

/** What a monitor delivers to a process's mailbox (`monitorFrom(ctx)` monitors). */
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

export interface PgMonitorOptions {
  /** Aborting ends the monitor (the iterator sees done). */
  readonly signal?: AbortSignal;
}

type Consumer =
  | { readonly kind: 'stream'; readonly stream: BoundedStream<PgEvent> }
  | { readonly kind: 'mailbox'; readonly owner: Pid };

const OVERFLOW: PgEvent = Object.freeze({ kind: 'overflow' as const });

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
    this.#check();
    this.#core.join(groups, pids);
    for (const pid of Array.isArray(pids) ? (pids as readonly Pid[]) : [pids as Pid]) this.#watch(pid);
    this.#afterLocalChange();
  }

  /** Removes one membership per listed pid per group; 'not_joined' if none was a member. */
  leave(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): LeaveResult {
    this.#check();
    const result = this.#core.leave(groups, pids);
    this.#afterLocalChange();
    return result;
  }

  /** Every member on every connected node, newest first per node, once per join. Cached, immutable. */
  members(group: Group): readonly Pid[] {
    this.#check();
    return this.#core.members(group);
  }

  localMembers(group: Group): readonly Pid[] {
    this.#check();
    return this.#core.localMembers(group);
  }

  whichGroups(): readonly Group[] {
    this.#check();
    return this.#core.whichGroups();
  }

  whichLocalGroups(): readonly Group[] {
    this.#check();
    return this.#core.whichLocalGroups();
  }

  /** Snapshot of every group, then every later change in the scope, as an async iterator. */
  monitorScope(opts?: PgMonitorOptions): PgMonitor<ReadonlyMap<Group, readonly Pid[]>> {
    this.#check();
    const handle = this.#core.monitorScope();
    return this.#monitorStream(handle.ref, handle.snapshot, opts);
  }

  /** Snapshot of one group, then every later change of it, as an async iterator. */
  monitor(group: Group, opts?: PgMonitorOptions): PgMonitor<readonly Pid[]> {
    this.#check();
    const handle = this.#core.monitor(group);
    return this.#monitorStream(handle.ref, handle.snapshot, opts);
  }

  /**
   * A monitor owned by a process: its events arrive in that process's mailbox as `PgMailboxMessage`s
   * (as Erlang's pg does), and it ends when the process exits. Pass `group` to watch one group.
   */
  monitorFrom(
    ctx: ProcessContext,
    group?: Group,
  ): { ref: MonitorRef; snapshot: ReadonlyMap<Group, readonly Pid[]> | readonly Pid[] } {
    this.#check();
    const handle = group === undefined ? this.#core.monitorScope(ctx.self) : this.#core.monitor(group, ctx.self);
    this.#consumers.set(handle.ref, { kind: 'mailbox', owner: ctx.self });
    this.#watch(ctx.self);
    return { ref: handle.ref, snapshot: handle.snapshot };
  }

  /**
   * Stops a monitor at once. For a process's monitor, pass its context: every event of that
   * monitor already in its mailbox is removed before this returns (Erlang's pg:demonitor/1).
   * False if the monitor had already stopped.
   */
  demonitor(ref: MonitorRef, ctx?: ProcessContext): boolean {
    this.#check();
    return this.#demonitor(ref, ctx);
  }

  /** Sends `message` once to each distinct member; returns how many sends were made. */
  broadcast(group: Group, message: unknown): number {
    this.#check();
    return this.#sendEach(this.#core.distinctMembers(group), message);
  }

  /** Sends `message` once to each distinct local member. */
  broadcastLocal(group: Group, message: unknown): number {
    this.#check();
    return this.#sendEach(this.#core.distinctLocalMembers(group), message);
  }

  /** The core's counters (readable after stop too, for a last look). */
  stats(): Readonly<PgStats> {
    return this.#core.stats();
  }

  // ---------------------------------------------------------------- driven by ProcessGroups

  /** A `pg` frame for this scope from node `from`. */
  receive(from: string, body: unknown): void {
    if (this.#closed) return;
    this.#core.receive(from, body);
    this.flush();
  }

  peerUp(node: string, incarnation: number): void {
    if (this.#closed) return;
    this.#core.peerUp(node, incarnation);
    this.flush();
  }

  peerDown(node: string): void {
    if (this.#closed) return;
    this.#core.peerDown(node);
    this.flush();
  }

  tick(now: number): void {
    if (this.#closed) return;
    // Room returned in a peer's pg queue: its pending resync may go.
    for (const p of this.#core.peers())
      if ((this.#net?.queued(p.node, 'pg') ?? 0) === 0) this.#core.peerQueueReady(p.node);
    this.#core.tick(now);
    this.flush();
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

  /** Stops the scope: exit watches end, iterator monitors end (done), every later call throws ERR_STOPPED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of this.#watched.values()) cancel();
    this.#watched.clear();
    for (const c of this.#consumers.values()) if (c.kind === 'stream') c.stream.end();
    this.#consumers.clear();
  }

  // ---------------------------------------------------------------- internals

  #check(): void {
    if (this.#closed) throw new TroupeError('ERR_STOPPED', `pg scope ${this.name} is stopped`);
  }

  #demonitor(ref: MonitorRef, ctx?: ProcessContext): boolean {
    const consumer = this.#consumers.get(ref);
    const was = this.#forget(ref);
    if (consumer?.kind === 'stream') consumer.stream.return().catch(() => {}); // drops what it buffered
    if (ctx !== undefined && consumer?.kind === 'mailbox')
      removeFromMailbox(ctx, (m) => isPgMessage(m) && m.ref === ref && m.scope === this.name);
    return was;
  }

  #forget(ref: MonitorRef): boolean {
    this.#consumers.delete(ref);
    return this.#core.demonitor(ref);
  }

  /**
   * Sends to each of `pids` (already distinct: the core caches them per group). A value that is not
   * a message throws before anyone gets it (local and remote members alike); a full link to one
   * member's node (back-pressure) must not stop the others: the caller sees the count.
   */
  #sendEach(pids: readonly Pid[], message: unknown): number {
    return this.#node.sendEach(pids, message, (pid, err) => {
      this.#logger.debug({ pid: pid.toString(), err: err.message }, 'broadcast send refused');
    });
  }

  // An iterator monitor: the core's events move into a bounded stream as they become ready. A
  // consumer that falls maxQueuedEventsPerMonitor behind gets `overflow` and the monitor ends.
  #monitorStream<S>(ref: MonitorRef, snapshot: S, opts: PgMonitorOptions | undefined): PgMonitor<S> {
    const stream = new BoundedStream<PgEvent>({
      limit: this.#core.limits.maxQueuedEventsPerMonitor + 1,
      overflow: 'error',
      ...(opts?.signal !== undefined ? { signal: opts.signal } : {}),
      onClose: () => void this.#forget(ref),
    });
    if (!stream.closed) this.#consumers.set(ref, { kind: 'stream', stream });
    else this.#forget(ref);
    const stop = (): boolean => (this.#closed ? false : this.#demonitor(ref));
    return {
      ref,
      snapshot,
      demonitor: stop,
      [Symbol.dispose]: () => void stop(),
      [Symbol.asyncIterator]: () => stream,
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

  #afterLocalChange(): void {
    this.#deliver(this.#core.takeReadyMonitors());
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }

  #deliver(refs: readonly MonitorRef[]): void {
    for (const ref of refs) {
      const consumer = this.#consumers.get(ref);
      const events = this.#core.takeEvents(ref);
      if (consumer === undefined) continue;
      if (consumer.kind === 'mailbox') {
        for (const event of events)
          this.#node.send(consumer.owner, { type: 'pg', scope: this.name, ref, event } satisfies PgMailboxMessage);
        continue;
      }
      const { stream } = consumer;
      for (const event of events) {
        if (event.kind !== 'overflow' && stream.length < this.#core.limits.maxQueuedEventsPerMonitor) {
          stream.push(event);
          continue;
        }
        // Behind by the bound (here, or in the core's own queue): end honestly, never skip silently.
        stream.push(OVERFLOW);
        stream.end();
        break;
      }
    }
  }
}

/**
 * Removes from `ctx`'s mailbox, before returning, every message `match` accepts. A receive with
 * timeout 0 takes a matching message synchronously when there is one; the match records whether
 * it found one, so the loop stops at the first miss.
 */
function removeFromMailbox(ctx: ProcessContext, match: (m: unknown) => boolean): void {
  for (;;) {
    let found = false;
    ctx.receive((m) => (found = match(m)), { timeout: 0 }).catch(() => {});
    if (!found) return;
  }
}
