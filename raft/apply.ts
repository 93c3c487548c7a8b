// What the host has been handed to apply and what it reports applied: committed entries that
// are durable here, in bounded batches, or a snapshot from the leader once the write holding it
// is durable (entries wait behind it).

import { RaftError } from './errors.js';
import type { RaftLog } from './log.js';
import type { Entry, Snapshot } from './types.js';

const NONE: readonly never[] = Object.freeze([]);

export class Applying {
  /** Last index handed to the host for applying; last index it reported applied. */
  handedOut: number;
  applied: number;
  /** A snapshot received from the leader, handed out once write `tag` is durable. */
  private pending: { readonly snapshot: Snapshot; readonly tag: number } | null = null;

  constructor(applied: number) {
    this.handedOut = applied;
    this.applied = applied;
  }

  /** Something to hand out, given the last durable write and how far entries may go. */
  has(durableWrite: number, upTo: number): boolean {
    return this.pending !== null ? this.pending.tag <= durableWrite : upTo > this.handedOut;
  }

  snapshotReceived(snapshot: Snapshot, tag: number): void {
    this.pending = { snapshot, tag };
  }

  /** The received snapshot, once the write holding it is durable. */
  takeSnapshot(durableWrite: number): Snapshot | null {
    if (this.pending === null || this.pending.tag > durableWrite) return null;
    const snapshot = this.pending.snapshot;
    this.handedOut = Math.max(this.handedOut, snapshot.meta.index);
    this.pending = null;
    return snapshot;
  }

  /** The next batch of at most `max` entries up to `upTo` (none while a snapshot waits). */
  takeEntries(log: RaftLog, upTo: number, max: number): readonly Entry[] {
    if (this.pending !== null) return NONE;
    const hi = Math.min(upTo, this.handedOut + max);
    if (hi <= this.handedOut) return NONE;
    const entries = log.entries.slice(this.handedOut - log.offset, hi - log.offset);
    this.handedOut = hi;
    return entries;
  }

  /** The host reports the state machine at `index`; an error if that was never handed out. */
  appliedTo(index: number): RaftError | null {
    if (!Number.isSafeInteger(index) || index > this.handedOut) {
      return new RaftError('ERR_RAFT_HOST_PROTOCOL', `applied ${index} beyond handed out ${this.handedOut}`);
    }
    if (index > this.applied) this.applied = index;
    return null;
  }
}
