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
