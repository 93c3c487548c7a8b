// Limits of the eventual registry tier, in one place. The core takes overrides through its
// options (validated against the floors below); these are the defaults.
import { SHARD_COUNT } from '../../crdt/index.js';

/** Shards of the replicated state (digest granularity of anti-entropy); fixed cluster-wide. */
export const EVENTUAL_SHARD_COUNT = SHARD_COUNT;

/** Longest name, in UTF-16 code units: the runtime's one name limit. */
export { MAX_NAME_LENGTH } from '../../runtime/base.js';

/** Most names this node's own processes may hold at once. */
export const MAX_NAMES_PER_NODE = 1_000_000;

/** Most names one replica holds (all nodes together); a message that would grow past it is dropped. */
export const MAX_NAMES_PER_REPLICA = 5_000_000;

/** Byte budget of one delta broadcast (one gossip round); the rest waits for the next round. */
export const MAX_DELTA_BATCH_BYTES = 256 * 1024;

/** Byte budget of one anti-entropy message (chunks of shard state). */
export const MAX_AE_MESSAGE_BYTES = 1024 * 1024;

/**
 * Smallest budget accepted for either. A single name bigger than the budget still goes, alone in its
 * message (progress over the byte bound).
 */
export const MIN_MESSAGE_BUDGET_BYTES = 4 * 1024;

/**
 * Most names with a pending (not yet broadcast) delta; past it a change is dropped from the outbox,
 * counted, and repaired by anti-entropy.
 */
export const MAX_OUTBOX_NAMES = 1_000_000;

/** Period of `tick()` (one gossip round); the host's default gossip interval. */
export const GOSSIP_INTERVAL_MS = 10;

/** Period of anti-entropy rounds (digest exchange with one random peer). */
export const ANTI_ENTROPY_INTERVAL_MS = 1_000;

/**
 * Anti-entropy leaves alone a shard changed by a delta within this window (its deltas are still
 * bringing the replicas in line; shipping it whole would repeat them), for at most MAX_AE_DEFER_MS.
 */
export const AE_QUIET_MS = 500;

/** Longest anti-entropy waits for a shard (or a round for our own outbox) before it runs anyway. */
export const MAX_AE_DEFER_MS = 10_000;

/** How long a node may be down before every node drops its names (so a blip unregisters nothing). */
export const NODE_DOWN_GRACE_MS = 5_000;

/** Names examined per tick when dropping a departed node's names (cleanup is chunked). */
export const MAX_REAP_SCAN_PER_TICK = 20_000;

/** Most back-and-forth messages of one anti-entropy exchange (continuations of big shards). */
export const MAX_AE_HOPS = 64;

// ---- host constants (registry/eventual/host.ts)

/** Events buffered per watcher; a watcher further behind than this is ended with ERR_LIMIT. */
export const MAX_WATCH_BACKLOG = 100_000;

/** Watchers one node may hold. */
export const MAX_WATCHERS = 10_000;

/** Names a streamed `view()` hands over between two yields to the event loop. */
export const VIEW_BATCH_NAMES = 1_000;
