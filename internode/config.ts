// Options of the internode layer, validated once at start (every mistake is ERR_BAD_CONFIG
// naming the option and the bad value), and the relationships between limits asserted.
import type { Logger } from 'pino';
import type { Meter } from '@opentelemetry/api';
import type { Node, Random } from '../runtime/index.js';
import { FRAME_CLASSES, type FrameClassName } from './classes.js';
import { InternodeError } from './errors.js';
import {
  CLASS_LIMITS,
  CLOSE_GRACE_MS,
  COALESCE_TARGET_BYTES,
  DEFAULT_DOWN_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  FRAME_HEADER_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  HIGH_WATER_MARK_BYTES,
  IDENTITY_PROBE_TIMEOUT_MS,
  MAX_ADDRESS_LENGTH,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_FRAME_BODY_BYTES,
  MAX_HANDSHAKE_BYTES,
  MAX_HANDSHAKE_MESSAGES_AHEAD,
  MAX_PEERS,
  MAX_PENDING_HANDSHAKES,
  MAX_PREAUTH_BYTES,
  MAX_SEEDS,
  MAX_WS_MESSAGE_BYTES,
  type ClassLimits,
} from './limits.js';
import type { Transport } from './transport.js';
import { splitHostPort, type TlsOptions } from './ws-transport.js';

export interface InternodeOptions {
  /** The local runtime node this layer connects. */
  readonly node: Node;
  /** Cluster name: nodes of another cluster are refused. */
  readonly cluster: string;
  /** Shared cluster secret (at least 16 bytes once trimmed); never sent on the wire. */
  readonly secret: string | Buffer;
  /** `host:port` to accept connections on (port 0 picks a free port). */
  readonly listen?: string;
  /** The address peers should dial; defaults to the bound listen address. */
  readonly advertise?: string;
  /** Addresses (`host:port`) of nodes to join through. */
  readonly seeds?: readonly string[];
  /** Defaults to WebSocket (`ws`), with TLS when `tls` is given. */
  readonly transport?: Transport;
  readonly tls?: TlsOptions;
  /** The local IP address to dial peers from (the WebSocket transport only). */
  readonly dialFrom?: string;
  readonly heartbeatIntervalMs?: number;
  /**
   * A peer silent this long is down (heartbeats keep a live peer from it); losing its last connection
   * is down at once.
   */
  readonly downAfterMs?: number;
  /** Source of jitter for reconnect backoff; the simulation passes a seeded one. */
  readonly random?: Pick<Random, 'next'>;
  /** Runs the write loop soon (default setImmediate); the simulation passes its scheduler. */
  readonly defer?: (fn: () => void) => void;
  readonly logger?: Logger;
  readonly meter?: Meter;
  /** Per-class queue bounds (tests shrink them). */
  readonly classLimits?: Readonly<Record<FrameClassName, ClassLimits>>;
  /** Members known at once, at most MAX_PEERS (tests shrink it). */
  readonly maxPeers?: number;
}

const bad = (message: string): InternodeError => new InternodeError('ERR_BAD_CONFIG', message);

/** An address option, checked by the transport (`host:port` for WebSocket), or ERR_BAD_CONFIG naming it. */
function checkAddress(transport: Transport | undefined, option: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ADDRESS_LENGTH || /\s/.test(value))
    throw bad(`${option}: not an address: ${JSON.stringify(value)?.slice(0, 80)}`);
  try {
    if (transport === undefined) splitHostPort(value);
    else transport.checkAddress?.(value);
  } catch (err) {
    throw bad(`${option}: ${(err as Error).message}`);
  }
}

export function checkOptions(opts: InternodeOptions): void {
  if (typeof opts !== 'object' || opts === null) throw bad('options must be an object');
  if (typeof opts.cluster !== 'string' || opts.cluster.length === 0 || opts.cluster.length > MAX_CLUSTER_NAME_LENGTH)
    throw bad(`cluster name must be 1-${MAX_CLUSTER_NAME_LENGTH} characters`);
  const heartbeat = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const downAfter = opts.downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
  if (!Number.isInteger(heartbeat) || !(heartbeat > 0) || !Number.isInteger(downAfter) || !(downAfter >= 2 * heartbeat))
    throw bad('need integers heartbeatIntervalMs > 0 and downAfterMs >= 2 * heartbeatIntervalMs');
  if (opts.listen !== undefined) checkAddress(opts.transport, 'listen', opts.listen);
  if (opts.advertise !== undefined) checkAddress(opts.transport, 'advertise', opts.advertise);
  if (opts.seeds !== undefined) {
    if (!Array.isArray(opts.seeds)) throw bad('seeds must be an array of host:port addresses');
    if (opts.seeds.length > MAX_SEEDS) throw bad(`at most ${MAX_SEEDS} seeds (MAX_SEEDS), got ${opts.seeds.length}`);
    opts.seeds.forEach((s, i) => checkAddress(opts.transport, `seeds[${i}]`, s));
  }
  if (
    opts.maxPeers !== undefined &&
    !(Number.isInteger(opts.maxPeers) && opts.maxPeers >= 1 && opts.maxPeers <= MAX_PEERS)
  )
    throw bad(`maxPeers must be an integer in 1..${MAX_PEERS} (MAX_PEERS), got ${String(opts.maxPeers)}`);
  checkLimits(opts.classLimits ?? CLASS_LIMITS);
}

/** Relationships between limits; a broken one is ERR_BAD_CONFIG naming both limits. */
export function checkLimits(classLimits: Readonly<Record<FrameClassName, ClassLimits>>): void {
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw bad(`limits: ${what}`);
  };
  need(
    MAX_FRAME_BODY_BYTES + FRAME_HEADER_BYTES <= MAX_WS_MESSAGE_BYTES,
    'MAX_FRAME_BODY_BYTES + FRAME_HEADER_BYTES must fit MAX_WS_MESSAGE_BYTES',
  );
  need(MAX_HANDSHAKE_BYTES < MAX_WS_MESSAGE_BYTES, 'MAX_HANDSHAKE_BYTES must be under MAX_WS_MESSAGE_BYTES');
  need(COALESCE_TARGET_BYTES <= HIGH_WATER_MARK_BYTES, 'COALESCE_TARGET_BYTES must not exceed HIGH_WATER_MARK_BYTES');
  need(
    IDENTITY_PROBE_TIMEOUT_MS < HANDSHAKE_TIMEOUT_MS,
    'IDENTITY_PROBE_TIMEOUT_MS must be under HANDSHAKE_TIMEOUT_MS (the probe runs inside the handshake)',
  );
  need(CLOSE_GRACE_MS <= HANDSHAKE_TIMEOUT_MS, 'CLOSE_GRACE_MS must not exceed HANDSHAKE_TIMEOUT_MS');
  need(
    MAX_PREAUTH_BYTES >= MAX_HANDSHAKE_MESSAGES_AHEAD * MAX_HANDSHAKE_BYTES,
    'MAX_PREAUTH_BYTES must hold MAX_HANDSHAKE_MESSAGES_AHEAD messages of MAX_HANDSHAKE_BYTES',
  );
  need(MAX_PENDING_HANDSHAKES >= 1, 'MAX_PENDING_HANDSHAKES must be at least 1');
  for (const cls of FRAME_CLASSES) {
    const l = classLimits[cls];
    need(
      l !== undefined && [l.frames, l.bytes, l.quantum].every((n) => Number.isSafeInteger(n) && n >= 1),
      `classLimits.${cls} needs frames, bytes and quantum as integers >= 1`,
    );
  }
}
