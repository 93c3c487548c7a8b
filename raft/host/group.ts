// One Raft group on a host: its engine, its tenant, the proposals appended here that wait for
// their outcome, the reads that wait for a read index, and the apply queue that feeds the
// tenant off the engine's path (a slow tenant slows proposals, never heartbeats).
import PQueue from 'p-queue';
import { RaftEngine, RaftError, type Entry, type Ready, type Snapshot, type Write } from '../index.js';
import type { Membership, RaftStatus, ReadId } from '../types.js';
import type { RaftLimits } from '../limits.js';
import type { StoredLog } from '../store/index.js';
import type { Random } from '../../runtime/base.js';
import { settleProposal, type Proposal } from './proposals.js';
import type { Tenant } from './tenant.js';
import { HOST_ELECTION_TICKS, HOST_HEARTBEAT_TICKS, MAX_APPLY_BACKLOG, MAX_PENDING_READS } from './limits.js';

export type ReadConsistency = 'linearizable' | 'lease' | 'local';

export interface ReadResult<R> {
  readonly value: R;
  /** The index the tenant had applied when `fn` ran: how fresh the read is. */
  readonly applied: number;
}

export interface PendingRead {
  readonly run: () => void;
  readonly reject: (error: Error) => void;
  /** Set once a read index is known. */
  index: number;
  done: boolean;
}

export interface GroupOptions {
  readonly id: string;
  readonly self: string;
  readonly tenant: Tenant;
  readonly stored: StoredLog;
  readonly random: Random;
  readonly bootstrap?: Membership;
  readonly readMode: 'safe' | 'lease';
  readonly snapshotEvery: number;
  readonly limits?: Partial<RaftLimits>;
  /** Called when the engine may have output (the host runs a turn). */
  readonly wake: () => void;
  /** Called with a snapshot the group took, to be kept by the store (entries below keepFrom go). */
  readonly keepSnapshot: (snapshot: Snapshot, keepFrom: number) => Promise<void>;
  readonly onError: (what: string, error: unknown) => void;
}

export interface GroupCounters {
  proposed: number;
  applied: number;
  readsServed: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  tenantErrors: number;
}

export class HostedGroup {
  readonly id: string;
  readonly engine: RaftEngine;
  readonly tenant: Tenant;
  readonly readMode: 'safe' | 'lease';
  readonly counters: GroupCounters = {
    proposed: 0,
    applied: 0,
    readsServed: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    tenantErrors: 0,
  };
  /** Proposals waiting to be appended in the next turn. */
  batch: Proposal[] = [];
  /** Appended here, by index, until applied (or overwritten). */
  readonly appended = new Map<number, Proposal>();
  /** Reads waiting for the next read-index request, then by read id, then for apply. */
  readBatch: PendingRead[] = [];
  readonly readsById = new Map<ReadId, PendingRead[]>();
  readonly readsByIndex: PendingRead[] = [];
  pendingReads = 0;
  private nextReadId = 1;
  /** The index the tenant has applied (what reads see). */
  applied: number;
  private backlog = 0;
  private lastSnapshot: number;
  private readonly applyQueue = new PQueue({ concurrency: 1 });
  private readonly opts: GroupOptions;
  private restoring: Promise<void> | null = null;
  private stopped = false;
  /** Term and vote of the last write handed to the store: a write that changes them must sync. */
  private written: { term: number; vote: string | null };

