// Typed errors of the internode layer, and the WebSocket close codes it uses.

import { TroupeError } from '../runtime/base.js';

export type InternodeErrorCode =
  | 'ERR_MALFORMED'
  | 'ERR_HANDSHAKE'
  | 'ERR_BACKPRESSURE'
  | 'ERR_NO_ROUTE'
  | 'ERR_BAD_CONFIG'
  | 'ERR_LIMIT'
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
  nameInUse: { code: 4012, reason: 'name in use' },
  tooManyConnections: { code: 4013, reason: 'too many connections' },
  tooManyPending: { code: 4014, reason: 'too many pending handshakes' },
} as const;

/** A refusal by name (a key of CLOSE). */
export type Refusal = keyof typeof CLOSE;

const REFUSAL_BY_CODE: ReadonlyMap<number, Refusal> = new Map(
  (Object.keys(CLOSE) as Refusal[]).map((r) => [CLOSE[r].code, r]),
);

/** The refusal a close code stands for, or undefined for a code outside our table (1006, 1009, ...). */
export function refusalOf(code: number): Refusal | undefined {
  return REFUSAL_BY_CODE.get(code);
}

/**
 * A handshake that did not complete. `refusal` says why (a key of CLOSE, or 'closed' when the
 * connection ended with a code outside our table: `closeCode` holds it); `by` says which side
 * refused. Branch on these fields, never on the message text.
 */
export class HandshakeError extends InternodeError {
  readonly refusal: Refusal | 'closed';
  readonly closeCode: number;
  readonly by: 'us' | 'peer';
  constructor(refusal: Refusal | 'closed', by: 'us' | 'peer', detail?: string, closeCode?: number) {
    const reason = refusal === 'closed' ? 'connection closed' : CLOSE[refusal].reason;
    super('ERR_HANDSHAKE', detail === undefined ? reason : `${reason}: ${detail}`);
    this.name = 'HandshakeError';
    this.refusal = refusal;
    this.by = by;
    this.closeCode = closeCode ?? (refusal === 'closed' ? 1006 : CLOSE[refusal].code);
  }

  /** The reason text sent in the close frame (and the counter's attribute). */
  get reason(): string {
    return this.refusal === 'closed' ? 'connection closed' : CLOSE[this.refusal].reason;
  }
}

/** Why a dial failed before any handshake could start. */
export type DialFailure = 'refused' | 'unreachable' | 'tls' | 'timeout' | 'closed' | 'other';

/** A dial that did not reach a peer (ERR_TRANSPORT); `failure` says why, for counters and logs. */
export class DialError extends InternodeError {
  readonly failure: DialFailure;
  readonly address: string;
  constructor(address: string, failure: DialFailure, detail: string, options?: { cause?: unknown }) {
    super('ERR_TRANSPORT', `dial ${address} failed (${failure}): ${detail}`, options);
    this.name = 'DialError';
    this.failure = failure;
    this.address = address;
  }
}

/** Classifies a socket or TLS error code from a failed dial. */
export function dialFailureOf(code: unknown): DialFailure {
  if (typeof code !== 'string') return 'other';
  if (code === 'ECONNREFUSED') return 'refused';
  if (/^(EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL)$/.test(code)) return 'unreachable';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'closed';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/.test(code)) return 'tls';
  return 'other';
}
