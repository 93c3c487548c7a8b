// The internode layer's public face.
export {
  Internode,
  type InternodeOptions,
  type NodeEvent,
  type DownReason,
  type MemberInfo,
  type InternodeStats,
  type FrameHandler,
} from './internode.js';
export { FRAME_CLASSES, CLASS_ID, CLASS_POLICY, type FrameClassName, type OverflowPolicy } from './classes.js';
export { InternodeError, CLOSE, type InternodeErrorCode } from './errors.js';
export { encodeFrame, decodeFrames, type Frame } from './frame.js';
export { OutboundQueues, newQueueCounters, type EnqueueResult, type QueueCounters } from './queues.js';
export {
  HandshakeError,
  dialerHandshake,
  acceptorHandshake,
  secretFrom,
  type LocalIdentity,
  type PeerIdentity,
} from './handshake.js';
export { WsTransport, type TlsOptions, type WsTransportOptions } from './ws-transport.js';
export { MemoryNetwork, type MemoryFaults, type Schedule } from './memory-transport.js';
export type { Transport, Connection, Listener, ConnectionHandlers } from './transport.js';
export { signalToWire, signalFromWire, type RemoteSignal } from './remote-protocol.js';
export * as limits from './limits.js';
export {
  FailureDetector,
  FailureDetectorError,
  resolveFailureDetectorConfig,
  type FailureDetectorOptions,
  type FailureDetectorConfig,
  type FailureDetectorEvent,
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