  constructor(opts: GroupOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.tenant = opts.tenant;
    this.readMode = opts.readMode;
    const snapIndex = opts.stored.snapshot?.meta.index ?? 0;
    this.applied = snapIndex;
    this.lastSnapshot = snapIndex;
    this.written = { term: opts.stored.hardState.term, vote: opts.stored.hardState.vote };
    this.engine = new RaftEngine({
      id: opts.self,
      random: opts.random,
      limits: { electionTicks: HOST_ELECTION_TICKS, heartbeatTicks: HOST_HEARTBEAT_TICKS, ...opts.limits },
      preVote: true,
      checkQuorum: true,
      readMode: opts.readMode,
      initial: { ...opts.stored, applied: snapIndex },
      ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}),
    });
    // The tenant starts from the stored snapshot; the entries after it are applied again.
    const snap = opts.stored.snapshot;
    if (snap !== null) this.restoring = this.runApply(() => this.opts.tenant.restore(snap.data, snap.meta.index));
  }

  /**
   * Whether a write must reach the disk before it is reported persisted: entries, a snapshot, a
   * new term or vote are promises to peers; a commit index alone is not (etcd's MustSync).
   */
  mustSync(write: Write): boolean {
    const hs = write.hardState;
    const changed = hs !== null && (hs.term !== this.written.term || hs.vote !== this.written.vote);
    if (hs !== null) this.written = { term: hs.term, vote: hs.vote };
    return changed || write.entries.length > 0 || write.snapshot !== null;
  }

  /** Resolves once the tenant holds the stored snapshot (at once when there was none). */
  async started(): Promise<void> {
    await this.restoring;
  }

  get applyBacklog(): number {
    return this.backlog;
  }

  /** Whether a new proposal must be refused because the tenant is too far behind. */
  overloaded(): boolean {
    return this.backlog >= MAX_APPLY_BACKLOG;
  }

  /** Appends this turn's batch (leader only); the proposals learn their index or their error. */
  flushBatch(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch.filter((p) => p.state === 'queued');
    this.batch = [];
    if (batch.length === 0) return;
    const r = this.engine.step({ type: 'propose', commands: batch.map((p) => p.command) });
    if (!r.ok) {
      for (const p of batch) settleProposal(p, { ok: false, error: r.error });
      return;
    }
    this.counters.proposed += batch.length;
    batch.forEach((p, i) => {
      p.state = 'appended';
      p.index = r.index + i;
      p.term = r.term;
      this.appended.set(p.index, p);
    });
  }

  /** Asks for one read index covering every read queued this turn. */
  flushReads(): void {
    if (this.readBatch.length === 0) return;
    const batch = this.readBatch.filter((r) => !r.done);
    this.readBatch = [];
    if (batch.length === 0) return;
    const readId = this.nextReadId++;
    const r = this.engine.step({ type: 'readIndex', readId });
    if (!r.ok) {
      for (const read of batch) this.failRead(read, r.error);
      return;
    }
    this.readsById.set(readId, batch);
  }

  addRead(read: PendingRead): void {
    if (this.pendingReads >= MAX_PENDING_READS) {
      read.reject(new RaftError('ERR_RAFT_OVERLOADED', `${MAX_PENDING_READS} reads wait in group ${this.id}`));
      return;
    }
    this.pendingReads++;
    this.readBatch.push(read);
  }

  /** Ends a read early (timeout, abort); its slot is freed. */
  dropRead(read: PendingRead, error: Error): void {
    this.failRead(read, error);
  }

  /** Handles the parts of a Ready that are this group's alone: apply, snapshot, reads. */
  takeReady(rd: Ready): void {
    for (const rs of rd.readStates) {
      const reads = this.readsById.get(rs.readId);
      this.readsById.delete(rs.readId);
      for (const read of reads ?? []) {
        if (read.done) continue;
        read.index = rs.index;
        this.readsByIndex.push(read);
      }
    }
    for (const id of rd.readsDropped) {
      const reads = this.readsById.get(id);
      this.readsById.delete(id);
      const leader = this.engine.currentLeader;
      for (const read of reads ?? [])
        this.failRead(read, new RaftError('ERR_RAFT_NO_LEADER', 'the read index request was dropped', leader));
    }
    if (rd.snapshot !== null) this.queueRestore(rd.snapshot);
    if (rd.entries.length > 0) this.queueApply(rd.entries);
    this.serveReads();
  }

  /** Fails everything pending: the host stops. */
  stop(error: Error): void {
    this.stopped = true;
    this.applyQueue.clear();
    for (const p of this.batch) settleProposal(p, { ok: false, error });
    // Appended ones may still commit (another node leads on): their outcome is unknown.
    for (const p of this.appended.values()) settleProposal(p, { ok: false, error: stoppedAppended(p, error) });
    this.batch = [];
    this.appended.clear();
    for (const read of [...this.readBatch, ...[...this.readsById.values()].flat(), ...this.readsByIndex])
      this.failRead(read, error);
  }

  status(): RaftStatus & { readonly backlog: number; readonly tenantApplied: number } {
    return { ...this.engine.status(), backlog: this.backlog, tenantApplied: this.applied };
  }

  // ------------------------------------------------------------------ apply

  private queueApply(entries: readonly Entry[]): void {
    this.backlog += entries.length;
    void this.runApply(async () => {
      for (const e of entries) {
        if (this.stopped) return;
        await this.applyOne(e);
        this.backlog--;
      }
      const last = (entries[entries.length - 1] as Entry).index;
      this.reportApplied(last, 'applied');
      await this.maybeSnapshot();
    });
  }

  private async applyOne(e: Entry): Promise<void> {
    const waiting = this.appended.get(e.index);
    if (waiting !== undefined) this.appended.delete(e.index);
    if (e.kind !== 'normal') {
      if (waiting !== undefined) settleProposal(waiting, { ok: false, error: dropped(e.index) });
      this.applied = e.index;
      return;
    }
    let result: unknown;
    try {
      const r = this.tenant.apply(e.data, e.index);
      result = r instanceof Promise ? await r : r;
    } catch (error) {
      // A deterministic tenant fails alike everywhere; the proposer learns it, the log goes on.
      this.counters.tenantErrors++;
      this.opts.onError(`tenant apply at ${e.index}`, error);
      this.applied = e.index;
      if (waiting !== undefined && waiting.term === e.term)
        settleProposal(waiting, { ok: false, error: error as Error });
      else if (waiting !== undefined) settleProposal(waiting, { ok: false, error: dropped(e.index) });
      return;
    }
    this.applied = e.index;
    this.counters.applied++;
    if (waiting === undefined) return;
    if (waiting.term === e.term) settleProposal(waiting, { ok: true, result });
    else settleProposal(waiting, { ok: false, error: dropped(e.index) });
  }

  private queueRestore(snapshot: Snapshot): void {
    void this.runApply(async () => {
      await this.tenant.restore(snapshot.data, snapshot.meta.index);
      this.counters.snapshotsInstalled++;
      this.lastSnapshot = snapshot.meta.index;
      // Proposals the snapshot covers: whether they made it into it is not known here.
      for (const [index, p] of this.appended) {
        if (index > snapshot.meta.index) continue;
        this.appended.delete(index);
        settleProposal(p, {
          ok: false,
          error: new RaftError(
            'ERR_RAFT_INDETERMINATE',
            `a snapshot at ${snapshot.meta.index} replaced index ${index}`,
          ),
        });
      }
      this.applied = snapshot.meta.index;
      this.reportApplied(snapshot.meta.index, 'snapshotInstalled');
    });
  }

  private reportApplied(index: number, type: 'applied' | 'snapshotInstalled'): void {
    const r = this.engine.step({ type, index });
    if (!r.ok) this.opts.onError(`report ${type} ${index}`, r.error);
    this.serveReads();
    this.opts.wake();
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.applied - this.lastSnapshot < this.opts.snapshotEvery) return;
    const index = this.applied;
    const data = await this.tenant.snapshot();
    const r = this.engine.step({ type: 'snapshotTaken', index, data });
    if (!r.ok) {
      this.opts.onError(`snapshot at ${index}`, r.error);
      return;
    }
    this.lastSnapshot = index;
    this.counters.snapshotsTaken++;
    const meta = this.engine.snapshotMeta();
    if (meta !== null) await this.opts.keepSnapshot({ meta, data }, this.engine.firstIndex);
  }

  private runApply(task: () => unknown): Promise<void> {
    return this.applyQueue
      .add(async () => {
        await task();
      })
      .catch((error: unknown) => this.opts.onError('apply', error));
  }

  // ------------------------------------------------------------------ reads

  private serveReads(): void {
    if (this.readsByIndex.length === 0) return;
    let kept = 0;
    for (const read of this.readsByIndex) {
      if (read.done) continue;
      if (read.index <= this.applied) {
        read.done = true;
        this.pendingReads--;
        this.counters.readsServed++;
        read.run();
      } else this.readsByIndex[kept++] = read;
    }
    this.readsByIndex.length = kept;
  }

  private failRead(read: PendingRead, error: Error): void {
    if (read.done) return;
    read.done = true;
    this.pendingReads--;
    read.reject(error);
  }
}

function dropped(index: number): RaftError {
  return new RaftError('ERR_RAFT_DROPPED', `another leader's entry took index ${index}; the command will never commit`);
}

function stoppedAppended(p: Proposal, cause: Error): Error {
  return new RaftError(
    'ERR_RAFT_INDETERMINATE',
    `outcome unknown (${cause.message}): appended at index ${p.index} (term ${p.term}), not yet applied`,
  );
}
