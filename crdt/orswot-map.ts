// A map of ORSWOTs sharing one causal context: key -> set of values, each present value held by
// one or more dots. This is the unit of replication (one shard of the registry state).
//
// State is the set of entries (key, value, dot) plus the causal context. Join keeps an entry
// when both sides hold it, or when one side holds it and the other has not seen its dot; an
// entry one side has seen (dot in its context) but no longer holds was removed, and stays
// removed. Adds mint a fresh dot, so an add concurrent with a remove survives (add wins).
import { CausalContext } from './causal-context.js';
import type { Actor, Dot } from './dot.js';
import type { ElementOps } from './element.js';
import { CrdtInvariantError } from './errors.js';
import { FNV_OFFSET, FNV_OFFSET_ALT, flatString, fnvNumber, fnvString, mix32 } from './hash.js';
import { MAX_ENTRIES_PER_KEY } from './limits.js';

/** One (value, dot) pair of a key. A value held by several dots has several entries. */
export interface OrswotEntry<E> extends Dot {
  readonly value: E;
}

/**
 * A delta for one key: the entries the change holds, and the dots it has seen but does not hold
 * (`removed`). Its causal context is dots(entries) ∪ removed. Key deltas join into delta groups.
 */
export interface KeyDelta<E> {
  readonly key: string;
  readonly entries: readonly OrswotEntry<E>[];
  readonly removed: readonly Dot[];
}

/** Called around each key whose entries a join actually changes (for derived events). */
export interface KeyChangeListener {
  before(key: string): void;
  after(key: string): void;
}

/** A slice of a shard's full state: every key in [from, to) with all its entries, plus the whole context. */
export interface StateChunk<E> {
  readonly from: string | null;
  /** Exclusive end; null means "to the end of the shard". */
  readonly to: string | null;
  readonly ctx: CausalContext;
  readonly keys: ReadonlyMap<string, readonly OrswotEntry<E>[]>;
  /** The sender's digest of all its entries in the shard when it cut this chunk. */
  readonly entriesDigest: readonly [number, number];
}

type Slot<E> = OrswotEntry<E> | OrswotEntry<E>[];

const NO_ENTRIES: readonly never[] = Object.freeze([]);

function sameDot(a: Dot, b: Dot): boolean {
  return a.counter === b.counter && a.actor === b.actor;
}

function inRange(key: string, from: string | null, to: string | null): boolean {
  return (from === null || key >= from) && (to === null || key < to);
}

/** Builds a compact entry: value and counter, the actor derived from the value. */
type CompactEntryClass<E> = new (value: E, counter: number) => OrswotEntry<E>;

const compactClasses = new WeakMap<object, CompactEntryClass<never>>();

function compactClassFor<E>(actorOf: (value: E) => string): CompactEntryClass<E> {
  const known = compactClasses.get(actorOf);
  if (known !== undefined) return known as unknown as CompactEntryClass<E>;
  class CompactEntry {
    readonly value: E;
    readonly counter: number;
    constructor(value: E, counter: number) {
      this.value = value;
      this.counter = counter;
    }
    get actor(): string {
      return actorOf(this.value);
    }
  }
  compactClasses.set(actorOf, CompactEntry as unknown as CompactEntryClass<never>);
  return CompactEntry;
}

export class OrswotMap<E> {
  readonly ctx = new CausalContext();
  private readonly slots = new Map<string, Slot<E>>();
  private sum1 = 0;
  private sum2 = 0;
  private entryCount = 0;
  private readonly ops: ElementOps<E>;
  private readonly compact: CompactEntryClass<E> | undefined;

  constructor(ops: ElementOps<E>) {
    this.ops = ops;
    this.compact = ops.actorOf === undefined ? undefined : compactClassFor(ops.actorOf);
  }

  /** The stored form of a newly stored entry: compact when the actor follows from the value. */
  private stored(e: OrswotEntry<E>): OrswotEntry<E> {
    const Compact = this.compact;
    if (Compact === undefined || this.ops.actorOf?.(e.value) !== e.actor) return e;
    return this.ops.compactEntry?.(e.value, e.counter) ?? new Compact(e.value, e.counter);
  }

  /** Number of keys holding at least one entry. */
  get size(): number {
    return this.slots.size;
  }

