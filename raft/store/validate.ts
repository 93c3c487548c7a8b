// Checks on what a store is given and on what it reads back: a log that breaks the engine's
// shape is refused with a typed error naming the problem, never handed to the engine.

import { RaftError } from '../errors.js';
import type { Snapshot } from '../types.js';
import { GROUP_ID_PATTERN, MAX_GROUP_ID_BYTES } from './limits.js';
import type { StoredLog } from './log-store.js';

export function validateGroupId(group: unknown): asserts group is string {
  if (typeof group !== 'string' || group.length > MAX_GROUP_ID_BYTES || !GROUP_ID_PATTERN.test(group)) {
    throw new RaftError(
      'ERR_RAFT_BAD_OPTIONS',
      `bad group id ${JSON.stringify(group)}: lower-case letters, digits, '.', '_', '-', at most ${MAX_GROUP_ID_BYTES}`,
    );
  }
}

export function validateSnapshotKeep(snapshot: Snapshot, keepFrom: number | undefined): void {
  if (keepFrom !== undefined && (!Number.isSafeInteger(keepFrom) || keepFrom < 1)) {
    throw new RaftError('ERR_RAFT_BAD_SNAPSHOT', `keepFrom ${keepFrom} is not a log index`);
  }
  if (!Number.isSafeInteger(snapshot.meta.index) || snapshot.meta.index < 1) {
    throw new RaftError('ERR_RAFT_BAD_SNAPSHOT', `snapshot index ${snapshot.meta.index} is not a log index`);
  }
}

/** Throws ERR_RAFT_STORE_CORRUPT when a log read back from disk cannot be what was written. */
export function validateStoredLog(group: string, log: StoredLog): void {
  const corrupt = (what: string) => new RaftError('ERR_RAFT_STORE_CORRUPT', `group ${group}: ${what}`);
  const hs = log.hardState;
  if (!Number.isSafeInteger(hs.term) || hs.term < 0 || !Number.isSafeInteger(hs.commit) || hs.commit < 0) {
    throw corrupt('hard state is malformed');
  }
  if (hs.vote !== null && typeof hs.vote !== 'string') throw corrupt('hard state vote is malformed');
  const snapIndex = log.snapshot?.meta.index ?? 0;
  let prev: { index: number; term: number } | null = null;
  for (const e of log.entries) {
    if (!Number.isSafeInteger(e.index) || !Number.isSafeInteger(e.term) || e.term < 1) {
      throw corrupt(`entry ${String(e.index)} is malformed`);
    }
    if (prev !== null && e.index !== prev.index + 1) throw corrupt(`gap in the log after index ${prev.index}`);
    if (prev !== null && e.term < prev.term) throw corrupt(`term goes back at index ${e.index}`);
    if (prev === null && e.index > snapIndex + 1) throw corrupt(`log starts at ${e.index} after snapshot ${snapIndex}`);
    if (e.term > hs.term) throw corrupt(`entry ${e.index} has term ${e.term} above the hard state's ${hs.term}`);
    prev = e;
  }
}
