// The raft engine: a deterministic state machine. A host calls `step(input)` for every tick,
// message, request and storage completion, then `ready()` to take what must be done. No I/O,
// no clock, no timers; election jitter comes from the seeded source passed in.
//
// Durability is a protocol between engine and host: every change of term, vote, log or
// snapshot goes out in a numbered Write; the engine holds back every message that promises
// durable state (vote grants, append acknowledgements) until the host reports that write
// persisted, and a leader counts itself toward a commit quorum only for entries it knows are
// durable. Appends to followers go out at once, in parallel with the leader's own write.
//
// What etcd-io/raft also keeps apart lives in small files this one calls: quorum.ts
// (majorities), election.ts (vote requests, grants, the tally), replication.ts (a leader's
// followers: what it sends them, what their answers change), follower.ts (whether an append
// or snapshot fits the log), read-only.ts (a leader's reads), confchange.ts (membership
// changes, transfer), writes.ts (the storage protocol's bookkeeping) and apply.ts (what the
// host applies).

import { Applying } from './apply.js';
import { LeaderTransfer, mostCaughtUpVoter, nextMembership, transferProblem } from './confchange.js';
import { countsAnswer, grantsVote, voteAnswer, voteRequests, VoteTally } from './election.js';
import { RaftError } from './errors.js';
import { appendOutcome, snapshotNeeded } from './follower.js';
import { entryBytes, RaftLog } from './log.js';
import { validateLimits, type RaftLimits } from './limits.js';
import type { Progress } from './progress.js';
import type { RaftCounters, RaftOptions, RandomSource, StepResult, UnsafeTestOnlyBreakage } from './options.js';
import { LeaderReads } from './read-only.js';
import { Replication, type Outbox } from './replication.js';
import { Writes } from './writes.js';
import { messageProblem, proposalBytes } from './validate.js';
import type {
  AppendMessage,
  AppendResponse,
  ConfigChange,
  Entry,
  HeartbeatMessage,
  Input,
  Message,
  NodeId,
  RaftEvent,
  RaftStatus,
  ReadId,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMessage,
  SnapshotMeta,
  VoteMessage,
  VoteResponse,
} from './types.js';

const OK: StepResult = Object.freeze({ ok: true, index: 0, term: 0 });

const EMPTY: readonly never[] = Object.freeze([]);

function fail(error: RaftError): StepResult {
  return { ok: false, error };
}

export class RaftEngine {
  readonly id: NodeId;
  readonly limits: RaftLimits;
  readonly counters: RaftCounters = { badMessages: 0, heldDropped: 0, readsDropped: 0, proposalsRefused: 0 };
  private readonly random: RandomSource;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly leaseReads: boolean;
  private readonly broken: UnsafeTestOnlyBreakage;

  private term = 0;
  private vote: NodeId | null = null;
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private readonly log: RaftLog;
  private commit = 0;
  /** Entries and snapshots handed to the host to apply, and how far it applied. */
  private readonly applying: Applying;
  /** Latest snapshot (kept to send to followers that fell behind the log). */
  private snapshot: Snapshot | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  private readonly tally = new VoteTally();

  /** The leader's view of each follower and what it sends them. */
  private readonly peers: Replication;
  private readonly transfer = new LeaderTransfer();
  private uncommittedBytes = 0;

  /** Ticks seen by this node (its local clock, for leases). */
  private ticks = 0;
  /** Heartbeat rounds and the reads waiting on them. */
  private readonly reads: LeaderReads;

  /** The storage protocol: writes handed out and durable, the durable log prefix, held messages. */
  private readonly writes: Writes;
  private membershipIndex: number;

  // Outputs waiting for ready().
  private msgs: Message[] = [];
  private events: RaftEvent[] = [];
  private readStates: ReadState[] = [];
  private dropped: ReadId[] = [];

