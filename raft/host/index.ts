// The Raft host's public face: a node's replicated groups (tenants) on the raft engine.
export {
  reconcile,
  checkReconcileOptions,
  type ReconcileInput,
  type ReconcileDecision,
  type ReconcileNode,
  type ReconcileProgress,
  type ReconcileConfig,
  type ReconcileOptions,
} from './reconciler.js';
export { RaftHost } from './host.js';
export type {
  RaftHostOptions,
  RaftHostCounters,
  GroupSpec,
  RaftGroup,
  RaftProposeOptions,
  RaftReadOptions,
} from './host.js';
export type { ReadConsistency, ReadResult } from './group.js';
export type { Tenant } from './tenant.js';
export type { RaftTransport, RaftSendResult } from './transport.js';
export * as raftHostLimits from './limits.js';
