// msgpack-encodable forms of deltas, state chunks and digests, and their validating decoders.
// Actors travel once per message in a table; a dot is then [actorIndex, counter], flattened into
// number arrays. Keys route to shards by hash, so a delta needs no shard number. Every decoder
// treats its input as untrusted and throws CrdtMalformedError on any shape or bound violation.
import { CausalContext } from './causal-context.js';
import type { Actor, Dot } from './dot.js';
import { internActor, isCounter, parseActor } from './dot.js';
import type { ElementOps } from './element.js';
import { CrdtMalformedError } from './errors.js';
import {
  MAX_ACTORS_PER_MESSAGE,
  MAX_CLOUD_DOTS_PER_MESSAGE,
  MAX_ENTRIES_PER_KEY,
  MAX_KEY_LENGTH,
  MAX_KEYS_PER_MESSAGE,
  SHARD_COUNT,
} from './limits.js';
import type { OrswotEntry, KeyDelta, StateChunk } from './orswot-map.js';
import type { Digests } from './sharded-map.js';
import { shardOf } from './sharded-map.js';

/** Flat dots: [actorIndex, counter, actorIndex, counter, ...]. */
export type WireDots = number[];
/** [key, values, dots of the values (one per value), removed dots]. */
export type WireKeyDelta = [key: string, values: unknown[], dots: WireDots, removed: WireDots];
/** [version vector as flat dots, cloud as flat dots]. */
export type WireContext = [vv: WireDots, cloud: WireDots];
/** [shard, from, to, context, entries digest lane 1, lane 2, keys (removed always empty)]. */
export type WireChunk = [
  shard: number,
  from: string | null,
  to: string | null,
  ctx: WireContext,
  d1: number,
  d2: number,
  keys: WireKeyDelta[],
];

/** Most removed dots one key delta may carry (flapping keys between two flushes). */
export const MAX_REMOVED_DOTS_PER_KEY = 1024;

/** Builds the per-message actor table while encoding. */
export class ActorTable {
  readonly list: Actor[] = [];
  private readonly index = new Map<Actor, number>();

  id(actor: Actor): number {
    let i = this.index.get(actor);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(actor);
      this.index.set(actor, i);
    }
    return i;
  }

  /** Upper bound of the table's msgpack size. */
  wireSize(): number {
    let n = 5;
    for (const a of this.list) n += a.length + 3;
    return n;
  }
}

function pushDot(out: WireDots, table: ActorTable, d: Dot): void {
  out.push(table.id(d.actor), d.counter);
}

export function encodeKeyDelta<E>(delta: KeyDelta<E>, table: ActorTable, ops: ElementOps<E>): WireKeyDelta {
  const values: unknown[] = [];
  const dots: WireDots = [];
  for (const e of delta.entries) {
    values.push(ops.toWire(e.value));
    pushDot(dots, table, e);
  }
  const removed: WireDots = [];
  for (const r of delta.removed) pushDot(removed, table, r);
  return [delta.key, values, dots, removed];
}

/** Upper bound of a key delta's msgpack size (actors counted by the table separately). */
export function keyDeltaWireSize<E>(delta: KeyDelta<E>, ops: ElementOps<E>): number {
  let n = 12 + delta.key.length * 3 + delta.removed.length * 12;
  for (const e of delta.entries) n += ops.wireSize(e.value) + 12;
  return n;
}

export function encodeContext(ctx: CausalContext, table: ActorTable): WireContext {
  const vv: WireDots = [];
  for (const [a, n] of ctx.vv) vv.push(table.id(a), n);
  const cloud: WireDots = [];
  if (ctx.cloud !== undefined) for (const [a, dots] of ctx.cloud) for (const c of dots) cloud.push(table.id(a), c);
  return [vv, cloud];
}

export function encodeChunk<E>(shard: number, chunk: StateChunk<E>, table: ActorTable, ops: ElementOps<E>): WireChunk {
  const keys: WireKeyDelta[] = [];
  for (const [key, entries] of chunk.keys) keys.push(encodeKeyDelta({ key, entries, removed: [] }, table, ops));
  return [
    shard,
    chunk.from,
    chunk.to,
    encodeContext(chunk.ctx, table),
    chunk.entriesDigest[0],
    chunk.entriesDigest[1],
    keys,
  ];
}

// ---- decoding (untrusted input) ----

function fail(detail: string): never {
  throw new CrdtMalformedError(detail);
}

export function decodeActors(value: unknown): Actor[] {
  if (!Array.isArray(value) || value.length > MAX_ACTORS_PER_MESSAGE) fail('actor table is not a bounded array');
  return value.map((a: unknown) => {
    if (typeof a !== 'string') fail('actor is not a string');
    parseActor(a);
    return internActor(a);
  });
}

function decodeKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH)
    fail(`key is not a 1..${MAX_KEY_LENGTH} char string`);
  return value;
}

function decodeDots(value: unknown, actors: readonly Actor[], maxDots: number): Dot[] {
  if (!Array.isArray(value) || value.length % 2 !== 0 || value.length > 2 * maxDots)
    fail('dots are not a bounded even-length array');
  const out: Dot[] = [];
  for (let i = 0; i < value.length; i += 2) {
    const idx: unknown = value[i];
    const counter: unknown = value[i + 1];
    if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx >= actors.length)
      fail('dot names an unknown actor');
    if (!isCounter(counter)) fail('dot counter is not a positive safe integer');
    out.push({ actor: actors[idx] as Actor, counter });
  }
  return out;
}

export function decodeKeyDelta<E>(value: unknown, actors: readonly Actor[], ops: ElementOps<E>): KeyDelta<E> {
  if (!Array.isArray(value) || value.length !== 4) fail('key delta is not a 4-tuple');
  const [rawKey, rawValues, rawDots, rawRemoved] = value as unknown[];
  const key = decodeKey(rawKey);
  if (!Array.isArray(rawValues) || rawValues.length > MAX_ENTRIES_PER_KEY) fail('values are not a bounded array');
  const dots = decodeDots(rawDots, actors, MAX_ENTRIES_PER_KEY);
  if (dots.length !== rawValues.length) fail('values and dots differ in length');
  const entries: OrswotEntry<E>[] = rawValues.map((v: unknown, i) => {
    const dot = dots[i] as Dot;
    return { value: ops.fromWire(v), actor: dot.actor, counter: dot.counter };
  });
  const removed = decodeDots(rawRemoved, actors, MAX_REMOVED_DOTS_PER_KEY);
  return { key, entries, removed };
}

export function decodeKeyDeltas<E>(value: unknown, actors: readonly Actor[], ops: ElementOps<E>): KeyDelta<E>[] {
  if (!Array.isArray(value) || value.length > MAX_KEYS_PER_MESSAGE) fail('key deltas are not a bounded array');
  return value.map((v: unknown) => decodeKeyDelta(v, actors, ops));
}

export function decodeContext(value: unknown, actors: readonly Actor[]): CausalContext {
  if (!Array.isArray(value) || value.length !== 2) fail('context is not a pair');
  const ctx = new CausalContext();
  for (const d of decodeDots(value[0], actors, MAX_ACTORS_PER_MESSAGE)) ctx.raiseContiguous(d.actor, d.counter);
  for (const d of decodeDots(value[1], actors, MAX_CLOUD_DOTS_PER_MESSAGE)) ctx.add(d.actor, d.counter);
  return ctx;
}

function isShard(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < SHARD_COUNT;
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export interface DecodedChunk<E> {
  readonly shard: number;
  readonly chunk: StateChunk<E>;
}

export function decodeChunk<E>(value: unknown, actors: readonly Actor[], ops: ElementOps<E>): DecodedChunk<E> {
  if (!Array.isArray(value) || value.length !== 7) fail('chunk is not a 7-tuple');
  const [shard, from, to, rawCtx, d1, d2, rawKeys] = value as unknown[];
  if (!isShard(shard)) fail('chunk shard out of range');
  if (from !== null && (typeof from !== 'string' || from.length > MAX_KEY_LENGTH))
    fail('chunk start is not a key or null');
  if (to !== null && (typeof to !== 'string' || to.length > MAX_KEY_LENGTH)) fail('chunk end is not a key or null');
  if (!isU32(d1) || !isU32(d2)) fail('chunk digest is not two u32');
  const ctx = decodeContext(rawCtx, actors);
  const keys = new Map<string, readonly OrswotEntry<E>[]>();
  for (const kd of decodeKeyDeltas(rawKeys, actors, ops)) {
    if (kd.removed.length > 0) fail('chunk key carries removed dots');
    if (keys.has(kd.key)) fail('chunk repeats a key');
    if (shardOf(kd.key) !== shard) fail('chunk key belongs to another shard');
    keys.set(kd.key, kd.entries);
  }
  return { shard, chunk: { from, to, ctx, keys, entriesDigest: [d1, d2] } };
}

export function decodeDigests(value: unknown): Digests {
  if (!Array.isArray(value) || value.length !== 2 * SHARD_COUNT || !value.every(isU32))
    fail(`digests are not ${2 * SHARD_COUNT} u32`);
  return value as number[];
}
