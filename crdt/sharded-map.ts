// The whole replicated state: SHARD_COUNT independent OrswotMaps, a key's shard fixed by a stable
// hash. Each shard has its own causal context and its own dot counters, so a shard's state is a
// complete ORSWOT on its own: anti-entropy compares one digest per shard and ships only the
// shards that differ, and a shipped shard joins exactly like a full state.
import type { Actor } from './dot.js';
import type { ElementOps } from './element.js';
import { hashString } from './hash.js';
import { SHARD_COUNT } from './limits.js';
import type { OrswotEntry, KeyChangeListener, KeyDelta, StateChunk } from './orswot-map.js';
import { OrswotMap } from './orswot-map.js';

/** Shard of a key: stable across processes and versions (changing it is a wire break). */
export function shardOf(key: string): number {
  return hashString(key) % SHARD_COUNT;
}

/** Digests of every shard, flat: [shard0 lane1, shard0 lane2, shard1 lane1, ...]. */
export type Digests = number[];

/** Shards whose digests differ (a malformed or short digest list counts as all different). */
export function differingShards(mine: Digests, theirs: Digests): number[] {
  const out: number[] = [];
  for (let s = 0; s < SHARD_COUNT; s++) {
    if (mine[2 * s] !== theirs[2 * s] || mine[2 * s + 1] !== theirs[2 * s + 1]) out.push(s);
  }
  return out;
}

export class ShardedOrswotMap<E> {
  readonly shards: readonly OrswotMap<E>[];

  constructor(ops: ElementOps<E>) {
    const shards: OrswotMap<E>[] = [];
    for (let i = 0; i < SHARD_COUNT; i++) shards.push(new OrswotMap(ops));
    this.shards = shards;
  }

  shard(index: number): OrswotMap<E> {
    const s = this.shards[index];
    if (s === undefined) throw new RangeError(`no shard ${index}`);
    return s;
  }

  shardFor(key: string): OrswotMap<E> {
    // One input touches one key several times in a row: remember the last key's shard.
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastShard = this.shard(shardOf(key));
    }
    return this.lastShard as OrswotMap<E>;
  }

  private lastKey: string | undefined;
  private lastShard: OrswotMap<E> | undefined;

  /** Keys holding at least one entry, over all shards. */
  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  *keys(): IterableIterator<string> {
    for (const s of this.shards) yield* s.keys();
  }

  entries(key: string): readonly OrswotEntry<E>[] {
    return this.shardFor(key).entries(key);
  }

  values(key: string): E[] {
    return this.shardFor(key).values(key);
  }

  add(key: string, value: E, actor: Actor): KeyDelta<E> {
    return this.shardFor(key).add(key, value, actor);
  }

  remove(key: string, value: E): KeyDelta<E> | undefined {
    return this.shardFor(key).remove(key, value);
  }

  removeWhere(key: string, pred: (entry: OrswotEntry<E>) => boolean): KeyDelta<E> | undefined {
    return this.shardFor(key).removeWhere(key, pred);
  }

  applyDelta(delta: KeyDelta<E>, listener?: KeyChangeListener): boolean {
    return this.shardFor(delta.key).applyDelta(delta, listener);
  }

  digests(): Digests {
    const out: Digests = [];
    for (const s of this.shards) out.push(...s.digest());
    return out;
  }

  cutChunk(shard: number, from: string | null, budgetBytes: number): StateChunk<E> {
    return this.shard(shard).cutChunk(from, budgetBytes);
  }

  joinChunk(shard: number, chunk: StateChunk<E>, listener?: KeyChangeListener): void {
    this.shard(shard).joinChunk(chunk, listener);
  }

  /** Dots held out of order, over all shards (non-zero means a delta is still missing). */
  cloudSize(): number {
    let n = 0;
    for (const s of this.shards) n += s.ctx.cloudSize();
    return n;
  }
}
