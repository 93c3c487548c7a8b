// A LogStore in memory: for simulations and tests. Writes are "durable" once persist resolves,
// which is at once; a simulated disk with losses wraps it (sim/raft).

import { RaftError } from '../errors.js';
import type { Snapshot } from '../types.js';
import { applySnapshot, applyWrite } from './apply-write.js';
import { EMPTY_HARD_STATE, type GroupId, type GroupWrite, type LogStore, type StoredLog } from './log-store.js';
import { validateGroupId, validateSnapshotKeep } from './validate.js';

const EMPTY_LOG: StoredLog = { hardState: EMPTY_HARD_STATE, snapshot: null, entries: [] };

export class MemoryLogStore implements LogStore {
  private readonly logs = new Map<GroupId, StoredLog>();
  private closed = false;

  groups(): readonly GroupId[] {
    return [...this.logs.keys()];
  }

  load(group: GroupId): StoredLog {
    this.checkOpen();
    validateGroupId(group);
    return this.logs.get(group) ?? EMPTY_LOG;
  }

  persist(writes: readonly GroupWrite[]): Promise<void> {
    try {
      this.checkOpen();
      const next = new Map<GroupId, StoredLog>();
      for (const { group, write } of writes) {
        validateGroupId(group);
        next.set(group, applyWrite(next.get(group) ?? this.logs.get(group) ?? EMPTY_LOG, write));
      }
      for (const [group, log] of next) this.logs.set(group, log);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  saveSnapshot(group: GroupId, snapshot: Snapshot, keepFrom?: number): Promise<void> {
    try {
      this.checkOpen();
      validateGroupId(group);
      validateSnapshotKeep(snapshot, keepFrom);
      this.logs.set(group, applySnapshot(this.logs.get(group) ?? EMPTY_LOG, snapshot, keepFrom));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private checkOpen(): void {
    if (this.closed) throw new RaftError('ERR_RAFT_STORE_CLOSED', 'the log store is closed');
  }
}
