// Public face of the linearizability tooling: the history format (docs/history-format.md), the
// recorder that writes it, and the checker that judges it.
export { parseHistory, parseOps } from './history.js';
export type { HistoryOp, KvOpName, NameOpName, OpName, Outcome, ParseResult } from './history.js';
export { HistoryRecorder } from './recorder.js';
export type { ErrorOutcome, OpRequest, OpResult, PendingOp, RecorderOptions } from './recorder.js';
export { checkOps, type CheckOptions, type Namespace, type Verdict, type Window } from './checker.js';
export { kvModel, namesModel, type KvState, type Model, type NameState, type SameOwnerRule } from './models.js';
export { searchKey, type Budget, type SearchOp, type SearchResult } from './wgl.js';
export { checkHistory, type HistoryVerdict } from './verdict.js';
