// Public face of the KV store: the state machine (a Raft tenant), its commands, results, events
// and limits, the typed error, and the watch hub. The host wiring (`cluster.kv.space(name)`)
// comes with the Raft host; see docs/kv.md.
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
