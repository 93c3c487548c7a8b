// One replica of one eventual KV space, as a pure state machine: no I/O, no clock (time comes in
// as `now`), no randomness but the source it is given. State is crdt/'s sharded ORSWOT map of
// key → {value, stamp} entries with a causal context per shard:
//   put     removes every entry this replica holds for the key and adds one with a fresh dot, so
//           concurrent puts leave siblings and the conflict rule (conflict.ts) picks one;
//   delete  removes the entries; their dots stay in the context, so a join drops any copy of
//           them still in flight or held by a stale replica — a delete leaves no per-key record.
// Local changes queue in an outbox (coalesced per key) that `flush` broadcasts as one delta
// message; digests per shard start anti-entropy, and the shards that differ go as state chunks.
import {
  ActorTable,
  CrdtMalformedError,
  MAX_REMOVED_DOTS_PER_KEY,
  ShardedOrswotMap,
  differingShards,
  encodeChunk,
  encodeKeyDelta,
  joinKeyDeltas,
  keyDeltaWireSize,
  type Actor,
  type DecodedChunk,
  type Digests,
  type KeyChangeListener,
  type KeyDelta,
  type OrswotEntry,
  type WireChunk,
  type WireKeyDelta,
} from '../../crdt/index.js';
import type { Random } from '../../runtime/base.js';
import { KvError } from '../errors.js';
import type { KvValue } from '../types.js';
import { winningWrite } from './conflict.js';
import {
  DEFAULT_EVENTUAL_SCAN_LIMIT,
  MAX_EVENTUAL_ACTORS,
  MAX_EVENTUAL_AE_BYTES,
  MAX_EVENTUAL_DELTA_BYTES,
  MAX_EVENTUAL_KEY_BYTES,
  MAX_EVENTUAL_KEYS,
  MAX_EVENTUAL_OUTBOX_KEYS,
  MAX_EVENTUAL_SCAN_LIMIT,
  MAX_EVENTUAL_VALUE_BYTES,
} from './limits.js';
import { parseEventualKvMessage, type EventualKvMessage, type ParsedEventualKvMessage } from './messages.js';
import { stampedElement, valueBytes, type Stamped } from './stamped.js';
import {
  zeroEventualCounters,
  type EventualKeyValue,
  type EventualKvCounters,
  type EventualKvOutput,
  type EventualScanReply,
} from './types.js';

export interface EventualKvCoreOptions {
  readonly space: string;
  /** This replica's actor, `node#incarnation` (crdt's actorOf). */
  readonly actor: Actor;
  /** Picks where an anti-entropy round starts among the differing shards. */
  readonly random: Random;
  /** Smaller bounds, for tests only: every replica of a space must hold the same ones. */
  readonly maxKeys?: number;
  readonly maxActors?: number;
}

const utf8 = new TextEncoder();
const keyBytes = (key: string): number => utf8.encode(key).length;

/** Stamps stay far below 2^53 so `stamp + 1` is exact (a wall clock in ms is ~2^40). */
const MAX_STAMP = 2 ** 52;

export class EventualKvCore {
  readonly space: string;
  readonly actor: Actor;
  readonly state = new ShardedOrswotMap<Stamped>(stampedElement);
  readonly counters: EventualKvCounters = zeroEventualCounters();
  readonly #random: Random;
  readonly #maxKeys: number;
  readonly #maxActors: number;
  readonly #outbox = new Map<string, KeyDelta<Stamped>>();
  /** Every actor the space's contexts name (the tombstone bound counts them). */
  readonly #actors = new Set<Actor>();
  /** Where the next anti-entropy chunk of a shard starts (a big shard goes over several rounds). */
  readonly #cursors = new Map<number, string | null>();
  #maxStamp = 0;

  constructor(options: EventualKvCoreOptions) {
    this.space = options.space;
    this.actor = options.actor;
    this.#random = options.random;
    this.#maxKeys = options.maxKeys ?? MAX_EVENTUAL_KEYS;
    this.#maxActors = options.maxActors ?? MAX_EVENTUAL_ACTORS;
  }

  /** Live keys (O(shards)). */
  get size(): number {
    return this.state.size;
  }