  constructor(opts: RaftOptions) {
    if (typeof opts.id !== 'string' || opts.id.length === 0) {
      throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'id must be a non-empty string');
    }
    this.id = opts.id;
    this.limits = validateLimits(opts.limits);
    this.reads = new LeaderReads(this.limits.maxPendingReads);
    this.random = opts.random;
    this.preVote = opts.preVote ?? true;
    this.checkQuorum = opts.checkQuorum ?? true;
    this.leaseReads = opts.readMode === 'lease';
    if (this.leaseReads && !this.checkQuorum) {
      throw new RaftError('ERR_RAFT_BAD_OPTIONS', "readMode 'lease' requires checkQuorum");
    }
    this.broken = opts.unsafeTestOnly ?? {};

    const init = opts.initial ?? {};
    this.snapshot = init.snapshot ?? null;
    this.log = RaftLog.restore(this.snapshot, init.entries ?? EMPTY, opts.bootstrap ?? { voters: [], learners: [] });
    const hs = init.hardState ?? { term: 0, vote: null, commit: 0 };
    this.term = hs.term;
    this.vote = hs.vote;
    const last = this.log.lastIndex();
    const applied = Math.max(init.applied ?? this.log.offset, this.log.offset);
    if (applied > last) throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'applied index beyond the log');
    this.commit = Math.min(Math.max(hs.commit, applied, this.log.offset), last);
    this.writes = new Writes(hs.commit, last);
    this.applying = new Applying(applied);
    this.membershipIndex = this.log.membershipIndex();
    this.peers = new Replication(this.id, this.log, this.limits);
    this.resetElectionTimer();
  }

  // ---- public face -------------------------------------------------------------------------

  step(input: Input): StepResult {
    if (input === null || typeof input !== 'object') {
      return fail(new RaftError('ERR_RAFT_BAD_MESSAGE', 'input is not an object'));
    }
    switch (input.type) {
      case 'tick':
        this.tick();
        return OK;
      case 'message':
        return this.stepMessage(input.message);
      case 'propose':
        return this.propose(input.commands);
      case 'readIndex':
        return this.readIndex(input.readId);
      case 'changeConfig':
        return this.changeConfig(input.change);
      case 'transferLeadership':
        return this.transferLeadership(input.to);
      case 'campaign':
        if (this.role !== 'leader') this.campaign(false);
        return OK;
      case 'persisted':
        return this.persisted(input.writeId);
      case 'applied':
      case 'snapshotInstalled':
        return this.appliedTo(input.index);
      case 'snapshotTaken':
        return this.snapshotTaken(input.index, input.data);
      case 'unreachable':
        if (this.role === 'leader') this.peers.unreachable(input.peer, this.events);
        return OK;
      default:
        return fail(
          new RaftError('ERR_RAFT_BAD_MESSAGE', `unknown input ${String((input as { type: unknown }).type)}`),
        );
    }
  }

  hasReady(): boolean {
    return (
      this.msgs.length > 0 ||
      this.events.length > 0 ||
      this.readStates.length > 0 ||
      this.dropped.length > 0 ||
      this.writes.due(this.commit) ||
      this.applying.has(this.writes.durable, Math.min(this.commit, this.writes.durableIndex))
    );
  }

  /** Take every pending output. See `Ready` for what the host must do with it. */
  ready(): Ready {
    const write = this.writes.due(this.commit) ? this.writes.take(this.log, this.term, this.vote, this.commit) : null;

    const snapshot = this.applying.takeSnapshot(this.writes.durable);
    const upTo = Math.min(this.commit, this.writes.durableIndex);
    const entries = this.applying.takeEntries(this.log, upTo, this.limits.maxApplyEntries);

    const rd: Ready = {
      write,
      messages: this.msgs.length > 0 ? this.msgs : EMPTY,
      snapshot,
      entries,
      readStates: this.readStates.length > 0 ? this.readStates : EMPTY,
      readsDropped: this.dropped.length > 0 ? this.dropped : EMPTY,
      events: this.events.length > 0 ? this.events : EMPTY,
    };
    if (this.msgs.length > 0) this.msgs = [];
    if (this.readStates.length > 0) this.readStates = [];
    if (this.dropped.length > 0) this.dropped = [];
    if (this.events.length > 0) this.events = [];
    return rd;
  }

  status(): RaftStatus {
    const membership = this.log.membership();
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.leader,
      commit: this.commit,
      applied: this.applying.applied,
      handedOut: this.applying.handedOut,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      durableIndex: this.writes.durableIndex,
      snapshotIndex: this.snapshot?.meta.index ?? 0,
      membership,
      transferee: this.transfer.target,
      uncommittedBytes: this.uncommittedBytes,
      pendingReads: this.reads.pending,
      peers: this.role === 'leader' ? this.peers.statuses(membership.voters) : [],
    };
  }

  /** Metadata of the latest snapshot this node holds (taken or installed), if any. */
  snapshotMeta(): SnapshotMeta | null {
    return this.snapshot?.meta ?? null;
  }

  /** Read-only view of a log entry held in memory (for tests and checkers). */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  /** Term of the entry at index, or -1 when not held (compacted or beyond the end). */
  termAt(index: number): number {
    return this.log.term(index);
  }

  get currentTerm(): number {
    return this.term;
  }

  get currentRole(): Role {
    return this.role;
  }

  get currentLeader(): NodeId | null {
    return this.leader;
  }

  get commitIndex(): number {
    return this.commit;
  }

  get lastIndex(): number {
    return this.log.lastIndex();
  }

  get firstIndex(): number {
    return this.log.firstIndex();
  }

  // ---- storage protocol ----------------------------------------------------------------------

  private persisted(writeId: number): StepResult {
    if (!this.writes.wasIssued(writeId)) {
      return fail(new RaftError('ERR_RAFT_HOST_PROTOCOL', `persisted write ${writeId} was never issued`));
    }
    if (writeId <= this.writes.durable) return OK;
    this.writes.persisted(writeId, this.log, this.msgs);
    if (this.role === 'candidate' && this.tally.persisted(this.id, writeId)) {
      this.tallyVotes();
    } else if (this.role === 'leader') {
      if (this.maybeCommit()) this.broadcastAppend(true);
    }
    return OK;
  }

  private appliedTo(index: number): StepResult {
    const error = this.applying.appliedTo(index);
    return error === null ? OK : fail(error);
  }

  private snapshotTaken(index: number, data: Uint8Array): StepResult {
    const current = this.snapshot?.meta.index ?? 0;
    const applied = this.applying.applied;
    if (!Number.isSafeInteger(index) || index <= current || index > applied) {
      return fail(
        new RaftError('ERR_RAFT_BAD_SNAPSHOT', `snapshot at ${index} not in (${current}, applied ${applied}]`),
      );
    }
    const term = this.log.term(index);
    if (term < 0) return fail(new RaftError('ERR_RAFT_BAD_SNAPSHOT', `index ${index} is not in the log`));
    this.snapshot = { meta: { index, term, membership: this.log.membershipAt(index) }, data };
    const compactTo = index - this.limits.compactionTrailingEntries;
    if (compactTo > this.log.offset) {
      this.log.compactTo(compactTo);
      this.events.push({ type: 'compacted', snapshotIndex: index, firstIndex: this.log.firstIndex() });
    }
    return OK;
  }

  /** Queue a message; responses that promise durable state wait for the write holding it. */
  private send(m: Message): void {
    if (!this.broken.ackBeforeDurable && (m.type === 'appendResp' || (m.type === 'voteResp' && !m.pre))) {
      const held = this.writes.hold(m, this.limits.maxHeldMessages);
      if (held === 'full') {
        this.counters.heldDropped++;
        this.events.push({ type: 'dropped', what: m.type, reason: 'maxHeldMessages' });
      }
      if (held !== 'send') return;
    }
    this.msgs.push(m);
  }

  // ---- roles -------------------------------------------------------------------------------

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedElectionTimeout = this.limits.electionTicks + this.random.int(this.limits.electionTicks);
  }

  private setLeader(leader: NodeId | null): void {
    if (this.leader !== leader) {
      this.leader = leader;
      this.events.push({ type: 'leader', term: this.term, leader });
    }
  }

  private setTerm(term: number): void {
    if (term > this.term) {
      this.term = term;
      this.vote = null;
      this.writes.termOrVoteChanged();
      this.events.push({ type: 'term', term, vote: null });
    }
  }

  private setVote(vote: NodeId): void {
    this.vote = vote;
    this.writes.termOrVoteChanged();
    this.events.push({ type: 'term', term: this.term, vote });
  }

  private isVoter(id: NodeId): boolean {
    return this.log.membership().voters.includes(id);
  }

  private promotable(): boolean {
    return this.isVoter(this.id);
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.setTerm(term);
    const changed = this.role !== 'follower';
    this.role = 'follower';
    this.setLeader(leader);
    this.resetElectionTimer();
    this.tally.clear();
    if (wasLeader) this.leaveLeadership();
    if (changed) this.events.push({ type: 'role', role: 'follower', term: this.term, leader });
  }

  private leaveLeadership(): void {
    this.transfer.end('aborted', this.events);
    this.peers.clear();
    this.uncommittedBytes = 0;
    for (const r of this.reads.clear()) this.dropRead(r.origin, r.readId);
  }

  private dropRead(origin: NodeId, readId: ReadId): void {
    this.counters.readsDropped++;
    if (origin === this.id) this.dropped.push(readId);
  }

  private campaign(transfer: boolean): void {
    if (!this.promotable()) return;
    if (this.preVote && !transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  private becomePreCandidate(): void {
    this.role = 'preCandidate';
    this.setLeader(null);
    this.resetElectionTimer();
    this.tally.start(this.id, 0);
    this.events.push({ type: 'role', role: 'preCandidate', term: this.term, leader: null });
    if (this.tallyVotes()) return;
    this.requestVotes(true, false);
  }

  private becomeCandidate(transfer: boolean): void {
    this.setTerm(this.term + 1);
    this.setVote(this.id);
    this.role = 'candidate';
    this.setLeader(null);
    this.resetElectionTimer();
    // Our own vote counts once the write holding it is durable.
    this.tally.start(this.id, this.broken.ackBeforeDurable ? 0 : this.writes.pendingTag());
    this.events.push({ type: 'role', role: 'candidate', term: this.term, leader: null });
    this.requestVotes(false, transfer);
    this.tallyVotes();
  }

  private requestVotes(pre: boolean, transfer: boolean): void {
    const term = pre ? this.term + 1 : this.term;
    const ask = { from: this.id, term, pre, transfer, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() };
    for (const m of voteRequests(this.log.membership().voters, ask)) this.send(m);
  }

  /** Count votes; returns true when the election ended (won or lost). */
  private tallyVotes(): boolean {
    const result = this.tally.result(this.log.membership().voters);
    if (result === 'won' && this.role === 'preCandidate') this.becomeCandidate(false);
    else if (result === 'won') this.becomeLeader();
    else if (result === 'lost') this.becomeFollower(this.term, null);
    return result !== 'pending';
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.setLeader(this.id);
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.transfer.reset();
    this.uncommittedBytes = 0;
    this.peers.clear();
    this.syncProgress();
    this.events.push({ type: 'role', role: 'leader', term: this.term, leader: this.id });
    this.appendLocal([{ kind: 'noop', term: this.term, index: this.log.lastIndex() + 1 }]);
    this.broadcastAppend(true);
  }

  /** Make the leader's progress map match the membership (new peers start probing). */
  private syncProgress(): void {
    this.peers.sync();
    const to = this.transfer.target;
    if (to !== null && !this.isVoter(to)) this.transfer.end('aborted', this.events);
  }

  private membershipMaybeChanged(): void {
    const idx = this.log.membershipIndex();
    if (idx === this.membershipIndex) return;
    this.membershipIndex = idx;
    this.events.push({ type: 'membership', index: idx, membership: this.log.membership() });
    if (this.role === 'leader') this.syncProgress();
  }

  // ---- ticks -------------------------------------------------------------------------------

  private tick(): void {
    this.ticks++;
    if (this.role !== 'leader') {
      this.electionElapsed++;
      if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) this.campaign(false);
      return;
    }
    this.heartbeatElapsed++;
    this.electionElapsed++;
    // Bounded wait: a transfer that cannot finish in one election timeout is abandoned.
    this.transfer.tick(this.limits.electionTicks, this.events);
    if (this.electionElapsed >= this.limits.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.peers.quorumActive(this.log.membership().voters)) {
          this.events.push({ type: 'stepDown', reason: 'checkQuorum' });
          this.becomeFollower(this.term, null);
          return;
        }
        this.peers.forgetActivity();
      }
    }
    this.peers.tick(this.events);
    if (this.heartbeatElapsed >= this.limits.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  // ---- messages ----------------------------------------------------------------------------

  private badMessage(why: string): StepResult {
    this.counters.badMessages++;
    return fail(new RaftError('ERR_RAFT_BAD_MESSAGE', why));
  }

  private stepMessage(m: Message): StepResult {
    const problem = messageProblem(m);
    if (problem !== null) return this.badMessage(problem);
    if (m.to !== this.id) return this.badMessage(`message for ${m.to} stepped into ${this.id}`);
    if (m.from === this.id) return this.badMessage('message from ourselves');

    if (m.term > this.term) {
      if (m.type === 'vote') {
        const inLease = this.checkQuorum && this.leader !== null && this.electionElapsed < this.limits.electionTicks;
        // A follower that hears a live leader ignores campaigns: this is what stops a node
        // behind a partial partition from deposing a healthy leader.
        if (inLease && !m.transfer) return OK;
        if (!m.pre) {
          if (this.role === 'leader') this.transfer.completedBy(m.from, this.events);
          this.becomeFollower(m.term, null);
        }
      } else if (m.type === 'voteResp' && m.pre && m.granted) {
        // Granted pre-votes echo the term we asked about; our term does not change.
      } else {
        if (this.role === 'leader') {
          this.transfer.completedBy(m.from, this.events);
          this.events.push({ type: 'stepDown', reason: 'higherTerm' });
        }
        const lead = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : null;
        this.becomeFollower(m.term, lead);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // Tell a stale leader about the newer term so it steps down.
        this.send(this.appendResp(m.from, true, 0));
      } else if (m.type === 'vote' && m.pre) {
        this.send(voteAnswer(this.id, m, this.term, false));
      }
      return OK;
    }

    if (m.type === 'vote') {
      this.handleVote(m);
      return OK;
    }
    switch (this.role) {
      case 'leader':
        return this.stepLeader(m);
      case 'candidate':
      case 'preCandidate':
        return this.stepCandidate(m);
      case 'follower':
        return this.stepFollower(m);
    }
  }

  private handleVote(m: VoteMessage): void {
    const upToDate = this.broken.voteWithoutLogCheck === true || this.log.isUpToDate(m.lastIndex, m.lastTerm);
    const granted = grantsVote(m, this.term, this.vote, this.leader, upToDate);
    // Record the vote first: the grant then waits for the write that holds it (a grant sent
    // before the vote is durable lets a crash vote twice in one term).
    if (granted && !m.pre) {
      this.electionElapsed = 0;
      this.setVote(m.from);
    }
    this.send(voteAnswer(this.id, m, this.term, granted));
  }

  private stepCandidate(m: Message): StepResult {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        return this.stepFollower(m);
      case 'voteResp':
        this.handleVoteResp(m);
        return OK;
      case 'timeoutNow':
        return OK;
      default:
        return OK;
    }
  }

  private handleVoteResp(m: VoteResponse): void {
    if (!countsAnswer(m, this.role === 'preCandidate', this.term, this.log.membership().voters)) return;
    this.tally.record(m.from, m.granted);
    this.tallyVotes();
  }

  private stepFollower(m: Message): StepResult {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.setLeader(m.from);
        return this.handleAppend(m);
      case 'heartbeat':
        this.electionElapsed = 0;
        this.setLeader(m.from);
        this.handleHeartbeat(m);
        return OK;
      case 'snapshot':
        this.electionElapsed = 0;
        this.setLeader(m.from);
        this.handleSnapshot(m);
        return OK;
      case 'timeoutNow':
        // The leader hands over: campaign at once, skipping pre-vote and others' leases.
        if (this.promotable()) this.campaign(true);
        return OK;
      case 'readIndexResp':
        this.readStates.push({ readId: m.readId, index: m.index });
        return OK;
      case 'readIndex':
        // A follower that thought we were leader: drop it, its host times out and retries.
        this.counters.readsDropped++;
        return OK;
      default:
        return OK;
    }
  }

  private appendResp(to: NodeId, reject: boolean, index: number, hintIndex = 0, hintTerm = 0): AppendResponse {
    return { type: 'appendResp', from: this.id, to, term: this.term, reject, index, hintIndex, hintTerm };
  }

  private handleAppend(m: AppendMessage): StepResult {
    const out = appendOutcome(this.log, this.commit, m);
    if (out instanceof RaftError) return fail(out);
    if (out.entries.length > 0) {
      const first = (out.entries[0] as Entry).index;
      if (first <= this.log.lastIndex()) {
        this.log.truncateFrom(first);
        this.writes.truncated(first);
      }
      this.log.append(out.entries);
      this.writes.markUnstable(first);
      this.membershipMaybeChanged();
    }
    this.commitTo(out.commit);
    this.send(this.appendResp(m.from, out.reject, out.index, out.hintIndex, out.hintTerm));
    return OK;
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(commit, our match), so everything up to it is in our log.
    this.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', from: this.id, to: m.from, term: this.term, readSeq: m.readSeq });
  }

  private handleSnapshot(m: SnapshotMessage): void {
    const meta = m.snapshot.meta;
    if (!snapshotNeeded(this.log, this.commit, meta)) {
      // Committed past it, or we hold its last entry and just learn that it is committed.
      this.commitTo(meta.index);
      this.send(this.appendResp(m.from, false, this.commit));
      return;
    }
    this.log.reset(meta.index, meta.term, meta.membership);
    this.snapshot = m.snapshot;
    this.writes.snapshotReceived(m.snapshot);
    this.commit = meta.index;
    this.events.push({ type: 'snapshotRestored', index: meta.index, term: meta.term });
    this.events.push({ type: 'commit', index: meta.index });
    this.applying.snapshotReceived(m.snapshot, this.writes.pendingTag());
    this.membershipMaybeChanged();
    this.send(this.appendResp(m.from, false, meta.index));
  }

  private commitTo(index: number): void {
    if (index <= this.commit) return;
    const prev = this.commit;
    this.commit = index;
    this.events.push({ type: 'commit', index });
    if (this.role !== 'leader') return;
    if (this.uncommittedBytes > 0) {
      for (let i = prev + 1; i <= index; i++) {
        const e = this.log.entry(i);
        if (e !== undefined && e.term === this.term) this.uncommittedBytes -= entryBytes(e);
      }
      if (this.uncommittedBytes < 0 || index === this.log.lastIndex()) this.uncommittedBytes = 0;
    }
    if (this.log.term(prev) !== this.term && this.log.term(index) === this.term) {
      // First commit of our own term: reads that waited for it can proceed.
      for (const r of this.reads.takeAwaitingOwnTerm()) this.leaderRead(r.origin, r.readId);
    }
    if (!this.isVoter(this.id) && this.log.membershipIndex() <= index) this.stepDownRemoved();
  }

  /** The committed membership no longer has us as a voter: hand over and step down. */
  private stepDownRemoved(): void {
    const best = mostCaughtUpVoter(this.log.membership().voters, this.peers.progress());
    if (best !== null && best.match === this.log.lastIndex()) {
      this.send({ type: 'timeoutNow', from: this.id, to: best.id, term: this.term });
    }
    this.events.push({ type: 'stepDown', reason: 'removed' });
    this.becomeFollower(this.term, null);
  }

  // ---- leader ------------------------------------------------------------------------------

  /** What the leader's messages carry now, and where they go. */
  private outbox(): Outbox {
    return { term: this.term, commit: this.commit, snapshot: this.snapshot, messages: this.msgs, events: this.events };
  }

  private stepLeader(m: Message): StepResult {
    switch (m.type) {
      case 'appendResp':
        this.handleAppendResp(m);
        return OK;
      case 'heartbeatResp':
        if (this.peers.heartbeatResp(m, this.reads.round, this.outbox())) this.advanceReads();
        return OK;
      case 'readIndex':
        if (!this.peers.has(m.from)) return OK;
        return this.leaderRead(m.from, m.readId);
      default:
        return OK;
    }
  }

  private handleAppendResp(m: AppendResponse): void {
    const advanced = this.peers.appendResp(m, this.outbox());
    if (advanced === null) return;
    const pr = advanced.pr;
    if (this.maybeCommit()) {
      this.broadcastAppend(true);
      if (this.role !== 'leader') return;
    } else if (advanced.wasPaused) {
      this.peers.sendAppend(m.from, pr, true, this.outbox());
    }
    this.peers.fill(m.from, pr, this.outbox());
    if (this.role === 'leader' && m.from === this.transfer.target && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  /** The transfer target has our whole log: tell it to campaign now. */
  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
    this.events.push({ type: 'transfer', to, outcome: 'timeoutNowSent' });
  }

  /** Advance commit to the highest index on a quorum of voters, if it is of our term. */
  private maybeCommit(): boolean {
    const voters = this.log.membership().voters;
    if (voters.length === 0) return false;
    const self = this.broken.ackBeforeDurable ? this.log.lastIndex() : this.writes.durableIndex;
    const idx = this.peers.quorumIndex(voters, self);
    if (idx <= this.commit) return false;
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (this.log.term(idx) !== this.term && this.broken.commitByCountingOldTerms !== true) return false;
    this.commitTo(idx);
    return true;
  }

  private broadcastAppend(sendIfEmpty: boolean): void {
    if (this.role === 'leader') this.peers.broadcastAppend(sendIfEmpty, this.outbox());
  }

  private broadcastHeartbeat(): void {
    this.peers.broadcastHeartbeat(this.reads.startRound(this.ticks), this.outbox());
  }

  private appendLocal(entries: Entry[]): void {
    this.log.append(entries);
    this.writes.markUnstable((entries[0] as Entry).index);
    this.membershipMaybeChanged();
    if (this.broken.ackBeforeDurable) this.maybeCommit();
  }

  private notLeader(): RaftError {
    return new RaftError('ERR_RAFT_NOT_LEADER', `${this.id} is not the leader`, this.leader);
  }

  private propose(commands: readonly Uint8Array[]): StepResult {
    const bytes = this.admitProposal(commands);
    if (bytes instanceof RaftError) {
      this.counters.proposalsRefused++;
      return fail(bytes);
    }
    this.uncommittedBytes += bytes;
    const first = this.log.lastIndex() + 1;
    const entries: Entry[] = new Array<Entry>(commands.length);
    for (let i = 0; i < commands.length; i++) {
      entries[i] = { kind: 'normal', term: this.term, index: first + i, data: commands[i] as Uint8Array };
    }
    this.appendLocal(entries);
    this.broadcastAppend(false);
    return { ok: true, index: first, term: this.term };
  }

  /** The bytes a proposal adds to the log, or why this node refuses it. */
  private admitProposal(commands: readonly Uint8Array[]): number | RaftError {
    if (this.role !== 'leader') return this.notLeader();
    if (this.transfer.target !== null) return this.transferring(this.transfer.target);
    const bytes = proposalBytes(commands, this.limits);
    if (bytes instanceof RaftError) return bytes;
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.limits.maxUncommittedBytes) {
      const why = `${this.uncommittedBytes} uncommitted bytes; limit ${this.limits.maxUncommittedBytes}`;
      return new RaftError('ERR_RAFT_TOO_MUCH_UNCOMMITTED', why, this.id);
    }
    return bytes;
  }

  private transferring(to: NodeId): RaftError {
    return new RaftError('ERR_RAFT_TRANSFERRING', `leadership is moving to ${to}`, this.leader);
  }

  private changeConfig(change: ConfigChange): StepResult {
    if (this.role !== 'leader') return fail(this.notLeader());
    if (this.transfer.target !== null) return fail(this.transferring(this.transfer.target));
    const next = nextMembership(
      {
        self: this.id,
        membership: this.log.membership(),
        membershipIndex: this.log.membershipIndex(),
        commit: this.commit,
        committedInTerm: this.log.term(this.commit) === this.term,
        matchOf: (id) => this.peers.get(id)?.match,
      },
      change,
    );
    if (next instanceof RaftError) return fail(next);
    const index = this.log.lastIndex() + 1;
    this.appendLocal([{ kind: 'config', term: this.term, index, membership: next }]);
    this.broadcastAppend(false);
    return { ok: true, index, term: this.term };
  }

  private transferLeadership(to: NodeId): StepResult {
    if (this.role !== 'leader') return fail(this.notLeader());
    const problem = transferProblem(this.id, to, this.log.membership());
    if (problem !== null) return fail(problem);
    if (!this.transfer.start(to, this.events)) return OK;
    const pr = this.peers.get(to) as Progress;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.peers.sendAppend(to, pr, true, this.outbox());
    return OK;
  }

  // ---- reads -------------------------------------------------------------------------------

  private readIndex(readId: ReadId): StepResult {
    if (this.role === 'leader') return this.leaderRead(this.id, readId);
    if (this.leader === null) return fail(new RaftError('ERR_RAFT_NO_LEADER', 'no known leader to confirm a read'));
    this.send({ type: 'readIndex', from: this.id, to: this.leader, term: this.term, readId });
    return OK;
  }

  private respondRead(origin: NodeId, readId: ReadId, index: number): void {
    if (origin === this.id) this.readStates.push({ readId, index });
    else this.send({ type: 'readIndexResp', from: this.id, to: origin, term: this.term, readId, index });
  }

  private leaderRead(origin: NodeId, readId: ReadId): StepResult {
    if (this.log.term(this.commit) !== this.term) {
      // Our commit index may lag the true one until we commit in our term: wait for it.
      return this.reads.awaitOwnTerm(origin, readId) ? OK : this.tooManyReads();
    }
    const voters = this.log.membership().voters;
    if ((voters.length === 1 && voters[0] === this.id) || (this.leaseReads && this.leaseValid())) {
      this.respondRead(origin, readId, this.commit);
      return OK;
    }
    // Confirmed once a quorum answers a heartbeat round sent after this read arrived.
    if (!this.reads.enqueue(origin, readId, this.commit)) return this.tooManyReads();
    this.broadcastHeartbeat();
    return OK;
  }

  private tooManyReads(): StepResult {
    return fail(new RaftError('ERR_RAFT_TOO_MANY_READS', 'too many reads waiting'));
  }

  /** Highest heartbeat round a quorum of voters (counting us) has answered in this term. */
  private confirmedRound(): number {
    return this.reads.confirmed(this.log.membership().voters, this.id, (v) => this.peers.get(v)?.readAck ?? 0);
  }

  /**
   * Lease: a quorum answered a round sent less than electionTicks/2 of our ticks ago. Those
   * voters will not vote for anyone else until electionTicks of *their* ticks have passed since
   * they got it, so no other leader can exist yet, provided their clocks run at most twice as
   * fast as ours (the stated drift assumption of readMode 'lease').
   */
  private leaseValid(): boolean {
    // A transfer makes voters ignore their lease (TimeoutNow campaigns are forced): no lease.
    if (this.transfer.target !== null) return false;
    return this.reads.leaseHeld(this.confirmedRound(), this.ticks, this.limits.electionTicks);
  }

  /** Release every read whose round a quorum of voters has confirmed. */
  private advanceReads(): void {
    if (!this.reads.hasQueued) return;
    for (const r of this.reads.release(this.confirmedRound())) this.respondRead(r.origin, r.readId, r.index);
  }
}
