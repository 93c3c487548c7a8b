// The runtime's pure entry: what a pure core (raft, crdt, pg scope, registry cores, failure
// detector) may import from outside its own folder. Nothing here touches I/O, timers or a clock.
export { Pid, isPid, validateNodeName, MAX_NODE_NAME_LENGTH } from './pid.js';
export { MAX_NAME_LENGTH, MAX_MESSAGE_BYTES, MAX_MESSAGE_DEPTH } from './limits.js';
export {
  TroupeError,
  isTroupeError,
  type ErrorCode,
  type RaftErrorCode,
  type KvErrorCode,
  type NamesErrorCode,
  type AdminErrorCode,
} from './errors.js';
export { encode, decode, validateMessage, createPackr, PID_EXTENSION_TYPE } from './codec.js';
export { UnserializableError, type UnserializableKind } from './message.js';
export type { Clock, TimerHandle } from './clock.js';
export { seededRandom, type Random } from './random.js';
export {
  isCleanExit,
  formatReason,
  reasonToWire,
  reasonFromWire,
  RemoteError,
  type ExitReason,
  type WellKnownReason,
  type WireReason,
} from './reason.js';
