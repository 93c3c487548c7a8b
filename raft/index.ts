// Public face of the raft engine: a pure, deterministic consensus core. See docs/raft.md.
export { RaftEngine } from './engine.js';
export type { RaftOptions, RandomSource, StepResult, RaftCounters } from './options.js';
export { RaftError, isRaftError } from './errors.js';
export type { RaftErrorCode } from './errors.js';
export { DEFAULT_RAFT_LIMITS, ENTRY_OVERHEAD_BYTES, validateLimits } from './limits.js';
export type { RaftLimits } from './limits.js';
export { entryBytes } from './log.js';
export type * from './types.js';
