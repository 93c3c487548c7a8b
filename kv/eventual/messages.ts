// Messages of eventual KV spaces on internode's `registry` class (the gossip class, shared with
// the eventual name registry: its frames are msgpack bytes, these are arrays tagged 'kv-…', so
// one handler tells them apart with isEventualKvFrame). Every incoming message is validated by
// parseEventualKvMessage; anything malformed throws CrdtMalformedError, counted and dropped.
//
//   ['kv-d', space, actors, deltas]   changes a node made itself (its own dots only in entries)
//   ['kv-g', space, digests, reply]   digests per shard; reply 1 asks for the receiver's digests back
//   ['kv-s', space, actors, chunks]   state chunks of shards that differ
import {
  CrdtMalformedError,
  SHARD_COUNT,
  decodeActors,
  decodeChunk,
  decodeDigests,
  decodeKeyDeltas,
  type Actor,
  type DecodedChunk,
  type Digests,
  type KeyDelta,
  type WireChunk,
  type WireKeyDelta,
} from '../../crdt/index.js';
import { MAX_EVENTUAL_SPACE_NAME_LENGTH } from './limits.js';
import { stampedElement, type Stamped } from './stamped.js';

export type EventualKvMessage =
  | readonly ['kv-d', space: string, actors: Actor[], deltas: WireKeyDelta[]]
  | readonly ['kv-g', space: string, digests: Digests, reply: 0 | 1]
  | readonly ['kv-s', space: string, actors: Actor[], chunks: WireChunk[]];

export type ParsedEventualKvMessage =
  | { readonly t: 'delta'; readonly space: string; readonly deltas: KeyDelta<Stamped>[] }
  | { readonly t: 'digest'; readonly space: string; readonly digests: Digests; readonly reply: boolean }
  | { readonly t: 'shards'; readonly space: string; readonly chunks: DecodedChunk<Stamped>[] };

/** True for a frame body of an eventual KV space (the registry's own bodies are bytes). */
export function isEventualKvFrame(body: unknown): boolean {
  return Array.isArray(body) && typeof body[0] === 'string' && body[0].startsWith('kv-');
}

function fail(detail: string): never {
  throw new CrdtMalformedError(`eventual kv: ${detail}`);
}

export function validSpaceName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_EVENTUAL_SPACE_NAME_LENGTH;
}

/** Validate and decode one message from `fromNode`: a delta may only add entries of its sender. */
export function parseEventualKvMessage(raw: unknown, fromNode: string): ParsedEventualKvMessage {
  if (!Array.isArray(raw) || raw.length !== 4) fail('a message is a 4-tuple');
  const [tag, space, third, fourth] = raw as unknown[];
  if (!validSpaceName(space)) fail('bad space name');
  switch (tag) {
    case 'kv-d': {
      const deltas = decodeKeyDeltas(fourth, decodeActors(third), stampedElement);
      for (const d of deltas)
        for (const e of d.entries)
          if (!e.actor.startsWith(`${fromNode}#`)) fail(`a delta from ${fromNode} adds an entry of ${e.actor}`);
      return { t: 'delta', space, deltas };
    }
    case 'kv-g':
      if (fourth !== 0 && fourth !== 1) fail('reply flag is 0 or 1');
      return { t: 'digest', space, digests: decodeDigests(third), reply: fourth === 1 };
    case 'kv-s': {
      const actors = decodeActors(third);
      if (!Array.isArray(fourth) || fourth.length > SHARD_COUNT) fail('chunks are not a bounded array');
      return { t: 'shards', space, chunks: fourth.map((c: unknown) => decodeChunk(c, actors, stampedElement)) };
    }
    default:
      fail('unknown message tag');
  }
}
