// The Raft host: the one place where the engine meets disk, clock and network. It runs several
// groups (tenants) side by side on one node, with one ticker for all of them, one Ready loop
// (persist → send → apply → report, docs/raft.md), and one store whose persist covers every
// group's write of a turn (group commit). Proposals and reads are accepted on any node: a
// follower forwards proposals to the leader (once) and asks the leader for read indexes.
import { metrics, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { TroupeError, seededRandom, type Clock, type Random } from '../../runtime/base.js';
import { periodic, type Periodic } from '../../runtime/index.js';
import type { NodeEvent } from '../../internode/index.js';
import { RaftError } from '../index.js';
import type { Membership, Message, RaftEvent, RaftStatus } from '../types.js';
import type { RaftLimits } from '../limits.js';
import type { LogStore } from '../store/index.js';
import { validateGroupId } from '../store/validate.js';
import { HostedGroup, type PendingRead, type ReadConsistency, type ReadResult } from './group.js';
import {
  DEFAULT_FOUNDERS_TIMEOUT_MS,
  DEFAULT_MAX_VOTERS,
  DEFAULT_PROPOSAL_TIMEOUT_MS,
  DEFAULT_VOTER_GRACE_MS,
  FOUNDERS_ROUND_MS,
  MAX_FOUNDERS,
  DEFAULT_SNAPSHOT_EVERY_ENTRIES,
  MAX_FORWARD_ATTEMPTS,
  MAX_HOST_GROUPS,
  MAX_HOST_PENDING_PROPOSALS,
  MAX_PROPOSAL_TIMEOUT_MS,
  MAX_UNROUTED_PROPOSALS,
  RAFT_TICK_MS,
  RECONCILE_EVERY_TICKS,
} from './limits.js';
import { earlyEndError, settleProposal, type Proposal } from './proposals.js';
import { SnapshotAssembler, snapshotChunks } from './snapshot-chunks.js';
import type { Tenant } from './tenant.js';
import type { RaftTransport } from './transport.js';
import { parseWireBody, type WireBody } from './wire.js';
import { RAFT_ERROR_CODES } from './codes.js';
import { observeRaftHost } from './metrics.js';
import { Persister } from './persister.js';
import { checkReconcileOptions, type ReconcileOptions } from './reconciler.js';
import { VoterKeeper } from './voters.js';
import { FounderSearch } from './founders.js';

export interface RaftHostOptions {
  /** This node's name (its id in every group). */
  readonly self: string;
  readonly store: LogStore;
  readonly clock: Clock;
  /** Without a transport every group runs on this node alone. */
  readonly transport?: RaftTransport;
  readonly random?: Random;
  readonly logger?: Logger;
  /** An OpenTelemetry meter; the global one by default (instruments `troupe.raft.*`). */
  readonly meter?: Meter;
  /** How the voter reconciler shapes groups with `membership: 'auto'`. */
  readonly voters?: Partial<ReconcileOptions>;
}

export interface GroupSpec<T extends Tenant> {
  readonly id: string;
  readonly tenant: T;
  /** Founding membership of a brand-new group (the same on every founder). Ignored once stored. */
  readonly bootstrap?: Membership;
  /** 'lease' lets the leader answer reads without a heartbeat round (bounded clock drift assumed). */
  readonly readMode?: 'safe' | 'lease';
  readonly snapshotEvery?: number;
  /** Engine limits for this group (election and heartbeat ticks default to the host's). */
  readonly limits?: Partial<RaftLimits>;
  /**
   * 'auto' (default): while this node leads, the voter reconciler adds live nodes as learners,
   * promotes caught-up learners on the odd ladder, and removes nodes down past the grace
   * period. 'fixed': the membership changes only as the bootstrap or the log says.
   */
  readonly membership?: 'auto' | 'fixed';
}

export interface RaftProposeOptions {
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

export interface RaftReadOptions extends RaftProposeOptions {
  readonly consistency?: ReadConsistency;
}

export interface RaftHostCounters {
  turns: number;
  persists: number;
  /** Turns whose writes only moved commit indexes: reported without touching the store. */
  persistsUnsynced: number;
  writesPersisted: number;
  entriesPersisted: number;
  messagesSent: number;
  messagesUnroutable: number;
  badFrames: number;
  forwarded: number;
  forwardsServed: number;
  proposalsOk: number;
  proposalsFailed: number;
  proposalsIndeterminate: number;
  elections: number;
  reconcileChanges: number;
  reconcileRefused: number;
  snapshotChunksSent: number;
}

/** A handle on one group: propose, read, status. */
export interface RaftGroup<T extends Tenant> {
  readonly id: string;
  readonly tenant: T;
  propose(command: Uint8Array, options?: RaftProposeOptions): Promise<unknown>;
  read<R>(fn: (tenant: T) => R, options?: RaftReadOptions): Promise<ReadResult<R>>;
  status(): ReturnType<HostedGroup['status']>;
  /** Resolves once the group knows a leader (this node or another). */
  leader(options?: RaftProposeOptions): Promise<string>;
}

export class RaftHost implements AsyncDisposable {
  readonly name = 'raft';
  readonly self: string;
  readonly counters: RaftHostCounters = {
    turns: 0,
    persists: 0,
    persistsUnsynced: 0,
    writesPersisted: 0,
    entriesPersisted: 0,
    messagesSent: 0,
    messagesUnroutable: 0,
    badFrames: 0,
    forwarded: 0,
    forwardsServed: 0,
    proposalsOk: 0,
    proposalsFailed: 0,
    proposalsIndeterminate: 0,
    elections: 0,
    reconcileChanges: 0,
    reconcileRefused: 0,
    snapshotChunksSent: 0,
  };
  private readonly store: LogStore;
  private readonly clock: Clock;
  private readonly net: RaftTransport | undefined;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly groups = new Map<string, HostedGroup>();
  /** Proposals waiting for a leader to be known, per group. */
  private readonly unrouted = new Map<string, Proposal[]>();
  /** Forwarded proposals by forward id. */
  private readonly forwards = new Map<number, { group: string; proposal: Proposal }>();
  private readonly assembler = new SnapshotAssembler();
  private readonly leaderWaiters = new Set<() => void>();
  private nextForwardId = 1;
  private nextTransfer = 1;
  private pending = 0;
  private readonly persister: Persister;
  private scheduled = false;
  private ticker: Periodic | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly keeper: VoterKeeper;
  /** Groups whose membership the reconciler keeps. */
  private readonly autoMembership = new Set<string>();
  private ticks = 0;
  /** The cluster's founding voters, once known (answered to peers that search). */
  private foundersKnown: readonly string[] | null = null;
  private search: FounderSearch | null = null;
  private readonly unobserve: () => void;
  private stopped = false;

  constructor(options: RaftHostOptions) {
    this.self = options.self;
    this.store = options.store;
    this.clock = options.clock;
    this.net = options.transport;
    this.random = options.random ?? seededRandom(Math.floor(Math.random() * 2 ** 31));
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ subsystem: 'raft', node: options.self });
    const voterOptions = {
      maxVoters: options.voters?.maxVoters ?? DEFAULT_MAX_VOTERS,
      graceMs: options.voters?.graceMs ?? DEFAULT_VOTER_GRACE_MS,
    };
    checkReconcileOptions(voterOptions);
    this.keeper = new VoterKeeper(this.self, voterOptions);
    this.keeper.seed(this.net?.upNodes() ?? [], this.clock.now());
    this.net?.handle('raft', (from, body) => this.onFrame(from, body));
    this.unsubscribe = this.net?.subscribe((e) => this.onNodeEvent(e)) ?? null;
    this.ticker = periodic(this.clock, RAFT_TICK_MS, () => this.tick());
    const [instruments, unobserve] = observeRaftHost(options.meter ?? metrics.getMeter('troupe'), {
      node: this.self,
      counters: () => this.counters as unknown as Record<string, number>,
      groups: () => this.groups.values(),
    });
    this.unobserve = unobserve;
    this.persister = new Persister({
      self: this.self,
      store: this.store,
      clock: this.clock,
      instruments,
      counters: this.counters,
      persisted: (batch) => {
        for (const { group, write } of batch) {
          const r = this.groups.get(group)?.engine.step({ type: 'persisted', writeId: write.id });
          if (r !== undefined && !r.ok) this.logger.error({ err: r.error }, 'persisted out of order');
        }
      },
      settled: () => {
        if (!this.stopped) this.turn();
      },
      failed: (error) => {
        this.logger.error({ err: error }, 'raft log write failed; the host stops');
        void this.stop();
      },
    });
  }

  /** Starts a group from what the store holds for it (or from `bootstrap` when it holds nothing). */
  async addGroup<T extends Tenant>(spec: GroupSpec<T>): Promise<RaftGroup<T>> {
    this.check();
    validateGroupId(spec.id);
    if (this.groups.has(spec.id)) throw new TroupeError('ERR_BAD_ARGUMENT', `group ${spec.id} already runs here`);
    if (this.groups.size >= MAX_HOST_GROUPS)
      throw new TroupeError('ERR_LIMIT', `a host runs at most ${MAX_HOST_GROUPS} groups`);
    const group = new HostedGroup({
      id: spec.id,
      self: this.self,
      tenant: spec.tenant,
      stored: this.store.load(spec.id),
      random: this.random,
      readMode: spec.readMode ?? 'safe',
      snapshotEvery: spec.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES,
      ...(spec.bootstrap !== undefined ? { bootstrap: spec.bootstrap } : {}),
      ...(spec.limits !== undefined ? { limits: spec.limits } : {}),
      wake: () => this.schedule(),
      keepSnapshot: (snapshot, keepFrom) => this.store.saveSnapshot(spec.id, snapshot, keepFrom),
      onError: (what, error) => this.logger.error({ group: spec.id, err: error }, `raft group ${spec.id}: ${what}`),
    });
    this.groups.set(spec.id, group);
    this.unrouted.set(spec.id, []);
    if ((spec.membership ?? 'auto') === 'auto') this.autoMembership.add(spec.id);
    for (const node of this.net?.upNodes() ?? []) this.sayHi(node, spec.id, true);
    await group.started();
    this.schedule();
    return this.handle(group, spec.tenant);
  }

  /** The founding voters, when known: answered to peers that search (see findFounders). */
  get founders(): readonly string[] | null {
    return this.foundersKnown;
  }

  set founders(voters: readonly string[]) {
    this.foundersKnown = [...voters];
  }

  /**
   * Finds the founding voters of a cluster started with a count: adopts them from a peer that
   * knows them, or founds with exactly `expect` new nodes (founders.ts has the rule). Rejects
   * with ERR_TIMEOUT saying what it waited for.
   */
  async findFounders(expect: number, options: RaftProposeOptions = {}): Promise<readonly string[]> {
    this.check();
    if (this.foundersKnown !== null) return this.foundersKnown;
    if (!Number.isSafeInteger(expect) || expect < 1 || expect > MAX_FOUNDERS || expect % 2 === 0)
      throw new TroupeError('ERR_BAD_CONFIG', `expect is an odd number of founders, 1..${MAX_FOUNDERS}`);
    const timeout = timeoutOf(options.timeout ?? DEFAULT_FOUNDERS_TIMEOUT_MS);
    const search = (this.search = new FounderSearch(this.self, expect));
    const deadline = this.clock.now() + timeout;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        if (this.stopped) throw new TroupeError('ERR_STOPPED', 'the raft host is stopped');
        const up = this.net?.upNodes() ?? [];
        const d = search.round(up);
        if (d.type !== 'wait') {
          this.logger.info({ voters: d.voters, how: d.type }, 'raft founders known');
          this.foundersKnown = d.voters;
          return d.voters;
        }
        if (this.clock.now() >= deadline)
          throw new TroupeError('ERR_TIMEOUT', `no founders after ${timeout} ms: ${d.why}`);
        for (const node of up) this.net?.sendFrame(node, 'raft', { t: 'fq', g: '*' });
        await new Promise<void>((r) => this.clock.setTimer(FOUNDERS_ROUND_MS, r));
      }
    } finally {
      this.search = null;
    }
  }

  /** Proposes a command to a group from this node; resolves with the tenant's result. */
  propose(groupId: string, command: Uint8Array, options: RaftProposeOptions = {}): Promise<unknown> {
    try {
      this.check();
      const group = this.groupOf(groupId);
      if (!(command instanceof Uint8Array)) throw new TroupeError('ERR_BAD_ARGUMENT', 'a command is a Uint8Array');
      if (this.pending >= MAX_HOST_PENDING_PROPOSALS)
        throw new RaftError('ERR_RAFT_OVERLOADED', `${MAX_HOST_PENDING_PROPOSALS} proposals wait on this node`);
      const timeout = timeoutOf(options.timeout);
      options.signal?.throwIfAborted();
      return new Promise<unknown>((resolve, reject) => {
        const p: Proposal = {
          command,
          state: 'unrouted',
          index: 0,
          term: 0,
          forwardId: 0,
          forwardedTo: null,
          attempts: 0,
          resolve: (r) => {
            this.counters.proposalsOk++;
            resolve(r);
          },
          reject: (e) => {
            if ((e as { code?: string }).code === 'ERR_RAFT_INDETERMINATE') this.counters.proposalsIndeterminate++;
            else this.counters.proposalsFailed++;
            reject(e);
          },
          cleanup: () => {},
        };
        this.pending++;
        const end = (why: 'timeout' | 'aborted') => {
          this.unroute(group.id, p);
          if (p.forwardId !== 0) this.forwards.delete(p.forwardId);
          settleProposal(p, { ok: false, error: earlyEndError(p, why, timeout) });
        };
        const timer = this.clock.setTimer(timeout, () => end('timeout'));
        const onAbort = () => end('aborted');
        options.signal?.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => {
          this.pending--;
          timer.cancel();
          options.signal?.removeEventListener('abort', onAbort);
          if (p.index !== 0) group.appended.delete(p.index);
        };
        this.route(group, p);
      });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Reads a group's tenant with the consistency asked for (linearizable by default). */
  read<T extends Tenant, R>(
    groupId: string,
    fn: (tenant: T) => R,
    options: RaftReadOptions = {},
  ): Promise<ReadResult<R>> {
    try {
      this.check();
      const group = this.groupOf(groupId);
      const consistency = options.consistency ?? 'linearizable';
      if (consistency === 'local') return Promise.resolve({ value: fn(group.tenant as T), applied: group.applied });
      if (consistency === 'lease' && group.readMode !== 'lease')
        throw new TroupeError('ERR_BAD_ARGUMENT', `group ${groupId} does not run lease reads (readMode 'lease')`);
      if (consistency !== 'lease' && consistency !== 'linearizable')
        throw new TroupeError('ERR_BAD_ARGUMENT', `consistency is 'linearizable', 'lease' or 'local'`);
      const timeout = timeoutOf(options.timeout);
      options.signal?.throwIfAborted();
      return new Promise<ReadResult<R>>((resolve, reject) => {
        const cleanup = () => {
          timer.cancel();
          options.signal?.removeEventListener('abort', onAbort);
        };
        const read: PendingRead = {
          index: 0,
          done: false,
          run: () => {
            cleanup();
            try {
              resolve({ value: fn(group.tenant as T), applied: group.applied });
            } catch (error) {
              reject(error as Error);
            }
          },
          reject: (error) => {
            cleanup();
            reject(error);
          },
        };
        const timer = this.clock.setTimer(timeout, () =>
          group.dropRead(read, new TroupeError('ERR_TIMEOUT', `the read was not confirmed within ${timeout} ms`)),
        );
        const onAbort = () => group.dropRead(read, new TroupeError('ERR_ABORTED', 'the read was aborted'));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        group.addRead(read);
        this.schedule();
      });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Every group's status, by group id. */
  statusAll(): Record<string, ReturnType<HostedGroup['status']>> {
    return Object.fromEntries([...this.groups].map(([id, g]) => [id, g.status()]));
  }

  status(groupId: string): ReturnType<HostedGroup['status']> {
    return this.groupOf(groupId).status();
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Stops ticking and answering; everything pending fails with ERR_STOPPED. The store stays open. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.unsubscribe?.();
    this.unobserve();
    const error = new TroupeError('ERR_STOPPED', 'the raft host is stopped');
    for (const [id, list] of this.unrouted) {
      for (const p of list) settleProposal(p, { ok: false, error });
      this.unrouted.set(id, []);
    }
    for (const { proposal } of this.forwards.values())
      settleProposal(proposal, { ok: false, error: earlyEnd(proposal) });
    this.forwards.clear();
    for (const g of this.groups.values()) g.stop(error);
    for (const wake of this.leaderWaiters) wake();
    // Let a persist in flight finish, so the store is not closed under it.
    while (this.persister.inFlight > 0) await new Promise<void>((r) => this.clock.setTimer(1, r));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ------------------------------------------------------------------ routing

  private handle<T extends Tenant>(group: HostedGroup, tenant: T): RaftGroup<T> {
    return {
      id: group.id,
      tenant,
      propose: (command, options) => this.propose(group.id, command, options),
      read: (fn, options) => this.read(group.id, fn, options),
      status: () => group.status(),
      leader: (options) => this.waitForLeader(group, options ?? {}),
    };
  }

  private route(group: HostedGroup, p: Proposal): void {
    if (p.state === 'done') return;
    const leader = group.engine.currentLeader;
    if (leader === this.self && group.engine.currentRole === 'leader') {
      if (group.overloaded()) {
        settleProposal(p, {
          ok: false,
          error: new RaftError('ERR_RAFT_OVERLOADED', `group ${group.id}: ${group.applyBacklog} entries wait to apply`),
        });
        return;
      }
      p.state = 'queued';
      group.batch.push(p);
      this.schedule();
      return;
    }
    if (leader !== null && leader !== this.self && p.attempts < MAX_FORWARD_ATTEMPTS && this.net !== undefined) {
      const id = this.nextForwardId++;
      const sent = this.net.sendFrame(leader, 'raft', { t: 'fwd', g: group.id, id, cmds: [p.command] });
      if (sent === 'queued' || sent === 'dropped-oldest') {
        p.state = 'forwarded';
        p.forwardId = id;
        p.forwardedTo = leader;
        p.attempts++;
        this.forwards.set(id, { group: group.id, proposal: p });
        this.counters.forwarded++;
        return;
      }
    }
    const list = this.unrouted.get(group.id)!;
    if (list.length >= MAX_UNROUTED_PROPOSALS) {
      settleProposal(p, {
        ok: false,
        error: new RaftError('ERR_RAFT_NO_LEADER', `group ${group.id} has no reachable leader`),
      });
      return;
    }
    p.state = 'unrouted';
    list.push(p);
  }

  private unroute(groupId: string, p: Proposal): void {
    const list = this.unrouted.get(groupId);
    const at = list?.indexOf(p) ?? -1;
    if (at >= 0) list!.splice(at, 1);
  }

  /** A leader became known: send it what waited. */
  private routeWaiting(group: HostedGroup): void {
    const list = this.unrouted.get(group.id)!;
    if (list.length === 0 || group.engine.currentLeader === null) return;
    this.unrouted.set(group.id, []);
    for (const p of list) this.route(group, p);
  }

  private waitForLeader(group: HostedGroup, options: RaftProposeOptions): Promise<string> {
    const timeout = timeoutOf(options.timeout);
    return new Promise<string>((resolve, reject) => {
      const check = () => {
        const leader = group.engine.currentLeader;
        if (this.stopped) finish(new TroupeError('ERR_STOPPED', 'the raft host is stopped'));
        else if (leader !== null) finish(null, leader);
      };
      const finish = (error: Error | null, leader?: string) => {
        this.leaderWaiters.delete(check);
        timer.cancel();
        options.signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve(leader!);
      };
      const timer = this.clock.setTimer(timeout, () =>
        finish(new RaftError('ERR_RAFT_NO_LEADER', `group ${group.id} has no leader after ${timeout} ms`)),
      );
      const onAbort = () => finish(new TroupeError('ERR_ABORTED', 'aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.leaderWaiters.add(check);
      check();
    });
  }

  // ------------------------------------------------------------------ the Ready loop

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private tick(): void {
    for (const g of this.groups.values()) g.engine.step({ type: 'tick' });
    if (++this.ticks % RECONCILE_EVERY_TICKS === 0) this.reconcileVoters();
    this.turn();
  }

  private reconcileVoters(): void {
    const now = this.clock.now();
    for (const id of this.autoMembership) {
      const g = this.groups.get(id);
      if (g === undefined) continue;
      const d = this.keeper.run(id, g.engine, now, this.counters);
      if (d.type !== 'none') this.logger.info({ group: id, decision: d }, `raft group ${id}: membership ${d.type}`);
    }
  }

  /** One turn: append batches, ask read indexes, take every Ready, start one persist. */
  private turn(): void {
    if (this.stopped) return;
    this.counters.turns++;
    for (const g of this.groups.values()) {
      if (g.engine.currentRole === 'leader') g.flushBatch();
      else if (g.batch.length > 0) {
        const moved = g.batch;
        g.batch = [];
        for (const p of moved) this.route(g, p);
      }
      g.flushReads();
      while (g.engine.hasReady()) {
        const rd = g.engine.ready();
        if (rd.write !== null) this.persister.add({ group: g.id, write: rd.write }, g.mustSync(rd.write));
        for (const m of rd.messages) this.send(g.id, m);
        g.takeReady(rd);
        for (const e of rd.events) this.onRaftEvent(g, e);
      }
    }
    this.persister.start();
  }

  private send(groupId: string, m: Message): void {
    if (this.net === undefined) return;
    if (m.type === 'snapshot') {
      for (const chunk of snapshotChunks(groupId, m, this.nextTransfer++)) {
        this.counters.snapshotChunksSent++;
        if (this.net.sendFrame(m.to, 'raft', chunk) === 'no-route') return this.unreachable(groupId, m.to);
      }
      return;
    }
    const r = this.net.sendFrame(m.to, 'raft', { t: 'msg', g: groupId, m });
    if (r === 'no-route') this.unreachable(groupId, m.to);
    else this.counters.messagesSent++;
  }

  private unreachable(groupId: string, peer: string): void {
    this.counters.messagesUnroutable++;
    this.groups.get(groupId)?.engine.step({ type: 'unreachable', peer });
  }

  private onRaftEvent(g: HostedGroup, e: RaftEvent): void {
    if (e.type === 'role' && e.role === 'candidate') this.counters.elections++;
    if (e.type === 'leader' || e.type === 'role') {
      if (e.leader !== null) this.routeWaiting(g);
      for (const wake of [...this.leaderWaiters]) wake();
    }
  }

  // ------------------------------------------------------------------ the network

  private onFrame(from: string, raw: unknown): void {
    if (this.stopped) return;
    const body = parseWireBody(raw);
    if (typeof body === 'string') {
      this.counters.badFrames++;
      this.logger.debug({ from, problem: body }, 'bad raft frame dropped');
      return;
    }
    if (body.t === 'fq') {
      this.net?.sendFrame(from, 'raft', { t: 'fa', g: '*', voters: this.foundersKnown });
      return;
    }
    if (body.t === 'fa') {
      this.search?.answer(from, body.voters);
      return;
    }
    const group = this.groups.get(body.g);
    if (group === undefined) {
      if (body.t === 'fwd') this.answerForward(from, body, null, noGroup(body.g));
      return;
    }
    switch (body.t) {
      case 'hi':
        this.keeper.runs(group.id, from);
        if (body.ask) this.sayHi(from, group.id, false);
        break;
      case 'msg':
        this.stepMessage(group, from, body.m);
        break;
      case 'snap': {
        const m = this.assembler.add(from, body);
        if (m !== null) this.stepMessage(group, from, m);
        break;
      }
      case 'fwd':
        this.serveForward(group, from, body);
        break;
      case 'fwdr':
        this.forwardAnswered(body);
        break;
    }
  }

  private stepMessage(group: HostedGroup, from: string, m: Message): void {
    if (m.from !== from) {
      this.counters.badFrames++;
      return;
    }
    const r = group.engine.step({ type: 'message', message: m });
    if (!r.ok) this.counters.badFrames++;
    this.schedule();
  }

  /** A follower's proposal: propose it here (never forward it again) and answer with the outcome. */
  private serveForward(group: HostedGroup, from: string, body: Extract<WireBody, { t: 'fwd' }>): void {
    this.counters.forwardsServed++;
    const command = body.cmds[0]!;
    if (group.engine.currentRole !== 'leader') {
      const leader = group.engine.currentLeader;
      const error = new RaftError('ERR_RAFT_NOT_LEADER', `${this.self} is not the leader of ${group.id}`, leader);
      this.answerForward(from, body, null, error);
      return;
    }
    // No timeout of its own beyond the default: the follower's wait bounds what it sees.
    this.propose(group.id, command).then(
      (result) => this.answerForward(from, body, result, null),
      (error: unknown) => this.answerForward(from, body, null, error as Error),
    );
  }

  private answerForward(to: string, body: { g: string; id: number }, result: unknown, error: Error | null): void {
    const answer =
      error === null
        ? { t: 'fwdr', g: body.g, id: body.id, ok: true, results: [result] }
        : {
            t: 'fwdr',
            g: body.g,
            id: body.id,
            ok: false,
            code: forwardCode(error),
            message: error.message,
            leader: (error as { leader?: string | null }).leader ?? null,
          };
    this.net?.sendFrame(to, 'raft', answer);
  }

  private forwardAnswered(body: Extract<WireBody, { t: 'fwdr' }>): void {
    const entry = this.forwards.get(body.id);
    if (entry === undefined) return;
    this.forwards.delete(body.id);
    const p = entry.proposal;
    p.forwardId = 0;
    if (body.ok) {
      settleProposal(p, { ok: true, result: body.results[0] });
      return;
    }
    if (body.code === 'ERR_RAFT_NOT_LEADER') {
      // Not appended there: routing again is safe (bounded by MAX_FORWARD_ATTEMPTS).
      const group = this.groups.get(entry.group);
      if (group !== undefined) {
        this.route(group, p);
        return;
      }
    }
    settleProposal(p, { ok: false, error: new RaftError(body.code, body.message, body.leader) });
  }

  /** Tells a peer this node runs `group`, so its leader may take this node in. */
  private sayHi(node: string, group: string, ask: boolean): void {
    this.net?.sendFrame(node, 'raft', { t: 'hi', g: group, ask });
  }

  private onNodeEvent(e: NodeEvent): void {
    this.keeper.seen(e, this.clock.now());
    if (e.type === 'down') this.search?.lost(e.node);
    if (e.type === 'up') for (const id of this.groups.keys()) this.sayHi(e.node, id, false);
    if (e.type !== 'down') return;
    this.assembler.forget(e.node);
    for (const g of this.groups.values()) {
      g.engine.step({ type: 'unreachable', peer: e.node });
      // The leader's connection dropped: campaign now instead of waiting out the election
      // timeout (pre-vote keeps a live leader safe from a node that merely lost its link).
      if (g.engine.currentLeader === e.node && e.reason !== 'new-incarnation') g.engine.step({ type: 'campaign' });
    }
    for (const [id, { proposal }] of this.forwards) {
      if (proposal.forwardedTo !== e.node) continue;
      this.forwards.delete(id);
      settleProposal(proposal, { ok: false, error: earlyEnd(proposal) });
    }
    this.schedule();
  }

  private groupOf(id: string): HostedGroup {
    const g = this.groups.get(id);
    if (g === undefined) throw noGroup(id);
    return g;
  }

  private check(): void {
    const failure = this.persister.failure;
    if (failure !== null)
      throw new TroupeError('ERR_STOPPED', `the raft host stopped: ${failure.message}`, { cause: failure });
    if (this.stopped) throw new TroupeError('ERR_STOPPED', 'the raft host is stopped');
  }
}

function earlyEnd(p: Proposal): Error {
  return new RaftError('ERR_RAFT_INDETERMINATE', `outcome unknown: ${p.forwardedTo ?? 'the leader'} went away`);
}

function noGroup(id: string): RaftError {
  return new RaftError('ERR_RAFT_NO_GROUP', `no raft group ${JSON.stringify(id)} runs here`);
}

/** The code a follower is told; anything else that ended a forwarded proposal is indeterminate to it. */
function forwardCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && RAFT_ERROR_CODES.has(code) ? code : 'ERR_RAFT_INDETERMINATE';
}

function timeoutOf(ms: number | undefined): number {
  const t = ms ?? DEFAULT_PROPOSAL_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0 || t > MAX_PROPOSAL_TIMEOUT_MS)
    throw new TroupeError('ERR_BAD_ARGUMENT', `timeout is 1..${MAX_PROPOSAL_TIMEOUT_MS} ms`);
  return t;
}

export type { RaftStatus };
