// The runtime's public face: processes, mailboxes, signals, names, call, server, supervisor, clocks.
export { Pid, isPid, validateNodeName, MAX_NODE_NAME_LENGTH } from './pid.js';
export { TroupeError, isTroupeError, type ErrorCode, type RaftErrorCode } from './errors.js';
export { encode, decode, validateMessage, createPackr, PID_EXTENSION_TYPE } from './codec.js';
export { UnserializableError, type UnserializableKind } from './message.js';
export { RealClock, VirtualClock, settle, type Clock, type TimerHandle } from './clock.js';
export {
  Node,
  type NodeOptions,
  type SpawnOptions,
  type SendTarget,
  type DropReason,
  type ProcessInfo,
  type NodeStats,
} from './node.js';
export {
  CallError,
  ProcessExitedError,
  type ProcessContext,
  type ProcessFunction,
  type ReceiveOptions,
  type CallOptions,
  type CallTarget,
  type SendAwaitOptions,
  type OverflowPolicy,
} from './process.js';
export {
  isDown,
  isExit,
  isCall,
  isCast,
  isReply,
  type Ref,
  type RemoteName,
  type DownMessage,
  type ExitMessage,
  type SystemMessage,
  type From,
  type CallEnvelope,
  type CastEnvelope,
  type ReplyEnvelope,
} from './messages.js';
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
export type { RemoteRouter, RemoteInbound } from './remote.js';
export {
  startServer,
  type ServerBehaviour,
  type CallResult,
  type CastResult,
  type StartServerOptions,
} from './server.js';
export {
  startSupervisor,
  whichChildren,
  startChild,
  terminateChild,
  type SupervisorSpec,
  type ChildSpec,
  type ChildInfo,
  type Strategy,
  type RestartType,
  type StartSupervisorOptions,
} from './supervisor.js';
export { seededRandom, type Random } from './random.js';
export * from './kit/index.js';
export * as limits from './limits.js';
