// The pg simulation: a deterministic cluster of real PgScope cores joined by bounded FIFO links
// (cluster.ts), and the seeded workload that checks the rules and the replay invariant on it
// (simulation.ts). Tests import the cluster as their harness; sim/sweep.ts runs many seeds.
export { Cluster, localState, describeEvents, multiset, sameCounts } from './cluster.js';
export type { ClusterOptions, RecordedMonitor, SimNode } from './cluster.js';
export { runSeed } from './simulation.js';
export type { SimOptions, SimResult } from './simulation.js';
