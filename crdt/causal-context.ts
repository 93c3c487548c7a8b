// The causal context of a replica (or of a delta): every dot it has seen, kept as a version
// vector (all counters 1..n of an actor) plus a "cloud" of dots seen out of order. The cloud
// only holds dots past a gap (a delta arrived before an earlier one); it folds into the vector
// as soon as the gap closes, so in steady state it is empty. These are the only "tombstones":
// a removed element leaves nothing behind but its dot inside this context.
import { FNV_OFFSET, FNV_OFFSET_ALT, fnvNumber, fnvString, mix32 } from './hash.js';
import type { Actor } from './dot.js';

export class CausalContext {
  /** actor -> highest counter n such that dots 1..n are all seen. */
  readonly vv = new Map<Actor, number>();
  /** actor -> dots seen above the vector, out of order (lazily created). */
  cloud: Map<Actor, Set<number>> | undefined;
  /** hash() memo, dropped on every change. */
  private memo: [number, number] | undefined;

  contains(actor: Actor, counter: number): boolean {
    if (counter <= (this.vv.get(actor) ?? 0)) return true;
    return this.cloud?.get(actor)?.has(counter) ?? false;
  }

  /** Highest contiguous counter of an actor. */
  contiguous(actor: Actor): number {
    return this.vv.get(actor) ?? 0;
  }

  /** Highest counter of an actor seen, contiguous or not. */
  highest(actor: Actor): number {
    let top = this.vv.get(actor) ?? 0;
    const dots = this.cloud?.get(actor);
    if (dots !== undefined) for (const c of dots) if (c > top) top = c;
    return top;
  }

  /** True when the actor has dots in the cloud (a gap below them). */
  hasGap(actor: Actor): boolean {
    return (this.cloud?.get(actor)?.size ?? 0) > 0;
  }

  add(actor: Actor, counter: number): void {
    const top = this.vv.get(actor) ?? 0;
    if (counter <= top) return;
    this.memo = undefined;
    if (counter === top + 1) {
      let next = counter;
      const dots = this.cloud?.get(actor);
      if (dots !== undefined) {
        while (dots.delete(next + 1)) next++;
        if (dots.size === 0) this.dropCloud(actor);
      }
      this.vv.set(actor, next);
      return;
    }
    this.cloud ??= new Map();
    let dots = this.cloud.get(actor);
    if (dots === undefined) {
      dots = new Set();
      this.cloud.set(actor, dots);
    }
    dots.add(counter);
  }

  merge(other: CausalContext): void {
    for (const [actor, top] of other.vv) this.raiseContiguous(actor, top);
    if (other.cloud !== undefined) {
      for (const [actor, dots] of other.cloud) for (const c of dots) this.add(actor, c);
    }
  }

  /** Raise an actor's contiguous counter to `counter` (decoding a vector that claims 1..counter). */
  raiseContiguous(actor: Actor, counter: number): void {
    if (counter > (this.vv.get(actor) ?? 0)) {
      this.memo = undefined;
      this.vv.set(actor, counter);
      const dots = this.cloud?.get(actor);
      if (dots !== undefined) {
        for (const c of dots) if (c <= counter) dots.delete(c);
        let next = counter;
        while (dots.delete(next + 1)) next++;
        this.vv.set(actor, next);
        if (dots.size === 0) this.dropCloud(actor);
      }
    }
  }

  /** Number of dots held in the cloud (a gauge: non-zero means some delta is still missing). */
  cloudSize(): number {
    let n = 0;
    if (this.cloud !== undefined) for (const dots of this.cloud.values()) n += dots.size;
    return n;
  }

  clone(): CausalContext {
    const copy = new CausalContext();
    for (const [a, n] of this.vv) copy.vv.set(a, n);
    if (this.cloud !== undefined) {
      copy.cloud = new Map();
      for (const [a, dots] of this.cloud) copy.cloud.set(a, new Set(dots));
    }
    return copy;
  }

  equals(other: CausalContext): boolean {
    if (this.vv.size !== other.vv.size || this.cloudSize() !== other.cloudSize()) return false;
    for (const [a, n] of this.vv) if (other.vv.get(a) !== n) return false;
    if (this.cloud !== undefined) {
      for (const [a, dots] of this.cloud)
        for (const c of dots) if (!other.contains(a, c) || other.contiguous(a) >= c) return false;
    }
    return true;
  }

  /** Order-independent hash of the context (two lanes), for shard digests. */
  hash(): [number, number] {
    if (this.memo !== undefined) return this.memo;
    let s1 = 0;
    let s2 = 0;
    for (const [a, n] of this.vv) {
      s1 = (s1 + mix32(fnvNumber(n, fnvString(a, FNV_OFFSET)))) >>> 0;
      s2 = (s2 + mix32(fnvNumber(n, fnvString(a, FNV_OFFSET_ALT)))) >>> 0;
    }
    if (this.cloud !== undefined) {
      for (const [a, dots] of this.cloud) {
        for (const c of dots) {
          // Cloud dots hash apart from vector entries (an extra marker byte).
          s1 = (s1 + mix32(fnvNumber(c, fnvString(a, FNV_OFFSET ^ 0x5a)))) >>> 0;
          s2 = (s2 + mix32(fnvNumber(c, fnvString(a, FNV_OFFSET_ALT ^ 0x5a)))) >>> 0;
        }
      }
    }
    this.memo = [s1, s2];
    return this.memo;
  }

  private dropCloud(actor: Actor): void {
    this.cloud?.delete(actor);
    if (this.cloud?.size === 0) this.cloud = undefined;
  }
}
