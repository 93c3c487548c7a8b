// The engine's Write contract applied to a group's log held as an array: shared by the memory
// store and by the check that an LMDB store reloads what it was given.

import type { Entry, Snapshot, Write } from '../types.js';
import type { StoredLog } from './log-store.js';

/** The log after `write`; returns a new value, the input is not changed. */
export function applyWrite(log: StoredLog, write: Write): StoredLog {
  let snapshot = log.snapshot;
  let entries = log.entries;
  if (write.snapshot !== null) {
    snapshot = write.snapshot;
    entries = [];
  }
  if (write.entries.length > 0) {
    const first = (write.entries[0] as Entry).index;
    entries = entries.filter((e) => e.index < first).concat(write.entries);
  }
  return { hardState: write.hardState ?? log.hardState, snapshot, entries };
}

/** The log after the host kept `snapshot`: entries below `keepFrom` go. */
export function applySnapshot(log: StoredLog, snapshot: Snapshot, keepFrom = snapshot.meta.index + 1): StoredLog {
  return { hardState: log.hardState, snapshot, entries: log.entries.filter((e) => e.index >= keepFrom) };
}
