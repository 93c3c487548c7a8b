// Public face of the consistent name registry (the Raft tier): its pure state machine (a Raft
// tenant's core), commands, results, events and limits. The host that proposes and the one
// names API over the three tiers come next (see docs/names.md).
export { ConsistentNamesMachine, namesCommandProblem, nameProblem } from './state-machine.js';
export type {
  NameOperation,
  NamesCommand,
  NameResult,
  NameErrorResult,
  NamesBatchResult,
  NameBinding,
  NameEvent,
  NamesApplyOutput,
} from './types.js';
export * as consistentNamesLimits from './limits.js';
export { ConsistentNamesTenant } from './tenant.js';
export { NameWatchHub, NameWatchBehindError, type NameWatch, type NameWatchTarget } from './watch.js';
