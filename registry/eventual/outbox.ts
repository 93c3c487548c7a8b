// The delta outbox: changes of this node's claims waiting for the next gossip round. Changes to
// one name coalesce into one delta group, so a flapping name costs one entry. A round drains up
// to a byte budget, taking one name per shard in turn from a cursor that persists across rounds,
// so a burst on one shard cannot starve the others; what does not fit waits for the next round.
// A change dropped because the outbox is full (or a name's group grew too big) is counted; the
// anti-entropy rounds repair it.
import type { KeyDelta, WireKeyDelta } from '../../crdt/index.js';
import {
  ActorTable,
  MAX_REMOVED_DOTS_PER_KEY,
  SHARD_COUNT,
  encodeKeyDelta,
  joinKeyDeltas,
  keyDeltaWireSize,
  shardOf,
} from '../../crdt/index.js';
import type { Pid } from '../../runtime/base.js';
import type { DeltaMessage } from './messages.js';
import { pidElement } from './pid-element.js';

export interface DrainResult {
  readonly message: DeltaMessage;
  /** Upper bound of the message's msgpack size. */
  readonly bytes: number;
  readonly names: number;
}

export class DeltaOutbox {
  private readonly pending: Map<string, KeyDelta<Pid>>[] = Array.from({ length: SHARD_COUNT }, () => new Map());
  private count = 0;
  private cursor = 0;
  private readonly maxNames: number;
  /** Changes dropped (outbox full or a name's group too big); anti-entropy repairs them. */
  dropped = 0;

  constructor(maxNames: number) {
    this.maxNames = maxNames;
  }

  get size(): number {
    return this.count;
  }

  /** Queue a change; false when it was dropped (counted). */
  push(delta: KeyDelta<Pid>): boolean {
    const shard = this.pending[shardOf(delta.key)] as Map<string, KeyDelta<Pid>>;
    const prev = shard.get(delta.key);
    if (prev === undefined) {
      if (this.count >= this.maxNames) {
        this.dropped++;
        return false;
      }
      shard.set(delta.key, delta);
      this.count++;
      return true;
    }
    const joined = joinKeyDeltas(prev, delta);
    if (joined.removed.length > MAX_REMOVED_DOTS_PER_KEY) {
      shard.delete(delta.key);
      this.count--;
      this.dropped++;
      return false;
    }
    shard.set(delta.key, joined);
    return true;
  }

  /** Forget everything pending (no peer to send to); returns how many names were pending. */
  clear(): number {
    const n = this.count;
    if (n === 0) return 0;
    for (const s of this.pending) s.clear();
    this.count = 0;
    return n;
  }

  /** Take one round's worth of changes, within `budgetBytes`. Undefined when nothing is pending. */
  drain(budgetBytes: number): DrainResult | undefined {
    if (this.count === 0) return undefined;
    const table = new ActorTable();
    const out: WireKeyDelta[] = [];
    let bytes = 16; // map header, type tag, array headers
    let full = false;
    while (!full && this.count > 0) {
      let tookThisPass = false;
      for (let i = 0; i < SHARD_COUNT && !full; i++) {
        const index = this.cursor;
        const shard = this.pending[index] as Map<string, KeyDelta<Pid>>;
        const first = shard.entries().next();
        if (first.done === true) {
          this.cursor = (this.cursor + 1) % SHARD_COUNT;
          continue;
        }
        const [key, delta] = first.value;
        const newActors = new Set<string>();
        for (const d of [...delta.entries, ...delta.removed]) if (!table.list.includes(d.actor)) newActors.add(d.actor);
        let size = keyDeltaWireSize(delta, pidElement);
        for (const a of newActors) size += a.length + 3;
        if (out.length > 0 && bytes + size > budgetBytes) {
          full = true;
          break;
        }
        out.push(encodeKeyDelta(delta, table, pidElement));
        bytes += size;
        shard.delete(key);
        this.count--;
        tookThisPass = true;
        this.cursor = (this.cursor + 1) % SHARD_COUNT;
      }
      if (!tookThisPass) break;
    }
    return { message: { t: 'delta', a: table.list, d: out }, bytes, names: out.length };
  }
}
