// The follower's side of appends and snapshots (etcd-io/raft: handleAppendEntries, maybeAppend
// and restore): whether an append matches the log, the fast-backtracking hint when it does not,
// which of its entries are new, and whether a snapshot from the leader needs installing.
// Pure: the engine changes the log and answers on what these say.

import { RaftError } from './errors.js';
import type { RaftLog } from './log.js';
import type { AppendMessage, Entry, SnapshotMeta } from './types.js';

const NONE: readonly never[] = Object.freeze([]);

/** A follower's answer to an append, and what the append changes. */
export interface AppendOutcome {
  readonly reject: boolean;
  /** Acknowledged: the last index the append proves we match. Rejected: the prevIndex refused. */
  readonly index: number;
  /** Rejected: our guess of the last index we may share with the leader, and its term. */
  readonly hintIndex: number;
  readonly hintTerm: number;
  /** Entries the log lacks; the first replaces ours at its index and everything after it. */
  readonly entries: readonly Entry[];
  /** How far the append lets us advance our commit (not past what it proves we match). */
  readonly commit: number;
}

/** What the follower with `log` and `commit` does with append `m`, or why it must not. */
export function appendOutcome(log: RaftLog, commit: number, m: AppendMessage): AppendOutcome | RaftError {
  if (m.prevIndex < commit) {
    // Already committed past it (a delayed or duplicated append): acknowledge our commit.
    return { reject: false, index: commit, hintIndex: 0, hintTerm: 0, entries: NONE, commit };
  }
  if (!log.matchTerm(m.prevIndex, m.prevTerm)) {
    const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
    return {
      reject: true,
      index: m.prevIndex,
      hintIndex: hint,
      hintTerm: Math.max(0, log.term(hint)),
      entries: NONE,
      commit,
    };
  }
  const n = m.entries.length;
  let k = 0;
  while (k < n && log.term((m.entries[k] as Entry).index) === (m.entries[k] as Entry).term) k++;
  const conflict = m.entries[k];
  if (conflict !== undefined && conflict.index <= commit) {
    return new RaftError('ERR_RAFT_INVARIANT', `append would overwrite committed index ${conflict.index}`);
  }
  const entries = k === n ? NONE : k === 0 ? m.entries : m.entries.slice(k);
  const lastNew = m.prevIndex + n;
  return { reject: false, index: lastNew, hintIndex: 0, hintTerm: 0, entries, commit: Math.min(m.commit, lastNew) };
}

/** A snapshot is news unless we committed past it or already hold its last entry. */
export function snapshotNeeded(log: RaftLog, commit: number, meta: SnapshotMeta): boolean {
  return meta.index > commit && !log.matchTerm(meta.index, meta.term);
}
