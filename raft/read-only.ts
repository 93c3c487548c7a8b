// A leader's read bookkeeping (etcd-io/raft keeps it apart in read_only.go): ReadIndex reads
// waiting for a quorum to answer a heartbeat round, reads waiting for the leader's first commit
// in its term, and the send tick of recent rounds for lease reads. Pure and bounded; the engine
// decides when to start a round and whom to answer.

import { majorityIndex } from './quorum.js';
import type { NodeId, ReadId } from './types.js';

/** Heartbeat rounds whose send tick the leader remembers (for lease reads). */
const ROUND_RING = 256;
const NONE: readonly never[] = Object.freeze([]);

/** A read asked of the leader: by whom (itself or a follower) and its id. */
export interface WaitingRead {
  readonly origin: NodeId;
  readonly readId: ReadId;
}

/** A read confirmed at `index` once a quorum answers round `seq`. */
export interface QueuedRead extends WaitingRead {
  readonly seq: number;
  readonly index: number;
}

export class LeaderReads {
  /** Heartbeat rounds: every broadcast is a round; acks of a round confirm leadership as of its send tick. */
  private seq = 0;
  private readonly sentAt: number[] = new Array<number>(ROUND_RING).fill(-Infinity);
  private queue: QueuedRead[] = [];
  private awaitingOwnTerm: WaitingRead[] = [];

  constructor(private readonly maxPending: number) {}

  /** The latest round started (answers above it are forged or from another life). */
  get round(): number {
    return this.seq;
  }

  /** Reads held, of either kind. */
  get pending(): number {
    return this.queue.length + this.awaitingOwnTerm.length;
  }

  get hasQueued(): boolean {
    return this.queue.length > 0;
  }

  /** Start a heartbeat round sent at tick `now`; returns its number. */
  startRound(now: number): number {
    const seq = ++this.seq;
    this.sentAt[seq % ROUND_RING] = now;
    return seq;
  }

  /** Hold a read until the leader commits an entry of its term; false when too many wait. */
  awaitOwnTerm(origin: NodeId, readId: ReadId): boolean {
    if (this.awaitingOwnTerm.length >= this.maxPending) return false;
    this.awaitingOwnTerm.push({ origin, readId });
    return true;
  }

  /** The leader committed in its term: every read that waited for it, to ask again. */
  takeAwaitingOwnTerm(): readonly WaitingRead[] {
    const waiting = this.awaitingOwnTerm;
    this.awaitingOwnTerm = [];
    return waiting;
  }

  /** Queue a read at `index`, confirmed by the next round to start; false when too many wait. */
  enqueue(origin: NodeId, readId: ReadId, index: number): boolean {
    if (this.queue.length >= this.maxPending) return false;
    this.queue.push({ seq: this.seq + 1, index, origin, readId });
    return true;
  }

  /** Highest round a majority of voters has answered; `self` has answered every round. */
  confirmed(voters: readonly NodeId[], self: NodeId, ackOf: (id: NodeId) => number): number {
    return majorityIndex(voters, (v) => (v === self ? this.seq : ackOf(v)));
  }

  /** The round a quorum confirmed was sent less than electionTicks/2 ticks before `now`. */
  leaseHeld(confirmed: number, now: number, electionTicks: number): boolean {
    if (confirmed === 0 || this.seq - confirmed >= ROUND_RING) return false;
    const sentAt = this.sentAt[confirmed % ROUND_RING] as number;
    return now - sentAt < electionTicks >> 1;
  }

  /** Take every queued read whose round is confirmed, oldest first. */
  release(confirmed: number): readonly QueuedRead[] {
    let n = 0;
    while (n < this.queue.length && (this.queue[n] as QueuedRead).seq <= confirmed) n++;
    return n > 0 ? this.queue.splice(0, n) : NONE;
  }

  /** Leadership is lost: take every held read (queued first) to drop. */
  clear(): readonly WaitingRead[] {
    const all = [...this.queue, ...this.awaitingOwnTerm];
    this.queue = [];
    this.awaitingOwnTerm = [];
    return all;
  }
}
