// Every limit of the internode layer, in one place. Relationships between them are checked by
// checkLimits() when a layer starts (tests shrink some of them).
import { MAX_MESSAGE_BYTES } from '../runtime/base.js';
import type { FrameClassName } from './classes.js';

/** Wire protocol version, first byte of every frame and part of the handshake. */
export const PROTOCOL_VERSION = 2;
/** version u8, class u8, body length u32 (big-endian). */
export const FRAME_HEADER_BYTES = 6;
/** Largest frame body accepted or sent: the runtime's largest message (4 MiB). */
export const MAX_FRAME_BODY_BYTES = MAX_MESSAGE_BYTES;
/** Largest WebSocket message accepted once authenticated (ws maxPayload): one max frame plus company. */
export const MAX_WS_MESSAGE_BYTES = 8 * 1024 * 1024;
/** The write loop coalesces frames into one WebSocket message up to about this many bytes. */
export const COALESCE_TARGET_BYTES = 64 * 1024;
/** Stop draining our queues while this many bytes are written but not yet flushed to the socket. */
export const HIGH_WATER_MARK_BYTES = 1024 * 1024;
/**
 * A received frame body smaller than a quarter of the buffer it sits in is copied out when that
 * buffer is larger than this: a small value kept in a mailbox must not pin a large receive buffer.
 */
export const COPY_OUT_OF_BUFFERS_OVER_BYTES = 256 * 1024;
/** Bytes of received frames being decoded and delivered at once, node-wide (all peers together). */
export const MAX_INBOUND_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** The whole handshake, from the transport's accept (or our dial) to the first frame. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** Largest handshake message; before authentication no larger WebSocket message is accepted. */
export const MAX_HANDSHAKE_BYTES = 2_048;
/** Handshake messages one side may have sent ahead of the step it is at (the rest is a protocol error). */
export const MAX_HANDSHAKE_MESSAGES_AHEAD = 2;
/** Connections accepted and not yet authenticated, at once; a newcomer past it evicts the oldest. */
export const MAX_PENDING_HANDSHAKES = 64;
/** Bytes held by unauthenticated connections, node-wide (handshake messages queued for reading). */
export const MAX_PREAUTH_BYTES = MAX_PENDING_HANDSHAKES * MAX_HANDSHAKE_MESSAGES_AHEAD * MAX_HANDSHAKE_BYTES;
/** Raw TCP sockets that have not yet upgraded to WebSocket, at once (the oldest goes past it). */
export const MAX_PENDING_SOCKETS = 128;
/** After we close a connection, the peer has this long to close its side before the socket is destroyed. */
export const CLOSE_GRACE_MS = 1_000;
/** A newer incarnation of a connected node waits this long for the old one to answer a probe. */
export const IDENTITY_PROBE_TIMEOUT_MS = 1_000;
export const MAX_CLUSTER_NAME_LENGTH = 128;
export const MAX_ADDRESS_LENGTH = 512;
export const NONCE_BYTES = 32;

/** How often a heartbeat goes to each connected peer, by default. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
/** Silence after which a node is suspect, by default (the failure detector's default). */
export const DEFAULT_SUSPECT_AFTER_MS = 1_500;
/** Silence after which a node is down, by default. */
export const DEFAULT_DOWN_AFTER_MS = 3_000;
/** Smallest and largest value any interval of the failure detector may be configured to. */
export const MIN_DETECTOR_INTERVAL_MS = 1;
export const MAX_DETECTOR_INTERVAL_MS = 3_600_000;
/** Hard cap on the nodes one failure detector tracks (live and remembered down ones). */
export const MAX_TRACKED_PEERS = 4_096;
/** A peer's sign of life reaches the failure detector at most this often (or a quarter heartbeat). */
export const HEARD_EVERY_MS = 50;
/** Backoff of every redial (seeds, lost members, refused handshakes): base and ceiling. */
export const RECONNECT_BASE_MS = 50;
export const RECONNECT_MAX_MS = 5_000;
/** A connection that stayed up this long resets its member's backoff; a shorter one backs off further. */
export const STABLE_UP_MS = 10_000;
/** A member unreachable this long is forgotten (no more reconnect attempts). */
export const FORGET_MEMBER_AFTER_MS = 10 * 60_000;
/** A member that left gracefully, or that cannot be dialed (no address), is forgotten after this long. */
export const FORGET_DEPARTED_AFTER_MS = 60_000;
/** Warnings about one peer address (dial failures, refusals) are logged at most this often. */
export const WARN_EVERY_MS = 10_000;
/** Peer addresses whose warnings are rate-limited at once (the least recent is forgotten past it). */
export const MAX_WARNED_ADDRESSES = 1_024;

/** Every this many heartbeat ticks, one peer in turn gets our whole member list (anti-entropy). */
export const MEMBER_GOSSIP_EVERY_TICKS = 5;

export const MAX_PEERS = 1_024;
export const MAX_MEMBER_LIST = MAX_PEERS;
/** Seed addresses at most. */
export const MAX_SEEDS = 64;
/** Dials in flight at once (bounds the fan-out of a mass restart). */
export const MAX_DIALS_IN_FLIGHT = 16;
/** Node events buffered per `events()` iterator; beyond it the oldest are dropped and counted. */
export const MAX_EVENT_BACKLOG = 10_000;
/** `events()` iterators open at once. */
export const MAX_EVENT_STREAMS = 1_024;
/** Callers waiting for room in one peer's class queue (awaitable sends). */
export const MAX_ROOM_WAITERS = 10_000;
/** Longest monitor reference accepted from the wire. */
export const MAX_REF_LENGTH = 256;
/** Connections counted for one node at once (live, retiring, replaced); a newcomer past it is refused. */
export const MAX_CONNECTIONS_PER_PEER = 8;
/** Frames buffered between the end of a handshake and the moment the link reads them. */
export const MAX_EARLY_FRAMES_MESSAGES = 64;

export interface ClassLimits {
  /** Frames queued at most. */
  readonly frames: number;
  /** Bytes queued at most. */
  readonly bytes: number;
  /** Deficit-round-robin quantum: bytes this class may send per round. */
  readonly quantum: number;
}

/** Per-class queue bounds for one peer. Priority is the order of FRAME_CLASSES. */
export const CLASS_LIMITS: Readonly<Record<FrameClassName, ClassLimits>> = {
  control: { frames: 1_024, bytes: 1024 * 1024, quantum: 256 * 1024 },
  raft: { frames: 16_384, bytes: 32 * 1024 * 1024, quantum: 128 * 1024 },
  pg: { frames: 16_384, bytes: 16 * 1024 * 1024, quantum: 64 * 1024 },
  registry: { frames: 4_096, bytes: 8 * 1024 * 1024, quantum: 32 * 1024 },
  user: { frames: 100_000, bytes: 64 * 1024 * 1024, quantum: 64 * 1024 },
};
