// Messages of the eventual registry on internode's `registry` class. All are plain msgpack
// values (Pids use the codec's extension), discriminated by `t`. Every incoming message goes
// through parseRegistryMessage: anything malformed throws RegistryMalformedError, which the core
// counts and drops.
//
//   delta      broadcast by a node after its own processes' changes (register, unregister,
//              exit, lost conflict, re-assert). Carries only the sender's own claims.
//   ae-digest  starts an anti-entropy exchange: one digest per shard.
//   ae-shards  the rest of the exchange: state chunks of differing shards, the sender's digests
//              (first reply only, so the initiator can push back what the responder lacks),
//              pulls (continue sending me shard s from name k) and more (I have more of shard s
//              from name k; pull it).
import type { Actor, DecodedChunk, Digests, KeyDelta, WireChunk, WireKeyDelta } from '../../crdt/index.js';
import {
  MAX_KEY_LENGTH,
  SHARD_COUNT,
  actorOf,
  decodeActors,
  decodeChunk,
  decodeDigests,
  decodeKeyDeltas,
} from '../../crdt/index.js';
import { isTroupeError } from '../../runtime/base.js';
import type { Pid } from '../../runtime/base.js';
import { RegistryMalformedError } from './errors.js';
import { MAX_AE_HOPS } from './limits.js';
import { pidElement } from './pid-element.js';

/** [shard, first name to send (null: from the start)]. */
export type ShardCursor = [shard: number, from: string | null];

export interface DeltaMessage {
  readonly t: 'delta';
  /** Actor table: dots refer to actors by index. */
  readonly a: Actor[];
  readonly d: WireKeyDelta[];
}

export interface DigestMessage {
  readonly t: 'ae-digest';
  readonly g: Digests;
}

export interface ShardsMessage {
  readonly t: 'ae-shards';
  /** Hop number within the exchange (bounded by MAX_AE_HOPS). */
  readonly h: number;
  readonly a: Actor[];
  readonly c: WireChunk[];
  /** The sender's digests, when it wants the receiver to push what differs back. */
  readonly g: Digests | null;
  /** Pull requests: send me these shards from these names. */
  readonly p: ShardCursor[];
  /** Continuations the sender could not fit: pull them from me. */
  readonly n: ShardCursor[];
}

export type RegistryMessage = DeltaMessage | DigestMessage | ShardsMessage;

export type ParsedRegistryMessage =
  | { readonly t: 'delta'; readonly deltas: KeyDelta<Pid>[] }
  | { readonly t: 'ae-digest'; readonly digests: Digests }
  | {
      readonly t: 'ae-shards';
      readonly hops: number;
      readonly chunks: DecodedChunk<Pid>[];
      readonly digests: Digests | null;
      readonly pulls: ShardCursor[];
      readonly more: ShardCursor[];
    };

function fail(detail: string): never {
  throw new RegistryMalformedError(detail);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function parseCursors(value: unknown): ShardCursor[] {
  if (!Array.isArray(value) || value.length > SHARD_COUNT) fail('cursor list is not a bounded array');
  const seen = new Set<number>();
  return value.map((c: unknown): ShardCursor => {
    if (!Array.isArray(c) || c.length !== 2) fail('cursor is not a pair');
    const [shard, from] = c as unknown[];
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= SHARD_COUNT || seen.has(shard))
      fail('cursor shard out of range or repeated');
    if (from !== null && (typeof from !== 'string' || from.length === 0 || from.length > MAX_KEY_LENGTH))
      fail('cursor start is not a name or null');
    seen.add(shard);
    return [shard, from];
  });
}

/** Every claim's dot must be minted by the claim's own node incarnation. */
function checkOrigins(entries: readonly { value: Pid; actor: Actor }[]): void {
  for (const e of entries)
    if (e.actor !== actorOf(e.value.node, e.value.incarnation))
      fail(`claim of ${e.value.toString()} carries a dot of ${e.actor}`);
}

/**
 * Validate and decode one message from `fromNode`. Deltas may only carry the sender's own claims
 * and dots (a node announces its own processes' changes only).
 */
export function parseRegistryMessage(raw: unknown, fromNode: string): ParsedRegistryMessage {
  try {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('not a map');
    const msg = raw as Record<string, unknown>;
    switch (field(msg, 't')) {
      case 'delta': {
        const actors = decodeActors(field(msg, 'a'));
        const deltas = decodeKeyDeltas(field(msg, 'd'), actors, pidElement);
        for (const d of deltas) {
          checkOrigins(d.entries);
          for (const dot of [...d.entries, ...d.removed])
            if (!dot.actor.startsWith(`${fromNode}#`)) fail(`delta from ${fromNode} carries a dot of ${dot.actor}`);
        }
        return { t: 'delta', deltas };
      }
      case 'ae-digest':
        return { t: 'ae-digest', digests: decodeDigests(field(msg, 'g')) };
      case 'ae-shards': {
        const hops = field(msg, 'h');
        if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 1 || hops > MAX_AE_HOPS)
          fail('hop count out of range');
        const actors = decodeActors(field(msg, 'a'));
        const rawChunks = field(msg, 'c');
        if (!Array.isArray(rawChunks) || rawChunks.length > SHARD_COUNT) fail('chunks are not a bounded array');
        const chunks = rawChunks.map((c: unknown) => decodeChunk(c, actors, pidElement));
        for (const c of chunks) for (const entries of c.chunk.keys.values()) checkOrigins(entries);
        const g = field(msg, 'g');
        return {
          t: 'ae-shards',
          hops,
          chunks,
          digests: g === null ? null : decodeDigests(g),
          pulls: parseCursors(field(msg, 'p')),
          more: parseCursors(field(msg, 'n')),
        };
      }
      default:
        fail('unknown message type');
    }
  } catch (err) {
    if (err instanceof RegistryMalformedError) throw err;
    // Decoders of crdt/ and Pid raise their own typed errors; report them all as malformed.
    if (isTroupeError(err)) throw new RegistryMalformedError(err.message, { cause: err });
    throw err;
  }
}
