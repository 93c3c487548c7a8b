// Public face of the KV store: `KvStore` (what `cluster.kv` is) and its spaces, the state
// machine (a Raft tenant), its commands, results, events and limits, the typed error, and the
// watch hub; and the eventual spaces (kv/eventual). See docs/kv.md.
export { KvStore, KV_GROUP, type KvStoreOptions, type KvCounters } from './store.js';
export {
  KvSpace,
  type KvCallOptions,
  type KvReadOptions,
  type KvLease,
  type PutReply,
  type CasReply,
  type TxnReply,
} from './space.js';
export { KvTenant } from './tenant.js';
export { WatchHub, type KvWatch, type WatchOptions, type WatchTarget, type WatchCounters } from './watch.js';
export { KvStateMachine } from './state-machine.js';
export { commandProblem } from './state-machine-validate.js';
export { KvError, kvErrorOf, type KvErrorDetails } from './errors.js';
export * from './limits.js';
export type {
  ApplyOutput,
  CasExpectation,
  GetReply,
  KeyValue,
  KvCommand,
  KvCommandType,
  KvEvent,
  KvResult,
  KvResultErrorCode,
  KvValue,
  LeaseId,
  ReadOptions,
  ScanOptions,
  ScanReply,
  SpaceLimits,
  TxnCompare,
  TxnOp,
  TxnOpResult,
} from './types.js';
export * from './eventual/index.js';