  /** Number of (key, value, dot) entries. */
  get entryTotal(): number {
    return this.entryCount;
  }

  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  entries(key: string): readonly OrswotEntry<E>[] {
    const slot = this.slots.get(key);
    if (slot === undefined) return NO_ENTRIES;
    return Array.isArray(slot) ? slot : [slot];
  }

  /** The distinct values present under a key. */
  values(key: string): E[] {
    const slot = this.slots.get(key);
    if (slot === undefined) return [];
    if (!Array.isArray(slot)) return [slot.value];
    const out: E[] = [];
    for (const e of this.entries(key)) if (!out.some((v) => this.ops.equals(v, e.value))) out.push(e.value);
    return out;
  }

  /** Digest of the entries only (two lanes), order-independent, maintained incrementally. */
  entriesDigest(): [number, number] {
    return [this.sum1, this.sum2];
  }

  /** Digest of the whole shard: entries and causal context. Equal digests mean equal states. */
  digest(): [number, number] {
    const [c1, c2] = this.ctx.hash();
    return [(this.sum1 + mix32(c1 ^ this.entryCount)) >>> 0, (this.sum2 + mix32(c2 + this.entryCount)) >>> 0];
  }

  /**
   * Add `value` under `key` with a fresh dot of `actor`; replaces the value's older dots.
   * Throws CrdtInvariantError past MAX_ENTRIES_PER_KEY.
   */
  add(key: string, value: E, actor: Actor): KeyDelta<E> {
    const current = this.entries(key);
    const removed: Dot[] = [];
    const kept: OrswotEntry<E>[] = [];
    for (const e of current) {
      if (this.ops.equals(e.value, value)) removed.push({ actor: e.actor, counter: e.counter });
      else kept.push(e);
    }
    if (kept.length + 1 > MAX_ENTRIES_PER_KEY)
      throw new CrdtInvariantError(`key ${JSON.stringify(key)} would hold more than ${MAX_ENTRIES_PER_KEY} entries`);
    // Normally an actor's own dots are contiguous here. If the context holds dots of this actor
    // past a gap (two processes running as one incarnation: a misconfiguration), mint above all
    // of them so the new dot is still unique.
    const entry: OrswotEntry<E> = { value, actor, counter: this.ctx.highest(actor) + 1 };
    this.ctx.add(actor, entry.counter);
    kept.push(entry);
    this.replace(key, current, kept);
    return { key, entries: [entry], removed };
  }

  /** Remove every entry of `value` under `key`. Undefined when there was nothing to remove. */
  remove(key: string, value: E): KeyDelta<E> | undefined {
    return this.removeWhere(key, (e) => this.ops.equals(e.value, value));
  }

  removeKey(key: string): KeyDelta<E> | undefined {
    return this.removeWhere(key, () => true);
  }

