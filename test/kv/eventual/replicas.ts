// Test helpers: in-process replicas of one eventual space (pure cores, no host), messages
// delivered by hand, full-state joins, and a comparable view of a replica.
import { EventualKvCore, type EventualKvMessage, type EventualKvOutput } from '../../../kv/index.js';
import { SHARD_COUNT, actorOf } from '../../../crdt/index.js';
import { seededRandom } from '../../../runtime/index.js';

export const SPACE = 's';

export function replica(node: string, seed = 1, incarnation = 1): EventualKvCore {
  return new EventualKvCore({ space: SPACE, actor: actorOf(node, incarnation), random: seededRandom(seed) });
}

/** Joins `source`'s whole state into `target` (every shard as one chunk): the state join ⊔. */
export function joinState(target: EventualKvCore, source: EventualKvCore): EventualKvOutput[] {
  const out: EventualKvOutput[] = [];
  for (let s = 0; s < SHARD_COUNT; s++) {
    const chunk = source.state.cutChunk(s, null, Number.MAX_SAFE_INTEGER);
    out.push(...target.apply('peer', { t: 'shards', space: SPACE, chunks: [{ shard: s, chunk }] }));
  }
  return out;
}

/** What a replica shows, key by key (value, stamp, writer), in key order, plus its digests. */
export function viewOf(core: EventualKvCore): { keys: [string, unknown, number, string][]; digests: number[] } {
  const keys: [string, unknown, number, string][] = [];
  for (const k of [...core.state.keys()].sort()) {
    const kv = core.get(k)!;
    keys.push([k, kv.value, kv.stamp, kv.writer]);
  }
  return { keys, digests: core.state.digests() };
}

/** The messages among outputs, with where they go. */
export function messagesOf(from: string, outputs: readonly EventualKvOutput[]): Envelope[] {
  const out: Envelope[] = [];
  for (const o of outputs) {
    if (o.type === 'send') out.push({ from, to: o.to, message: o.message });
    if (o.type === 'broadcast') for (const to of o.to) out.push({ from, to, message: o.message });
  }
  return out;
}

export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: EventualKvMessage;
}

/** Through msgpack and back, as internode would carry it. */
export { encode, decode } from '../../../runtime/index.js';
