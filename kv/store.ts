// The KV store of one node (`cluster.kv`): the KV group's replica (a Raft tenant), this node's
// watch hub, and the leader's duties. Every node of the cluster runs the group; calls work from
// any of them. While this node leads, it proposes what only a leader may decide: on taking
// over, `leader-changed` (every lease keeps its remaining time, plus an election's worth), then
// `expire-leases` whenever a lease is due — so a follower's clock never deletes anything.
import type { Logger } from 'pino';
import { encode, TroupeError, type Clock } from '../runtime/base.js';
import { periodic, type Periodic } from '../runtime/index.js';
import { raftHostLimits, type RaftGroup } from '../raft/host/index.js';
import { kvErrorOf } from './errors.js';
import { KV_DUTY_PROPOSAL_TIMEOUT_MS, KV_LEADER_DUTY_MS, MAX_PENDING_PROPOSALS } from './limits.js';
import { KvSpace, callOptions, type KvCallOptions } from './space.js';
import { KvTenant } from './tenant.js';
import type { KvCommand, KvResult, SpaceLimits } from './types.js';
import { WatchHub, type KvWatch, type WatchOptions, type WatchTarget } from './watch.js';
import type { EventualKv, EventualKvSpace } from './eventual/index.js';

/** The id of the KV group in the Raft host. */
export const KV_GROUP = 'kv';

export interface KvStoreOptions {
  readonly clock: Clock;
  /** Starts the KV group (the Cluster passes its addGroup). */
  readonly addGroup: (tenant: KvTenant) => Promise<RaftGroup<KvTenant>>;
  /**
   * The clock lease times are stamped with: wall-clock ms (default `Date.now`), so that a lease
   * granted through any node means the same deadline. Clocks are assumed in sync well within a
   * lease's TTL (NTP); a clock behind cannot shorten a lease.
   */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** The node's eventual spaces (`eventual(name)`); they need no Raft group. */
  readonly eventual?: EventualKv;
}

export interface KvCounters {
  proposals: number;
  refused: number;
  leaderChanges: number;
  expiries: number;
}

export class KvStore {
  readonly name = 'kv';
  readonly hub = new WatchHub();
  readonly tenant = new KvTenant(this.hub);
  readonly counters: KvCounters = { proposals: 0, refused: 0, leaderChanges: 0, expiries: 0 };
  readonly now: () => number;
  readonly #group: Promise<RaftGroup<KvTenant>>;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  readonly #eventual: EventualKv | undefined;
  #duty: Periodic | null = null;
  #pending = 0;
  /** The term in which this node proposed `leader-changed` and saw it applied. */
  #ledTerm = 0;
  #dutyBusy = false;
  #stopped = false;

  constructor(options: KvStoreOptions) {
    this.now = options.now ?? Date.now;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#eventual = options.eventual;
    this.#group = options.addGroup(this.tenant);
    this.#group.then(
      (group) => {
        if (!this.#stopped) this.#duty = periodic(options.clock, KV_LEADER_DUTY_MS, () => void this.#leaderDuty(group));
      },
      (error: unknown) => this.#logger?.warn({ err: error }, 'the KV group did not start'),
    );
  }

  /** A space's handle (created with default limits on its first write; see `defineSpace`). */
  space(name: string): KvSpace {
    return new KvSpace(name, this);
  }

  /**
   * An eventual space's handle: local reads and writes that converge by gossip (no Raft, no
   * cas/txn/leases; see docs/kv.md "Eventual spaces").
   */
  eventual(name: string): EventualKvSpace {
    if (this.#eventual === undefined) throw new TroupeError('ERR_BAD_CONFIG', 'this KV store has no eventual spaces');
    return this.#eventual.space(name);
  }

  /** Creates a space, or changes its limits (smaller ones apply to later writes only). */
  async defineSpace(name: string, limits?: Partial<SpaceLimits>, options: KvCallOptions = {}): Promise<SpaceLimits> {
    const r = (await this.propose(
      { type: 'space-define', space: name, ...(limits !== undefined ? { limits } : {}) },
      options,
    )) as Extract<KvResult, { type: 'space-defined' }>;
    return r.limits;
  }

  /** The group, once started (bounded by the call's timeout). */
  async group(options: KvCallOptions = {}): Promise<RaftGroup<KvTenant>> {
    if (this.#stopped) throw new TroupeError('ERR_STOPPED', 'the KV store is stopped');
    const timeout = options.timeout;
    if (timeout === undefined) return this.#group;
    let timer: { cancel(): void } | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = this.#clock.setTimer(timeout, () =>
        fail(new TroupeError('ERR_TIMEOUT', `the KV group did not start within ${timeout} ms`)),
      );
    });
    try {
      return await Promise.race([this.#group, late]);
    } finally {
      timer?.cancel();
    }
  }

  /** Proposes a command; resolves with its result, or throws the KvError its result names. */
  async propose(cmd: KvCommand, options: KvCallOptions = {}): Promise<KvResult> {
    if (this.#pending >= MAX_PENDING_PROPOSALS) {
      this.counters.refused++;
      throw new TroupeError('ERR_RAFT_OVERLOADED', `${MAX_PENDING_PROPOSALS} KV proposals wait on this node`);
    }
    const group = await this.group(options);
    this.#pending++;
    this.counters.proposals++;
    try {
      const r = (await group.propose(encode(cmd), callOptions(options))) as KvResult;
      if (r.type === 'error') throw kvErrorOf(r);
      return r;
    } finally {
      this.#pending--;
    }
  }

  watch(space: string, target: WatchTarget, options: WatchOptions = {}): KvWatch {
    if (this.#stopped) throw new TroupeError('ERR_STOPPED', 'the KV store is stopped');
    const revision = this.tenant.machine.spaceInfo(space)?.revision ?? 0;
    return this.hub.watch(space, target, revision, options);
  }

  /** Resolves once the KV group has a leader. */
  async ready(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const group = await this.#group;
    await group.leader({ timeout: raftHostLimits.MAX_PROPOSAL_TIMEOUT_MS, ...options });
  }

  stop(): Promise<void> {
    this.#stopped = true;
    this.#duty?.cancel();
    this.hub.close();
    return Promise.resolve();
  }

  async #leaderDuty(group: RaftGroup<KvTenant>): Promise<void> {
    const status = group.status();
    if (this.#dutyBusy || this.#stopped || status.role !== 'leader') return;
    this.#dutyBusy = true;
    try {
      if (this.#ledTerm !== status.term) {
        // The longest an election can take: leases must not expire because of it.
        const electionMs = 2 * raftHostLimits.HOST_ELECTION_TICKS * raftHostLimits.RAFT_TICK_MS;
        await this.propose(
          { type: 'leader-changed', now: this.now(), electionMs },
          { timeout: KV_DUTY_PROPOSAL_TIMEOUT_MS },
        );
        this.#ledTerm = status.term;
        this.counters.leaderChanges++;
        return;
      }
      if (this.tenant.machine.dueLeases(this.now(), 1).length === 0) return;
      const r = await this.propose(
        { type: 'expire-leases', now: this.now() },
        { timeout: KV_DUTY_PROPOSAL_TIMEOUT_MS },
      );
      if (r.type === 'leases-expired') this.counters.expiries += r.expired.length;
    } catch (error) {
      this.#logger?.debug({ err: error }, 'KV leader duty will try again');
    } finally {
      this.#dutyBusy = false;
    }
  }
}
