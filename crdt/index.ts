// Public face of crdt/: delta-state ORSWOTs (single set, map of sets, sharded map), causal
// contexts, stable hashing, digests for anti-entropy, and wire forms with validating decoders.
export {
  SHARD_COUNT,
  MAX_KEY_LENGTH,
  MAX_ENTRIES_PER_KEY,
  MAX_ACTORS_PER_MESSAGE,
  MAX_KEYS_PER_MESSAGE,
  MAX_CLOUD_DOTS_PER_MESSAGE,
} from './limits.js';
export { flatString, hashString, fnvString, fnvNumber, mix32, FNV_OFFSET, FNV_OFFSET_ALT } from './hash.js';
export { CrdtMalformedError, CrdtInvariantError } from './errors.js';
export type { Actor, Dot, ActorParts } from './dot.js';
export { actorOf, parseActor, internActor, isCounter } from './dot.js';
export { CausalContext } from './causal-context.js';
export type { ElementOps } from './element.js';
export type { OrswotEntry, KeyDelta, KeyChangeListener, StateChunk } from './orswot-map.js';
export { OrswotMap } from './orswot-map.js';
export { Orswot } from './orswot.js';
export type { Digests } from './sharded-map.js';
export { ShardedOrswotMap, shardOf, differingShards } from './sharded-map.js';
export { joinKeyDeltas } from './delta-group.js';
export type { WireDots, WireKeyDelta, WireContext, WireChunk, DecodedChunk } from './wire.js';
export {
  ActorTable,
  MAX_REMOVED_DOTS_PER_KEY,
  encodeKeyDelta,
  keyDeltaWireSize,
  encodeContext,
  encodeChunk,
  decodeActors,
  decodeKeyDelta,
  decodeKeyDeltas,
  decodeContext,
  decodeChunk,
  decodeDigests,
} from './wire.js';