  /** True when some entry of `key` matches `pred` (no allocation for a single entry). */
  someEntry(key: string, pred: (entry: OrswotEntry<E>) => boolean): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    return Array.isArray(slot) ? slot.some(pred) : pred(slot);
  }

  /** Remove the entries of `key` matching `pred` (their dots stay in the context). */
  removeWhere(key: string, pred: (entry: OrswotEntry<E>) => boolean): KeyDelta<E> | undefined {
    if (!this.someEntry(key, pred)) return undefined;
    const current = this.entries(key);
    const removed: Dot[] = [];
    const kept: OrswotEntry<E>[] = [];
    for (const e of current) {
      if (pred(e)) removed.push({ actor: e.actor, counter: e.counter });
      else kept.push(e);
    }
    if (removed.length === 0) return undefined;
    this.replace(key, current, kept);
    return { key, entries: [], removed };
  }

  /** Join a key delta (or delta group) into this state. Returns true when the key's entries changed. */
  applyDelta(delta: KeyDelta<E>, listener?: KeyChangeListener): boolean {
    const seen = (d: Dot): boolean =>
      delta.entries.some((e) => sameDot(e, d)) || delta.removed.some((r) => sameDot(r, d));
    const changed = this.joinKey(delta.key, delta.entries, seen, listener);
    for (const e of delta.entries) this.ctx.add(e.actor, e.counter);
    for (const r of delta.removed) this.ctx.add(r.actor, r.counter);
    return changed;
  }

  /**
   * Join a slice of another replica's full state. Keys in the chunk's range are joined with the
   * sender's context deciding removals. The sender's context joins ours only when the chunk is
   * the whole shard, or when afterwards our entries equal the sender's (so every dot it has seen
   * is either held by us or removed on both sides; merging it then cannot lose an add).
   */
  joinChunk(chunk: StateChunk<E>, listener?: KeyChangeListener): void {
    const seen = (d: Dot): boolean => chunk.ctx.contains(d.actor, d.counter);
    for (const [key, entries] of chunk.keys) {
      if (!inRange(key, chunk.from, chunk.to)) continue;
      this.joinKey(key, entries, seen, listener);
    }
    const absent: string[] = [];
    for (const key of this.slots.keys())
      if (inRange(key, chunk.from, chunk.to) && !chunk.keys.has(key)) absent.push(key);
    for (const key of absent) this.joinKey(key, [], seen, listener);
    const whole = chunk.from === null && chunk.to === null;
    if (whole || (this.sum1 === chunk.entriesDigest[0] && this.sum2 === chunk.entriesDigest[1]))
      this.ctx.merge(chunk.ctx);
  }

  /**
   * Cut a chunk of this shard's full state: keys in sorted order from `from`, while the running
   * wire size stays within `budgetBytes` (always at least one key, so a transfer progresses).
   */
  cutChunk(from: string | null, budgetBytes: number): StateChunk<E> {
    const sorted = [...this.slots.keys()].filter((k) => from === null || k >= from).sort();
    const keys = new Map<string, readonly OrswotEntry<E>[]>();
    let used = 0;
    let to: string | null = null;
    for (const key of sorted) {
      const size = this.keyWireSize(key);
      if (keys.size > 0 && used + size > budgetBytes) {
        to = key;
        break;
      }
      used += size;
      keys.set(key, this.entries(key));
    }
    return { from, to, ctx: this.ctx.clone(), keys, entriesDigest: [this.sum1, this.sum2] };
  }

  /** Upper bound of one key's wire size inside a delta or chunk (see wire.ts). */
  keyWireSize(key: string): number {
    let size = 8 + key.length * 3;
    for (const e of this.entries(key)) size += this.ops.wireSize(e.value) + 14;
    return size;
  }

  // Join one key against remote entries; `remoteSeen` is the remote causal context.
  private joinKey(
    key: string,
    remote: readonly OrswotEntry<E>[],
    remoteSeen: (d: Dot) => boolean,
    listener?: KeyChangeListener,
  ): boolean {
    const local = this.entries(key);
    const result: OrswotEntry<E>[] = [];
    let changed = false;
    for (const l of local) {
      if (remote.some((r) => sameDot(r, l)) || !remoteSeen(l)) result.push(l);
      else changed = true;
    }
    for (const r of remote) {
      if (local.some((l) => sameDot(l, r))) continue;
      if (this.ctx.contains(r.actor, r.counter)) continue;
      if (result.length >= MAX_ENTRIES_PER_KEY) continue;
      result.push(r);
      changed = true;
    }
    if (!changed) return false;
    listener?.before(key);
    // A key new to this replica came from the wire: store a flat copy (see flatString).
    this.replace(local.length === 0 ? flatString(key) : key, local, result);
    for (const e of result) this.ctx.add(e.actor, e.counter);
    listener?.after(key);
    return true;
  }

  private replace(key: string, before: readonly OrswotEntry<E>[], after: OrswotEntry<E>[]): void {
    for (const e of before) if (!after.includes(e)) this.account(key, e, -1);
    for (let i = 0; i < after.length; i++) {
      const e = after[i] as OrswotEntry<E>;
      if (before.includes(e)) continue;
      this.account(key, e, 1);
      after[i] = this.stored(e);
    }
    if (after.length === 0) this.slots.delete(key);
    else this.slots.set(key, after.length === 1 ? (after[0] as OrswotEntry<E>) : after);
  }

  private account(key: string, e: OrswotEntry<E>, sign: 1 | -1): void {
    const h1 = mix32(fnvNumber(e.counter, fnvString(e.actor, this.ops.hash(e.value, fnvString(key, FNV_OFFSET)))));
    const h2 = mix32(fnvNumber(e.counter, fnvString(e.actor, this.ops.hash(e.value, fnvString(key, FNV_OFFSET_ALT)))));
    this.sum1 = (this.sum1 + sign * h1) >>> 0;
    this.sum2 = (this.sum2 + sign * h2) >>> 0;
    this.entryCount += sign;
  }
}
