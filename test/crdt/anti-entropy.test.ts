// Shard digests and chunked state transfer: replicas that lost deltas compare one digest per
// shard, ship only differing shards (in byte-budgeted chunks, through the msgpack wire form) and
// converge to the same state as a full merge of everyone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ActorTable,
  SHARD_COUNT,
  ShardedOrswotMap,
  actorOf,
  decodeActors,
  decodeChunk,
  differingShards,
  encodeChunk,
  hashString,
  shardOf,
} from '../../crdt/index.js';
import { decode, encode } from '../../runtime/codec.js';
import { seededRandom } from '../../runtime/base.js';
import { canonicalSharded, stringOps } from './helpers.js';

type Replica = ShardedOrswotMap<string>;

/** Pull every differing shard of `from` into `to`, chunk by chunk, through the wire form. Returns chunks moved. */
function pull(from: Replica, to: Replica, budget: number): number {
  let moved = 0;
  for (const shard of differingShards(to.digests(), from.digests())) {
    let cursor: string | null = null;
    do {
      const chunk = from.cutChunk(shard, cursor, budget);
      const table = new ActorTable();
      const wire = encodeChunk(shard, chunk, table, stringOps);
      const bytes = encode({ a: table.list, c: wire });
      const back = decode(bytes) as { a: unknown; c: unknown };
      const decoded = decodeChunk(back.c, decodeActors(back.a), stringOps);
      to.joinChunk(decoded.shard, decoded.chunk);
      cursor = chunk.to;
      moved++;
    } while (cursor !== null);
  }
  return moved;
}

function scenario(seed: number, budget: number): { replicas: Replica[]; reference: Replica; rounds: number } {
  const rng = seededRandom(seed);
  const n = 4;
  const replicas = Array.from({ length: n }, () => new ShardedOrswotMap(stringOps));
  const keys = Array.from({ length: 200 }, (_, i) => `name-${i}`);
  for (let step = 0; step < 600; step++) {
    const i = rng.int(n);
    const r = replicas[i] as Replica;
    const key = rng.pick(keys);
    const delta = rng.chance(0.7) ? r.add(key, `v${rng.int(3)}`, actorOf(`n${i}`, 1)) : r.removeWhere(key, () => true);
    if (delta === undefined) continue;
    // Each delta reaches each other replica with probability 0.5 (the rest is lost).
    for (let j = 0; j < n; j++) if (j !== i && rng.chance(0.5)) replicas[j]?.applyDelta(delta);
  }
  const reference = new ShardedOrswotMap(stringOps);
  for (const r of replicas)
    for (let s = 0; s < SHARD_COUNT; s++) reference.joinChunk(s, r.cutChunk(s, null, Number.MAX_SAFE_INTEGER));
  // Anti-entropy rounds: each replica exchanges both ways with a random peer.
  let rounds = 0;
  while (rounds < 20 && replicas.some((r) => differingShards(r.digests(), reference.digests()).length > 0)) {
    rounds++;
    for (let i = 0; i < n; i++) {
      const peer = (i + 1 + rng.int(n - 1)) % n;
      pull(replicas[peer] as Replica, replicas[i] as Replica, budget);
      pull(replicas[i] as Replica, replicas[peer] as Replica, budget);
    }
  }
  return { replicas, reference, rounds };
}

describe('anti-entropy over shard digests', () => {
  it('converges replicas that lost deltas to the full merge, whole shards per message', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const { replicas, reference, rounds } = scenario(seed, Number.MAX_SAFE_INTEGER);
        for (const r of replicas) expect(canonicalSharded(r)).toBe(canonicalSharded(reference));
        expect(rounds).toBeLessThanOrEqual(4);
      }),
      { numRuns: 25 },
    );
  });

  it('converges with small chunks (a shard split over many messages)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const { replicas, reference, rounds } = scenario(seed, 60);
        for (const r of replicas) expect(canonicalSharded(r)).toBe(canonicalSharded(reference));
        expect(rounds).toBeLessThanOrEqual(6);
      }),
      { numRuns: 25 },
    );
  });

  it('ships only the shards that differ', () => {
    const a = new ShardedOrswotMap(stringOps);
    const b = new ShardedOrswotMap(stringOps);
    for (let i = 0; i < 500; i++) {
      const d = a.add(`k${i}`, 'v', actorOf('a', 1));
      b.applyDelta(d);
    }
    expect(differingShards(a.digests(), b.digests())).toEqual([]);
    a.add('k7', 'w', actorOf('a', 1));
    expect(differingShards(a.digests(), b.digests())).toEqual([shardOf('k7')]);
    expect(pull(a, b, Number.MAX_SAFE_INTEGER)).toBe(1);
    expect(canonicalSharded(b)).toBe(canonicalSharded(a));
  });

  it('a chunk never exceeds its byte budget on the wire, except a single oversized key', () => {
    const a = new ShardedOrswotMap(stringOps);
    for (let i = 0; i < 2000; i++) a.add(`key-${i}`, `value-${i % 7}`, actorOf(`node-${i % 5}`, 3));
    for (let s = 0; s < SHARD_COUNT; s++) {
      let cursor: string | null = null;
      do {
        const chunk = a.cutChunk(s, cursor, 300);
        const table = new ActorTable();
        const keysOnly = encodeChunk(
          s,
          { ...chunk, ctx: new (chunk.ctx.constructor as new () => typeof chunk.ctx)() },
          table,
          stringOps,
        );
        if (chunk.keys.size > 1) expect(encode(keysOnly[6]).length).toBeLessThanOrEqual(300);
        cursor = chunk.to;
      } while (cursor !== null);
    }
  });

  it('routes keys to shards evenly and stably', () => {
    const counts = new Array<number>(SHARD_COUNT).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(`name-${i}`)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    for (const c of counts) expect(c).toBeLessThan(1200);
    // Pinned values: the shard of a key is part of the wire contract between versions.
    // Changing the hash silently would split a mixed-version cluster's shards apart.
    expect([shardOf(''), shardOf('a'), shardOf('name-1'), shardOf('ünïcødé')]).toEqual([29, 13, 5, 60]);
    expect([hashString(''), hashString('a'), hashString('name-1')]).toEqual([3099819549, 1426950093, 2520335045]);
  });
});
