// The host of process groups: one PgScope core per scope (running-scope.ts), wired to the node's
// clock, to internode (the `pg` class, node up/down) and to OpenTelemetry, from the host kit.
// The cores do the thinking; this file starts, routes and stops.
import { metrics, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { MAX_NAME_LENGTH } from '../runtime/base.js';
import {
  TroupeError,
  assertLimitBelow,
  observeCounters,
  periodic,
  type Node,
  type Pid,
  type Startable,
} from '../runtime/index.js';
import { limits as internodeLimits, type Internode, type NodeEvent } from '../internode/index.js';
import { PgScopeNotRunningError } from './errors.js';
import { DEFAULT_SCOPE, MAX_SCOPES, PG_TICK_MS, resolveLimits, type PgLimits, type PgTimings } from './limits.js';
import { PgScope, newStats } from './scope.js';
import { Scope, type PgMonitor, type PgMonitorOptions } from './running-scope.js';
import type { Group, LeaveResult } from './types.js';

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

/** Which scope a read looks at (the default scope when absent). */
export interface PgScopeOption {
  readonly scope?: string;
}

const NO_PIDS: readonly Pid[] = Object.freeze([]);

/**
 * The limits pg relies on from internode, as the given Internode has them (its `classLimits` when
 * it exposes them, the defaults of internode's limits otherwise).
 */
function transportLimitsOf(net: Internode): { frameBodyBytes: number; pgClassBytes: number } {
  const exposed = (net as unknown as { classLimits?: { pg?: { bytes?: number } } }).classLimits;
  return {
    frameBodyBytes: internodeLimits.MAX_FRAME_BODY_BYTES,
    pgClassBytes: exposed?.pg?.bytes ?? internodeLimits.CLASS_LIMITS.pg.bytes,
  };
}

/** A pg message must fit one frame, and a full resync must fit an empty `pg` queue (twice over). */
export function checkPgFitsTransport(limits: PgLimits, transport: { frameBodyBytes: number; pgClassBytes: number }) {
  assertLimitBelow(
    { name: 'pg maxMessageBytes', value: limits.maxMessageBytes },
    { name: 'internode MAX_FRAME_BODY_BYTES', value: transport.frameBodyBytes },
  );
  assertLimitBelow(
    { name: 'pg maxSyncBytes', value: limits.maxSyncBytes },
    { name: 'half the internode pg class bytes', value: Math.floor(transport.pgClassBytes / 2) },
    { orEqual: true },
  );
}

/** Process groups with Erlang `pg` semantics (see docs/pg.md), per scope. */
export class ProcessGroups implements Startable, AsyncDisposable {
  readonly name = 'pg';
  readonly node: Node;
  readonly #net: Internode | undefined;
  readonly #logger: Logger;
  readonly #scopes = new Map<string, Scope>();
  readonly #opts: ProcessGroupsOptions;
  /** What stop() releases, in reverse order of acquiring: node events, counters, the tick. */
  readonly #release: (() => void)[] = [];
  #stopped = false;

  private constructor(opts: ProcessGroupsOptions) {
    this.node = opts.node;
    this.#net = opts.internode;
    this.#opts = opts;
    // Checked before anything is registered, so a refused start leaves nothing behind.
    if (opts.internode !== undefined)
      checkPgFitsTransport(resolveLimits(opts.limits), transportLimitsOf(opts.internode));
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'pg', node: opts.node.name });
    this.#net?.handle('pg', (from, body) => {
      const scope = typeof body === 'object' && body !== null ? (body as { scope?: unknown }).scope : undefined;
      // A scope we do not run: its discover is retried with backoff, harmlessly.
      if (!this.#stopped && typeof scope === 'string') this.#scopes.get(scope)?.receive(from, body);
    });
    if (this.#net !== undefined) this.#release.push(this.#net.subscribe((e) => this.#onNodeEvent(e)));
    const unobserve = observeCounters(
      opts.meter ?? metrics.getMeter('troupe'),
      'troupe.pg',
      { node: this.node.name },
      Object.keys(newStats()),
      () => [...this.#scopes].map(([scope, s]) => ({ attributes: { scope }, values: { ...s.stats() } })),
    );
    const ticker = periodic(this.node.clock, PG_TICK_MS, () => {
      const now = this.node.clock.now();
      for (const scope of this.#scopes.values()) scope.tick(now);
    });
    this.#release.push(unobserve, () => ticker.cancel());
  }

  /** Starts process groups on a node, with the default scope running. */
  static start(opts: ProcessGroupsOptions): ProcessGroups {
    const pg = new ProcessGroups(opts);
    pg.startScope(DEFAULT_SCOPE);
    return pg;
  }

  /** Starts a scope, or returns it if it already runs (never a second copy). */
  startScope(name: string): Scope {
    this.#check();
    const existing = this.#scopes.get(name);
    if (existing !== undefined) return existing;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)
      throw new TroupeError('ERR_BAD_NAME', `a scope name is 1-${MAX_NAME_LENGTH} characters`);
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

  /** A running scope; PgScopeNotRunningError (ERR_BAD_ARGUMENT) if it does not run here. */
  scope(name: string = DEFAULT_SCOPE): Scope {
    this.#check();
    const s = this.#scopes.get(name);
    if (s === undefined) throw new PgScopeNotRunningError(name);
    return s;
  }

  scopes(): string[] {
    this.#check();
    return [...this.#scopes.keys()];
  }

  // The default scope's API, for the common case.
  join(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): void {
    this.scope().join(groups, pids);
  }
  leave(groups: Group | readonly Group[], pids: Pid | readonly Pid[]): LeaveResult {
    return this.scope().leave(groups, pids);
  }
  /** Members of `group` in a scope (default scope); `[]` when that scope does not run, as in Erlang. */
  members(group: Group, opts?: PgScopeOption): readonly Pid[] {
    this.#check();
    return this.#scopes.get(opts?.scope ?? DEFAULT_SCOPE)?.members(group) ?? NO_PIDS;
  }
  /** Local members of `group`; `[]` when the scope does not run, as in Erlang. */
  localMembers(group: Group, opts?: PgScopeOption): readonly Pid[] {
    this.#check();
    return this.#scopes.get(opts?.scope ?? DEFAULT_SCOPE)?.localMembers(group) ?? NO_PIDS;
  }
  /** Groups known in a scope; throws PgScopeNotRunningError when it does not run (Erlang: badarg). */
  whichGroups(opts?: PgScopeOption): readonly Group[] {
    return this.scope(opts?.scope).whichGroups();
  }
  whichLocalGroups(opts?: PgScopeOption): readonly Group[] {
    return this.scope(opts?.scope).whichLocalGroups();
  }
  monitorScope(opts?: PgMonitorOptions): PgMonitor<ReadonlyMap<Group, readonly Pid[]>> {
    return this.scope().monitorScope(opts);
  }
  monitor(group: Group, opts?: PgMonitorOptions): PgMonitor<readonly Pid[]> {
    return this.scope().monitor(group, opts);
  }
  broadcast(group: Group, message: unknown): number {
    return this.scope().broadcast(group, message);
  }
  broadcastLocal(group: Group, message: unknown): number {
    return this.scope().broadcastLocal(group, message);
  }

  #check(): void {
    if (this.#stopped) throw new TroupeError('ERR_STOPPED', 'process groups are stopped');
  }

  #onNodeEvent(e: NodeEvent): void {
    for (const scope of this.#scopes.values()) {
      if (e.type === 'up') scope.peerUp(e.node, e.incarnation);
      else scope.peerDown(e.node);
    }
  }

  /** Stops every scope: later calls throw ERR_STOPPED; the tick, node events and counters end. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const release of this.#release.splice(0).reverse()) release();
    for (const scope of this.#scopes.values()) scope.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
