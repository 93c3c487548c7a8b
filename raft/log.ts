// The engine's in-memory view of the log: entries after `offset` (the last compacted index,
// whose term is remembered), plus the history of membership changes so the membership at any
// kept index is known. The host's log store mirrors it through writes.

import { RaftError } from './errors.js';
import { ENTRY_OVERHEAD_BYTES } from './limits.js';
import type { Entry, Membership, Snapshot } from './types.js';

export function entryBytes(e: Entry): number {
  return e.kind === 'normal' ? e.data.byteLength + ENTRY_OVERHEAD_BYTES : ENTRY_OVERHEAD_BYTES;
}

export class RaftLog {
  /** Index of the last entry not held here (compacted or covered by a snapshot). */
  offset: number;
  offsetTerm: number;
  entries: Entry[] = [];
  /** Membership changes at or after `offset`; the first is the one in force at `offset`. */
  private configs: Array<{ index: number; membership: Membership }>;

  constructor(offset: number, offsetTerm: number, membership: Membership) {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.configs = [{ index: offset, membership }];
  }

  /** The log storage holds on restart: its snapshot (or the bootstrap membership), then its entries. */
  static restore(snapshot: Snapshot | null, entries: readonly Entry[], bootstrap: Membership): RaftLog {
    const log =
      snapshot !== null
        ? new RaftLog(snapshot.meta.index, snapshot.meta.term, snapshot.meta.membership)
        : new RaftLog(0, 0, bootstrap);
    let expected = log.offset + 1;
    for (const e of entries) {
      if (e.index <= log.offset) continue;
      if (e.index !== expected) {
        throw new RaftError('ERR_RAFT_BAD_OPTIONS', `initial entries not contiguous at ${e.index}`);
      }
      log.append([e]);
      expected++;
    }
    return log;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    const n = this.entries.length;
    return n === 0 ? this.offsetTerm : (this.entries[n - 1] as Entry).term;
  }

  /** Term at `index`, or -1 when it is compacted away or beyond the end. */
  term(index: number): number {
    if (index === this.offset) return this.offsetTerm;
    const e = this.entries[index - this.offset - 1];
    return e === undefined || index < this.offset ? -1 : e.term;
  }

  entry(index: number): Entry | undefined {
    return index <= this.offset ? undefined : this.entries[index - this.offset - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** The raft §5.4.1 "at least as up to date" comparison. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The largest index <= `index` whose term is <= `term` (fast backtracking: both sides skip a
   * whole term of mismatching entries per round trip). Falls back to the offset.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset) {
      const t = this.term(i);
      if (t <= term) return i;
      i--;
    }
    return this.offset;
  }

  membership(): Membership {
    return (this.configs[this.configs.length - 1] as { membership: Membership }).membership;
  }

  membershipIndex(): number {
    return (this.configs[this.configs.length - 1] as { index: number }).index;
  }

  membershipAt(index: number): Membership {
    let found = (this.configs[0] as { membership: Membership }).membership;
    for (const c of this.configs) {
      if (c.index > index) break;
      found = c.membership;
    }
    return found;
  }

  /** Append entries that follow lastIndex directly. */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.entries.push(e);
      if (e.kind === 'config') this.configs.push({ index: e.index, membership: e.membership });
    }
  }

  /** Drop every entry from `index` on (index > offset). */
  truncateFrom(index: number): void {
    this.entries.length = Math.max(0, index - this.offset - 1);
    while (this.configs.length > 1 && (this.configs[this.configs.length - 1] as { index: number }).index >= index) {
      this.configs.pop();
    }
  }

  /** Entries in [lo, hi] (inclusive), at most maxCount and maxBytes (at least one). */
  slice(lo: number, hi: number, maxCount: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= hi && out.length < maxCount; i++) {
      const e = this.entries[i - this.offset - 1] as Entry;
      const size = entryBytes(e);
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(e);
    }
    return out;
  }

  /** Forget entries up to `index` (offset moves there); `index` must be held. */
  compactTo(index: number): void {
    if (index <= this.offset) return;
    const term = this.term(index);
    this.entries.splice(0, index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
    let keepFrom = 0;
    for (let i = 0; i < this.configs.length; i++) {
      if ((this.configs[i] as { index: number }).index <= index) keepFrom = i;
    }
    this.configs.splice(0, keepFrom);
  }

  /** Replace everything by a snapshot's point. */
  reset(offset: number, offsetTerm: number, membership: Membership): void {
    this.offset = offset;
    this.offsetTerm = offsetTerm;
    this.entries = [];
    this.configs = [{ index: offset, membership }];
  }
}
