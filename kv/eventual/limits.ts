// Limits of the eventual KV spaces, in one place. Every space of every node holds the same ones
// (they are constants, not options): a replica that accepted what another refuses would never
// converge with it. Relationships are asserted when this module loads.
import { MAX_ACTORS_PER_MESSAGE, MAX_ENTRIES_PER_KEY, MAX_KEY_LENGTH } from '../../crdt/index.js';
import { assertLimitBelow } from '../../runtime/index.js';
import { limits as internodeLimits } from '../../internode/index.js';

/** Longest key in UTF-8 bytes (ERR_KV_KEY_TOO_LARGE); the CRDT wire bounds a key to MAX_KEY_LENGTH. */
export const MAX_EVENTUAL_KEY_BYTES = MAX_KEY_LENGTH;

/** Largest value in bytes, UTF-8 for a string (ERR_KV_VALUE_TOO_LARGE). */
export const MAX_EVENTUAL_VALUE_BYTES = 64 * 1024;

/** Most live keys in one space (ERR_KV_SPACE_FULL); a gossip message that would grow past it is dropped. */
export const MAX_EVENTUAL_KEYS = 100_000;

/** Most concurrent values (siblings) one key holds before the conflict rule picks one: the CRDT's bound. */
export const MAX_EVENTUAL_SIBLINGS = MAX_ENTRIES_PER_KEY;

/**
 * The tombstone bound. A delete leaves no per-key record: its dots stay in the causal context,
 * which holds one counter per actor (node incarnation) per shard. So what deletes leave behind is
 * bounded by the actors a space has seen; past this many a local write is refused
 * (ERR_KV_CONTEXT_FULL) and a message naming a new actor is dropped. It equals the most actors one
 * message may carry, so a shard's context always fits one anti-entropy message.
 */
export const MAX_EVENTUAL_ACTORS = MAX_ACTORS_PER_MESSAGE;

/** Most eventual spaces one node holds, opened here or learnt from a peer (ERR_KV_SPACE_FULL). */
export const MAX_EVENTUAL_SPACES = 64;

/** Longest space name, in UTF-16 code units. */
export const MAX_EVENTUAL_SPACE_NAME_LENGTH = 128;

/** Most keys one scan page returns, and how many when the caller does not say. */
export const MAX_EVENTUAL_SCAN_LIMIT = 10_000;
export const DEFAULT_EVENTUAL_SCAN_LIMIT = 1_000;

/** Keys with a change waiting for the next gossip round; past it a change is dropped (counted), AE repairs it. */
export const MAX_EVENTUAL_OUTBOX_KEYS = 100_000;

/** Byte budget of one delta broadcast of a space (one gossip round); the rest waits a round. */
export const MAX_EVENTUAL_DELTA_BYTES = 256 * 1024;

/** Byte budget of one anti-entropy message (state chunks of the shards that differ). */
export const MAX_EVENTUAL_AE_BYTES = 1024 * 1024;

/** Period of a gossip round (deltas out). */
export const EVENTUAL_GOSSIP_INTERVAL_MS = 20;

/** Period of an anti-entropy round: digests of every space to one random peer. */
export const EVENTUAL_AE_INTERVAL_MS = 1_000;

/** Watchers one node holds (ERR_KV_TOO_MANY_WATCHERS). */
export const MAX_EVENTUAL_WATCHERS = 1_000;

/** Events buffered for a watcher that is not reading; past it the watch ends with ERR_KV_WATCH_BEHIND. */
export const MAX_EVENTUAL_WATCH_BACKLOG = 10_000;

const frame = { name: 'internode MAX_FRAME_BODY_BYTES', value: internodeLimits.MAX_FRAME_BODY_BYTES };
assertLimitBelow(
  { name: 'MAX_EVENTUAL_VALUE_BYTES', value: MAX_EVENTUAL_VALUE_BYTES },
  {
    name: 'MAX_EVENTUAL_DELTA_BYTES',
    value: MAX_EVENTUAL_DELTA_BYTES,
  },
);
assertLimitBelow({ name: 'MAX_EVENTUAL_DELTA_BYTES', value: MAX_EVENTUAL_DELTA_BYTES }, frame);
assertLimitBelow({ name: 'MAX_EVENTUAL_AE_BYTES', value: MAX_EVENTUAL_AE_BYTES }, frame);
assertLimitBelow(
  { name: 'MAX_EVENTUAL_AE_BYTES', value: MAX_EVENTUAL_AE_BYTES },
  { name: 'half the internode registry class bytes', value: internodeLimits.CLASS_LIMITS.registry.bytes / 2 },
  { orEqual: true },
);