  get outboxSize(): number {
    return this.#outbox.size;
  }

  /** Actors the space's causal contexts name (what deletes leave behind is one counter each). */
  get actorCount(): number {
    return this.#actors.size;
  }

  get(key: string): EventualKeyValue | null {
    return this.#view(key, this.state.entries(key));
  }

  /** Keys under `prefix` after `after`, in key order, at most `limit`; `next` continues. */
  scan(options: { readonly prefix: string; readonly after?: string; readonly limit?: number }): EventualScanReply {
    const limit = options.limit ?? DEFAULT_EVENTUAL_SCAN_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENTUAL_SCAN_LIMIT)
      throw new KvError('ERR_KV_BAD_COMMAND', `a scan limit is an integer in 1..${MAX_EVENTUAL_SCAN_LIMIT}`);
    const after = options.after;
    const keys: string[] = [];
    for (const key of this.state.keys())
      if (key.startsWith(options.prefix) && (after === undefined || key > after)) keys.push(key);
    keys.sort();
    const page = keys.slice(0, limit);
    const items = page.map((k) => this.get(k) as EventualKeyValue);
    const next = keys.length > limit ? (page[page.length - 1] as string) : null;
    return { items, next, consistency: 'eventual' };
  }

  /** Writes `value` under `key`, stamped max(now, highest stamp seen + 1). Returns the event. */
  put(key: string, value: KvValue, now: number): EventualKvOutput[] {
    checkKey(key);
    if (typeof value !== 'string' && !(value instanceof Uint8Array))
      throw new KvError('ERR_KV_BAD_COMMAND', 'a value is a string or a Uint8Array');
    if (valueBytes(value) > MAX_EVENTUAL_VALUE_BYTES)
      throw new KvError('ERR_KV_VALUE_TOO_LARGE', `a value is at most ${MAX_EVENTUAL_VALUE_BYTES} bytes`);
    if (this.state.entries(key).length === 0 && this.state.size >= this.#maxKeys)
      throw new KvError('ERR_KV_SPACE_FULL', `the eventual space ${this.space} holds ${this.#maxKeys} keys`);
    this.#claimActor();
    const stamp = Math.min(MAX_STAMP, Math.max(Math.floor(now), this.#maxStamp + 1));
    this.#maxStamp = stamp;
    const removed = this.state.removeWhere(key, () => true);
    const added = this.state.add(key, { value: typeof value === 'string' ? value : value.slice(), stamp }, this.actor);
    this.#queue(removed === undefined ? added : joinKeyDeltas(removed, added));
    this.counters.puts++;
    return [{ type: 'event', event: { type: 'put', space: this.space, key, kv: this.get(key) as EventualKeyValue } }];
  }

  /** Deletes a key (or every key under a prefix); `deleted` counts the keys that held a value here. */
  delete(what: string | { readonly prefix: string }): { deleted: number; outputs: EventualKvOutput[] } {
    const keys: string[] = [];
    if (typeof what === 'string') {
      checkKey(what);
      keys.push(what);
    } else {
      if (typeof what.prefix !== 'string' || keyBytes(what.prefix) > MAX_EVENTUAL_KEY_BYTES)
        throw new KvError('ERR_KV_KEY_TOO_LARGE', `a prefix is at most ${MAX_EVENTUAL_KEY_BYTES} bytes`);
      for (const key of this.state.keys()) if (key.startsWith(what.prefix)) keys.push(key);
    }
    const outputs: EventualKvOutput[] = [];
    for (const key of keys) {
      const removed = this.state.removeWhere(key, () => true);
      if (removed === undefined) continue;
      this.#queue(removed);
      this.counters.deletes++;
      outputs.push({ type: 'event', event: { type: 'delete', space: this.space, key } });
    }
    return { deleted: outputs.length, outputs };
  }

  /** One gossip round: the pending changes as one delta message to every peer up (within the budget). */
  flush(peers: readonly string[]): EventualKvOutput[] {
    if (this.#outbox.size === 0) return [];
    if (peers.length === 0) {
      // Nobody to tell: anti-entropy brings peers up to date when they come up.
      this.counters.outboxDropped += this.#outbox.size;
      this.#outbox.clear();
      return [];
    }
    const table = new ActorTable();
    const deltas: WireKeyDelta[] = [];
    let bytes = 32 + this.space.length * 3;
    for (const [key, delta] of this.#outbox) {
      const size = keyDeltaWireSize(delta, stampedElement) + 20 * (delta.entries.length + delta.removed.length);
      if (deltas.length > 0 && bytes + size > MAX_EVENTUAL_DELTA_BYTES) break;
      deltas.push(encodeKeyDelta(delta, table, stampedElement));
      bytes += size;
      this.#outbox.delete(key);
    }
    this.counters.deltasSent += deltas.length;
    return [{ type: 'broadcast', to: peers, message: ['kv-d', this.space, table.list, deltas] }];
  }

  /** Starts an anti-entropy round with `peer` (and answers back to make it two-way). */
  digestTo(peer: string, reply = true): EventualKvOutput {
    this.counters.aeRounds++;
    return { type: 'send', to: peer, message: ['kv-g', this.space, this.state.digests(), reply ? 1 : 0] };
  }

  /** A message from `from` (validated here; malformed or over-limit input is counted and dropped). */
  receive(from: string, raw: unknown): EventualKvOutput[] {
    let msg: ParsedEventualKvMessage;
    try {
      msg = parseEventualKvMessage(raw, from);
    } catch (error) {
      if (!(error instanceof CrdtMalformedError)) throw error;
      this.counters.malformedDropped++;
      return [];
    }
    return this.apply(from, msg);
  }

  /** A message already parsed (the host parses once to find the space). */
  apply(from: string, msg: ParsedEventualKvMessage): EventualKvOutput[] {
    if (msg.space !== this.space) return [];
    switch (msg.t) {
      case 'digest':
        return this.#answerDigest(from, msg.digests, msg.reply);
      case 'delta': {
        if (
          !this.#admits(
            msg.deltas.map((d) => d.key),
            actorsOfDeltas(msg.deltas),
          )
        )
          return [];
        this.counters.deltasReceived += msg.deltas.length;
        return this.#joining((listener) => {
          for (const d of msg.deltas) {
            this.#seeStamps(d.entries);
            this.state.applyDelta(d, listener);
          }
        });
      }
      case 'shards': {
        const keys = msg.chunks.flatMap((c) => [...c.chunk.keys.keys()]);
        if (!this.#admits(keys, actorsOfChunks(msg.chunks))) return [];
        this.counters.aeChunksReceived += msg.chunks.length;
        return this.#joining((listener) => {
          for (const c of msg.chunks) {
            for (const entries of c.chunk.keys.values()) this.#seeStamps(entries);
            this.state.joinChunk(c.shard, c.chunk, listener);
          }
        });
      }
    }
  }

  #answerDigest(from: string, theirs: Digests, reply: boolean): EventualKvOutput[] {
    const differ = differingShards(this.state.digests(), theirs);
    if (differ.length === 0) return [];
    const out: EventualKvOutput[] = [{ type: 'send', to: from, message: this.#chunksOf(differ) }];
    if (reply) out.push(this.digestTo(from, false));
    return out;
  }

  /** State chunks of the differing shards within one message's budget, from a random one on. */
  #chunksOf(differ: readonly number[]): EventualKvMessage {
    const table = new ActorTable();
    const chunks: WireChunk[] = [];
    let bytes = 32 + this.space.length * 3;
    const start = this.#random.int(differ.length);
    for (let i = 0; i < differ.length; i++) {
      const shard = differ[(start + i) % differ.length] as number;
      const map = this.state.shard(shard);
      const ctxBytes = 24 + 12 * (map.ctx.vv.size + map.ctx.cloudSize());
      const left = MAX_EVENTUAL_AE_BYTES - bytes - ctxBytes;
      if (chunks.length > 0 && left <= 0) break;
      const chunk = map.cutChunk(this.#cursors.get(shard) ?? null, Math.max(1, left));
      let size = ctxBytes;
      for (const key of chunk.keys.keys()) size += map.keyWireSize(key) + 40;
      if (chunks.length > 0 && bytes + size > MAX_EVENTUAL_AE_BYTES) break;
      this.#cursors.set(shard, chunk.to);
      chunks.push(encodeChunk(shard, chunk, table, stampedElement));
      bytes += size;
    }
    this.counters.aeChunksSent += chunks.length;
    return ['kv-s', this.space, table.list, chunks];
  }

  /** Runs a join, turning every change of what a key shows into an event. */
  #joining(join: (listener: KeyChangeListener) => void): EventualKvOutput[] {
    const out: EventualKvOutput[] = [];
    let before: OrswotEntry<Stamped> | undefined;
    join({
      before: (key) => {
        before = winningWrite(this.state.entries(key));
      },
      after: (key) => {
        const now = winningWrite(this.state.entries(key));
        if (now === before) return;
        if (now === undefined) out.push({ type: 'event', event: { type: 'delete', space: this.space, key } });
        else if (before === undefined || now.actor !== before.actor || now.counter !== before.counter)
          out.push({
            type: 'event',
            event: { type: 'put', space: this.space, key, kv: this.get(key) as EventualKeyValue },
          });
      },
    });
    return out;
  }

  /** False (counted) when joining would take the space past its key or actor bound. */
  #admits(keys: readonly string[], actors: ReadonlySet<Actor>): boolean {
    let newActors = 0;
    for (const a of actors) if (!this.#actors.has(a)) newActors++;
    let newKeys = 0;
    for (const k of keys) if (this.state.entries(k).length === 0) newKeys++;
    if (this.#actors.size + newActors > this.#maxActors || this.state.size + newKeys > this.#maxKeys) {
      this.counters.overLimitDropped++;
      return false;
    }
    for (const a of actors) this.#actors.add(a);
    return true;
  }

  #claimActor(): void {
    if (this.#actors.has(this.actor)) return;
    if (this.#actors.size >= this.#maxActors)
      throw new KvError(
        'ERR_KV_CONTEXT_FULL',
        `the eventual space ${this.space} has seen ${this.#maxActors} writers (node incarnations)`,
      );
    this.#actors.add(this.actor);
  }

  #seeStamps(entries: readonly OrswotEntry<Stamped>[]): void {
    for (const e of entries) if (e.value.stamp > this.#maxStamp) this.#maxStamp = Math.min(MAX_STAMP, e.value.stamp);
  }

  #queue(delta: KeyDelta<Stamped>): void {
    const prev = this.#outbox.get(delta.key);
    if (prev === undefined) {
      if (this.#outbox.size >= MAX_EVENTUAL_OUTBOX_KEYS) {
        this.counters.outboxDropped++;
        return;
      }
      this.#outbox.set(delta.key, delta);
      return;
    }
    const joined = joinKeyDeltas(prev, delta);
    if (joined.removed.length > MAX_REMOVED_DOTS_PER_KEY) {
      this.#outbox.delete(delta.key);
      this.counters.outboxDropped++;
      return;
    }
    this.#outbox.set(delta.key, joined);
  }

  #view(key: string, entries: readonly OrswotEntry<Stamped>[]): EventualKeyValue | null {
    const best = winningWrite(entries);
    if (best === undefined) return null;
    return { key, value: best.value.value, stamp: best.value.stamp, writer: best.actor, siblings: entries.length };
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || keyBytes(key) > MAX_EVENTUAL_KEY_BYTES)
    throw new KvError('ERR_KV_KEY_TOO_LARGE', `a key is 1..${MAX_EVENTUAL_KEY_BYTES} bytes of UTF-8`);
}

function actorsOfDeltas(deltas: readonly KeyDelta<Stamped>[]): Set<Actor> {
  const out = new Set<Actor>();
  for (const d of deltas) {
    for (const e of d.entries) out.add(e.actor);
    for (const r of d.removed) out.add(r.actor);
  }
  return out;
}

function actorsOfChunks(chunks: readonly DecodedChunk<Stamped>[]): Set<Actor> {
  const out = new Set<Actor>();
  for (const c of chunks) {
    for (const a of c.chunk.ctx.vv.keys()) out.add(a);
    for (const a of c.chunk.ctx.cloud?.keys() ?? []) out.add(a);
  }
  return out;
}
