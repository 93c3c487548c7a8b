// Limits of the CRDT layer, in one place. Wire input beyond these is malformed and dropped.
import { MAX_NAME_LENGTH } from '../runtime/base.js';

/** Shards the state is split into for anti-entropy (a power of two; fixed cluster-wide). */
export const SHARD_COUNT = 64;

/** Longest key (a registered name) accepted, in UTF-16 code units. */
export const MAX_KEY_LENGTH = MAX_NAME_LENGTH;

/** Most entries (value, dot) one key may hold in a message or in state. */
export const MAX_ENTRIES_PER_KEY = 64;

/** Most actors (node incarnations) one message may name. */
export const MAX_ACTORS_PER_MESSAGE = 4096;

/** Most keys one message may carry. */
export const MAX_KEYS_PER_MESSAGE = 100_000;

/** Most dots of a causal context's cloud (out-of-order dots) one message may carry. */
export const MAX_CLOUD_DOTS_PER_MESSAGE = 100_000;

/** Longest actor name: a node name plus '#' plus an incarnation. */
export const MAX_ACTOR_LENGTH = MAX_NAME_LENGTH + 1 + 16;
