// Every limit of the internode layer, in one place.
import type { FrameClassName } from './classes.js';

/** Wire protocol version, first byte of every frame and part of the handshake. */
export const PROTOCOL_VERSION = 1;
/** version u8, class u8, body length u32 (big-endian). */
export const FRAME_HEADER_BYTES = 6;
/** Largest frame body accepted or sent. */
export const MAX_FRAME_BODY_BYTES = 4 * 1024 * 1024;
/** Largest WebSocket message accepted (ws maxPayload): one max frame plus coalesced company. */
export const MAX_WS_MESSAGE_BYTES = 8 * 1024 * 1024;
/** The write loop coalesces frames into one WebSocket message up to about this many bytes. */
export const COALESCE_TARGET_BYTES = 64 * 1024;
/** Stop draining our queues while this many bytes are written but not yet flushed to the socket. */
export const HIGH_WATER_MARK_BYTES = 1024 * 1024;

export const HANDSHAKE_TIMEOUT_MS = 5_000;
export const MAX_HANDSHAKE_BYTES = 2_048;
export const MAX_CLUSTER_NAME_LENGTH = 128;
export const MAX_ADDRESS_LENGTH = 512;
export const NONCE_BYTES = 32;

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
export const DEFAULT_DOWN_AFTER_MS = 3_000;
export const RECONNECT_BASE_MS = 50;
export const RECONNECT_MAX_MS = 5_000;
/** Backoff exponent cap, so 2^n never overflows into Infinity or a negative delay. */
export const RECONNECT_MAX_EXPONENT = 16;
/** A member unreachable this long is forgotten (no more reconnect attempts). */
export const FORGET_MEMBER_AFTER_MS = 10 * 60_000;

/** Every this many heartbeat ticks, one peer in turn gets our whole member list (anti-entropy). */
export const MEMBER_GOSSIP_EVERY_TICKS = 5;

export const MAX_PEERS = 1_024;
export const MAX_MEMBER_LIST = MAX_PEERS;
/** Dials in flight at once (bounds the fan-out of a mass restart). */
export const MAX_DIALS_IN_FLIGHT = 16;
/** Node events buffered per `events()` iterator; beyond it the oldest are dropped and counted. */
export const MAX_EVENT_BACKLOG = 10_000;
/** Callers waiting for room in one peer's class queue (awaitable sends). */
export const MAX_ROOM_WAITERS = 10_000;
/** Longest monitor reference accepted from the wire. */
export const MAX_REF_LENGTH = 256;

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
