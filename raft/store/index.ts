// Public face of raft/store: where a Raft host keeps each group's log, hard state and snapshot.
export type { GroupId, GroupWrite, LogStore, StoredLog } from './log-store.js';
export { EMPTY_HARD_STATE } from './log-store.js';
export { MemoryLogStore } from './memory-store.js';
export { LmdbLogStore } from './lmdb-store.js';
export type { LmdbLogStoreOptions, LmdbLogStoreCounters } from './lmdb-store.js';
export { MAX_STORE_GROUPS, MAX_GROUP_ID_BYTES, STORE_FORMAT_VERSION } from './limits.js';
