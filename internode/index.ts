// The internode layer's public face.
export { Internode, type MemberInfo, type FrameHandler } from './internode.js';
export { type InternodeOptions } from './config.js';
export { type InternodeStats } from './stats.js';
export {
  MembershipCore,
  keepNewConnection,
  type NodeEvent,
  type DownReason,
  type MemberIdentity,
  type MemberView,
  type Admission,
  type AdmissionFacts,
  type Attachment,
  type MembershipRefusal,
} from './membership.js';
export { FRAME_CLASSES, CLASS_ID, CLASS_POLICY, type FrameClassName, type ClassOverflowPolicy } from './classes.js';
export {
  InternodeError,
  HandshakeError,
  DialError,
  CLOSE,
  refusalOf,
  type InternodeErrorCode,
  type Refusal,
  type DialFailure,
} from './errors.js';
export { encodeFrame, decodeFrames, type Frame } from './frame.js';
export {
  OutboundQueues,
  newQueueCounters,
  type EnqueueResult,
  type QueueCounters,
  type FrameDropReason,
} from './queues.js';
export {
  dialerHandshake,
  acceptorHandshake,
  secretFrom,
  PreAuthBudget,
  type LocalIdentity,
  type PeerIdentity,
  type HandshakeOptions,
  type HandshakeResult,
  type Admit,
} from './handshake.js';
export { WsTransport, type TlsOptions, type WsTransportOptions, type WsRefusal } from './ws-transport.js';
export { MemoryNetwork, type MemoryFaults, type Schedule } from './memory-transport.js';
export type { Transport, Connection, Listener, ConnectionHandlers, DialOptions } from './transport.js';
export { signalToWire, signalFromWire, type RemoteSignal } from './remote-protocol.js';
export * as limits from './limits.js';
export {
  FailureDetector,
  FailureDetectorError,
  resolveFailureDetectorConfig,
  type FailureDetectorOptions,
  type FailureDetectorConfig,
  type FailureDetectorEvent,
  type DetectedDownReason,
  type PeerStatus,
  type PeerView,
} from './failure-detector.js';
export {
  ReadinessMachine,
  ReadinessError,
  resolveReadinessConfig,
  quorumSize,
  READINESS_EDGES,
  type ReadinessState,
  type QuorumPolicy,
  type ReadinessTransition,
  type ReadinessOptions,
  type ReadinessConfig,
} from './readiness.js';
