// An in-memory log store that applies the engine's Writes the way a durable one would, and
// models a disk with a write queue: writes are durable only once completed, and a crash loses
// every write not completed (optionally keeping a prefix that reached the platter unreported).

import type { Entry, HardState, InitialState, Snapshot, Write } from '../../raft/index.js';

export class MemLogStore {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: Snapshot | null = null;
  /** Durable entries after the snapshot. */
  entries: Entry[] = [];
  /** Writes started but not yet durable, oldest first. */
  readonly pending: Write[] = [];

  /** Queue a write (not durable yet). */
  begin(write: Write): void {
    this.pending.push(write);
  }

  /** Make the oldest pending write durable; returns its id (or 0 when none). */
  completeOne(): number {
    const w = this.pending.shift();
    if (w === undefined) return 0;
    this.applyWrite(w);
    return w.id;
  }

  /** Make every pending write durable; returns the last id (0 when none). */
  completeAll(): number {
    let id = 0;
    while (this.pending.length > 0) id = this.completeOne();
    return id;
  }

  /** Crash: pending writes are lost, except the first `survivors` (durable but unreported). */
  crash(survivors = 0): void {
    for (let i = 0; i < survivors && this.pending.length > 0; i++) this.completeOne();
    this.pending.length = 0;
  }

  /** The host took a snapshot: keep it and drop the entries it covers. */
  storeSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    const cut = snapshot.meta.index;
    this.entries = this.entries.filter((e) => e.index > cut);
  }

  initialState(applied: number): InitialState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries, applied };
  }

  lastIndex(): number {
    const n = this.entries.length;
    return n > 0 ? (this.entries[n - 1] as Entry).index : (this.snapshot?.meta.index ?? 0);
  }

  private applyWrite(w: Write): void {
    if (w.snapshot !== null) {
      this.snapshot = w.snapshot;
      this.entries = [];
    }
    if (w.entries.length > 0) {
      const first = (w.entries[0] as Entry).index;
      const offset = this.snapshot?.meta.index ?? 0;
      this.entries.length = Math.max(0, Math.min(this.entries.length, first - offset - 1));
      for (const e of w.entries) this.entries.push(e);
    }
    if (w.hardState !== null) this.hardState = w.hardState;
  }
}
