// The engine's side of the storage protocol: what changed since the last write (term or vote,
// log entries from some index, a snapshot from the leader), the numbered writes handed to the
// host, which of them it reported durable, the log prefix known durable on this node, and the
// messages held back until the write holding what they promise is durable.

import type { RaftLog } from './log.js';
import type { Entry, HardState, Message, NodeId, Snapshot, Write } from './types.js';

const NONE: readonly never[] = Object.freeze([]);

interface HeldMessage {
  readonly tag: number;
  readonly message: Message;
}

interface SelfAppend {
  readonly id: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export class Writes {
  /** Last write handed to the host; last write it reported durable. */
  private issued = 0;
  private durableId = 0;
  private termVoteDirty = false;
  private lastWrittenCommit: number;
  private unstableFrom = Infinity;
  private snapshotToWrite: Snapshot | null = null;
  /** Writes holding log entries, to learn how far the log is durable when they are. */
  private selfAppends: SelfAppend[] = [];
  private held: HeldMessage[] = [];
  /** Log prefix known durable on this node. */
  durableIndex: number;

  constructor(writtenCommit: number, durableIndex: number) {
    this.lastWrittenCommit = writtenCommit;
    this.durableIndex = durableIndex;
  }

  /** The last write the host reported durable. */
  get durable(): number {
    return this.durableId;
  }

  /** Something changed that no write holds yet (the commit index aside). */
  hasUnwritten(): boolean {
    return this.termVoteDirty || this.unstableFrom !== Infinity || this.snapshotToWrite !== null;
  }

  /** A write is due: unwritten changes, or a commit index that differs from the last written. */
  due(commit: number): boolean {
    return this.hasUnwritten() || commit !== this.lastWrittenCommit;
  }

  /** The write that will hold everything changed so far. */
  pendingTag(): number {
    return this.hasUnwritten() ? this.issued + 1 : this.issued;
  }

  termOrVoteChanged(): void {
    this.termVoteDirty = true;
  }

  /** Log entries from `index` on are new or replaced. */
  markUnstable(index: number): void {
    if (index < this.unstableFrom) this.unstableFrom = index;
  }

  /** The log from `first` on was cut off: it is durable at most up to before it. */
  truncated(first: number): void {
    if (this.durableIndex >= first) this.durableIndex = first - 1;
  }

  /** A snapshot from the leader replaced the log: the next write holds it instead of entries. */
  snapshotReceived(snapshot: Snapshot): void {
    this.snapshotToWrite = snapshot;
    this.unstableFrom = Infinity;
    if (this.durableIndex > snapshot.meta.index) this.durableIndex = snapshot.meta.index;
  }

  /** The next write: everything changed since the last one (call when `due`). */
  take(log: RaftLog, term: number, vote: NodeId | null, commit: number): Write {
    const id = ++this.issued;
    const from = Math.max(this.unstableFrom, log.firstIndex());
    const last = log.lastIndex();
    const entries: readonly Entry[] = from <= last ? log.entries.slice(from - log.offset - 1) : NONE;
    const hardState: HardState | null =
      this.termVoteDirty || commit !== this.lastWrittenCommit ? { term, vote, commit } : null;
    const write: Write = { id, hardState, snapshot: this.snapshotToWrite, entries };
    if (entries.length > 0 || this.snapshotToWrite !== null) {
      this.selfAppends.push({ id, lastIndex: last, lastTerm: log.lastTerm() });
    }
    this.termVoteDirty = false;
    this.lastWrittenCommit = commit;
    this.unstableFrom = Infinity;
    this.snapshotToWrite = null;
    return write;
  }

  /** Whether `writeId` names a write handed out. */
  wasIssued(writeId: number): boolean {
    return Number.isSafeInteger(writeId) && writeId <= this.issued;
  }

  /**
   * The host reports every write up to `writeId` durable (a new one: above `durable`). The
   * durable log prefix advances, and messages that waited for it go to `out` in order.
   */
  persisted(writeId: number, log: RaftLog, out: Message[]): void {
    this.durableId = writeId;
    while (this.selfAppends.length > 0 && (this.selfAppends[0] as SelfAppend).id <= writeId) {
      const rec = this.selfAppends.shift() as SelfAppend;
      // A later truncation may have replaced these entries; then this write proves nothing.
      if (log.term(rec.lastIndex) === rec.lastTerm && rec.lastIndex > this.durableIndex) {
        this.durableIndex = rec.lastIndex;
      }
    }
    if (this.held.length > 0) {
      let keep = 0;
      for (const h of this.held) {
        if (h.tag <= writeId) out.push(h.message);
        else this.held[keep++] = h;
      }
      this.held.length = keep;
    }
  }

  /**
   * A message that promises durable state: 'send' when what it promises is durable already,
   * 'held' when it waits for the write holding it, 'full' when `max` messages wait already.
   */
  hold(m: Message, max: number): 'send' | 'held' | 'full' {
    const tag = this.pendingTag();
    if (tag <= this.durableId) return 'send';
    if (this.held.length >= max) return 'full';
    this.held.push({ tag, message: m });
    return 'held';
  }
}
