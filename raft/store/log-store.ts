// What a Raft host needs from durable storage, for every group it runs. The engine keeps the
// log it needs in memory; the store makes the engine's writes durable and hands the state back
// at start. One store serves all groups of a node, so one sync can cover every group's write
// of a turn (group commit).

import type { Entry, HardState, Snapshot, Write } from '../types.js';

/** A Raft group (tenant) on this node, e.g. "names" or "kv". */
export type GroupId = string;

/** One engine write of one group. */
export interface GroupWrite {
  readonly group: GroupId;
  readonly write: Write;
}

/** The durable state of one group: what the engine is restarted from. */
export interface StoredLog {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot (and any trailing ones it kept), contiguous, in order. */
  readonly entries: readonly Entry[];
}

export interface LogStore {
  /** Groups that have state in this store. */
  groups(): readonly GroupId[];
  /** The durable state of a group; an empty log for a group never written. */
  load(group: GroupId): StoredLog;
  /**
   * Apply the writes in order, as the engine's `Write` contract says (a snapshot replaces the
   * log, entries truncate from their first index then append, a hard state replaces the last),
   * atomically and durably: when the promise resolves all of them survive a crash; when it
   * rejects, none of them may be reported as persisted.
   */
  persist(writes: readonly GroupWrite[]): Promise<void>;
  /**
   * Keep a snapshot the host took of its state machine and drop the entries below `keepFrom`
   * (default: every entry the snapshot covers). Durable when the promise resolves.
   */
  saveSnapshot(group: GroupId, snapshot: Snapshot, keepFrom?: number): Promise<void>;
  /** Release files and handles; later calls fail with ERR_RAFT_STORE_CLOSED. */
  close(): Promise<void>;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };
