// Raft-specific simulation: the cluster harness, the invariant checker and the log store.
export { RaftSimulation, runRaftSimulation } from './simulation.js';
export type { RaftSimOptions, RaftSimResult } from './simulation.js';
export { RaftChecker, SimViolation, mixEntry, sameEntry } from './checker.js';
export type { ViolationKind } from './checker.js';
export { MemLogStore } from './mem-store.js';
export { formatEntry, formatMessage } from './format.js';
export { runRaftHostSimulation } from './host-simulation.js';
export type { RaftHostSimOptions, RaftHostSimResult } from './host-simulation.js';
