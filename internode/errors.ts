// Typed errors of the internode layer.

import { TroupeError } from '../runtime/base.js';

export type InternodeErrorCode =
  | 'ERR_FRAME'
  | 'ERR_HANDSHAKE'
  | 'ERR_BACKPRESSURE'
  | 'ERR_NO_ROUTE'
  | 'ERR_BAD_CONFIG'
  | 'ERR_LIMIT'
  | 'ERR_PROTOCOL'
  | 'ERR_STOPPED'
  | 'ERR_ABORTED'
  | 'ERR_TRANSPORT';

export class InternodeError extends TroupeError {
  declare readonly code: InternodeErrorCode;
  constructor(code: InternodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'InternodeError';
  }
}

/** WebSocket close codes we use (application range 4000-4999), with their reasons. */
export const CLOSE = {
  versionMismatch: { code: 4001, reason: 'version mismatch' },
  clusterMismatch: { code: 4002, reason: 'cluster mismatch' },
  authFailed: { code: 4003, reason: 'authentication failed' },
  handshakeTimeout: { code: 4004, reason: 'handshake timeout' },
  duplicate: { code: 4005, reason: 'duplicate connection' },
  protocolError: { code: 4006, reason: 'protocol error' },
  selfConnection: { code: 4007, reason: 'connection to self' },
  shuttingDown: { code: 4008, reason: 'shutting down' },
  staleIncarnation: { code: 4009, reason: 'stale incarnation' },
  peerDown: { code: 4010, reason: 'peer declared down' },
  tooManyPeers: { code: 4011, reason: 'too many peers' },
} as const;
