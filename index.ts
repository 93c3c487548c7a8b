// troupe: the package's main entry point. Subsystems are also reachable on their own
// (`troupe/runtime`, `troupe/internode`, `troupe/pg`, `troupe/registry`, `troupe/crdt`, `troupe/raft`,
// `troupe/admin`).
export * from './runtime/index.js';
export {
  Internode,
  InternodeError,
  WsTransport,
  MemoryNetwork,
  type InternodeOptions,
  type InternodeStats,
  type NodeEvent,
  type DownReason,
  type MemberInfo,
  type TlsOptions,
} from './internode/index.js';
export {
  ProcessGroups,
  Scope,
  isPgMessage,
  type PgMailboxMessage,
  type PgMonitor,
  type PgEvent,
  type ProcessGroupsOptions,
} from './pg/index.js';
export {
  EventualRegistry,
  isNameLost,
  type NameLostMessage,
  type WatchEvent,
  type EventualRegistryHostOptions,
} from './registry/index.js';
export {
  Cluster,
  ClusterNotReadyError,
  trimSecret,
  type ClusterOptions,
  type ClusterPart,
  type ReadyOptions,
} from './system/index.js';
export {
  RaftHost,
  type Tenant,
  type RaftGroup,
  type GroupSpec,
  type RaftReadOptions,
  type RaftProposeOptions,
  type ReadConsistency,
  type ReadResult,
} from './raft/host/index.js';
export { LmdbLogStore, MemoryLogStore, type LogStore } from './raft/store/index.js';
export {
  KvStore,
  KvSpace,
  KvError,
  type KvEvent,
  type KvWatch,
  type KvLease,
  type KeyValue,
  type KvValue,
  type KvCallOptions,
  type KvReadOptions,
  type PutReply,
  type CasReply,
  type TxnReply,
  type TxnCompare,
  type TxnOp,
  type SpaceLimits,
  EventualKvSpace,
  type EventualKeyValue,
  type EventualGetReply,
  type EventualScanReply,
  type EventualKvEvent,
  type EventualKvWatch,
  type EventualWatchTarget,
} from './kv/index.js';
export {
  AdminServer,
  AdminHttpError,
  type AdminOptions,
  type AdminServerCounters,
  type NameTierView,
} from './admin/index.js';
