// What a message is, checked in one bounded walk. A message is null, undefined, a boolean, a number
// (-0, NaN and the infinities included), a well-formed string, a BigInt of any size, a Date, a
// Uint8Array (a Buffer), an array without holes, a plain object (prototype Object.prototype or
// null; string keys only, no `__proto__` key), a Map, a Set, an Error, or a Pid — nested to at most
// MAX_MESSAGE_DEPTH, at most MAX_MESSAGE_BYTES in all. Anything else (a function, a symbol, a cycle,
// an instance of another class, …) is an UnserializableError (ERR_UNSERIALIZABLE) whose `path`
// names the offending value, e.g. `msg.items[3].cb`. Node sends (local and remote alike) and the
// codec's `encode` run this walk; the codec also asks it for the wire form (wrappers below for the
// values msgpack has no lossless form of), which it builds only when a message holds one of them.
import { TroupeError } from './errors.js';
import { MAX_MESSAGE_BYTES, MAX_MESSAGE_DEPTH, MESSAGE_ENVELOPE_BYTES } from './limits.js';
import { Pid } from './pid.js';

/** Why a value is not a message. */
export type UnserializableKind =
  | 'function'
  | 'symbol'
  | 'cycle'
  | 'class' // an instance of a class outside the contract (a Map subclass, a RegExp, a Promise, …)
  | 'depth' // nested deeper than MAX_MESSAGE_DEPTH
  | 'hole' // a hole in a sparse array (msgpack would turn it into undefined)
  | 'key' // a symbol-keyed property, a `__proto__` key, or a key with a lone surrogate
  | 'string'; // a string with a lone surrogate (UTF-8 cannot carry it)

/** A value that is not a message: `path` names it from the root (`msg` for a send). */
export class UnserializableError extends TroupeError {
  readonly path: string;
  readonly kind: UnserializableKind;
  constructor(path: string, kind: UnserializableKind, what: string) {
    super('ERR_UNSERIALIZABLE', `${path} is not a message value: ${what}`);
    this.name = 'UnserializableError';
    this.path = path;
    this.kind = kind;
  }
}

// ---------------------------------------------------------------- wire wrappers (codec only)

/** -0 (msgpack would write it as the integer 0). */
export class WireNegativeZero {}
/** A BigInt, any size (msgpack would write it as an int64, read back as a number). */
export class WireBigInt {
  constructor(readonly value: bigint) {}
}
/** A Map as [k0, v0, k1, v1, …] (msgpack would write it as a map, read back as an object). */
export class WireMap {
  constructor(readonly flat: unknown[]) {}
}
/** A Set as its values (msgpack would write it as an array). */
export class WireSet {
  constructor(readonly values: unknown[]) {}
}
/** An Error's name, message, stack, cause and own enumerable fields (msgpack would keep name and message only). */
export class WireError {
  constructor(
    readonly name: string,
    readonly message: string,
    readonly stack: string | undefined,
    readonly cause: { readonly value: unknown } | undefined,
    readonly fields: Record<string, unknown>,
  ) {}
}
const NEGATIVE_ZERO = new WireNegativeZero();

// ---------------------------------------------------------------- the walk

interface Bad {
  readonly kind: UnserializableKind;
  readonly what: string;
  /** Path segments from the offending value up to the root (reversed when reported). */
  readonly segments: string[];
}

interface Walk {
  /** Build the wire form (codec: no size bound) or only check (sends: MAX_MESSAGE_BYTES). */
  readonly wire: boolean;
  /**
   * Also look at keys: symbol-keyed properties, and lone surrogates in keys. These checks cost more
   * than the rest of a small message's walk (an array per object, a call per key), so a send to a
   * local target skips them: the target gets the value itself. The codec and sends to remote
   * targets make them (a remote send refuses such a message at the sender).
   */
  readonly keys: boolean;
  /** A lower bound of the encoded size so far. */
  bytes: number;
  bad: Bad | null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const prop = (key: string): string => (IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function fail(w: Walk, kind: UnserializableKind, what: string): undefined {
  w.bad = { kind, what, segments: [] };
  return undefined;
}

/** Pushes a segment on the way out of a failed walk; returns undefined for the caller to return. */
function up(w: Walk, segment: string): undefined {
  w.bad!.segments.push(segment);
  return undefined;
}

/** Fails at a child of the current value (named by `segment`) that the walk does not descend into. */
function failAt(w: Walk, segment: string, kind: UnserializableKind, what: string): undefined {
  fail(w, kind, what);
  return up(w, segment);
}

/** ERR_LIMIT for a message whose encoding (`bytes`, or at least that many) leaves no room for its envelope. */
export function messageTooLarge(bytes: number, exact: boolean): TroupeError {
  return new TroupeError(
    'ERR_LIMIT',
    `message of ${exact ? '' : 'at least '}${bytes} bytes encoded does not fit MAX_MESSAGE_BYTES ` +
      `(${MAX_MESSAGE_BYTES}) with its envelope (MESSAGE_ENVELOPE_BYTES, ${MESSAGE_ENVELOPE_BYTES})`,
  );
}
const MAX_OWN_BYTES = MAX_MESSAGE_BYTES - MESSAGE_ENVELOPE_BYTES;

// Returns the value (or its wire form when w.wire), or undefined with w.bad set. The walk does not
// track the values on its path: a cycle shows as a walk deeper than MAX_MESSAGE_DEPTH, and only then
// does findCycle look for it, so the common case pays nothing for cycle detection.
function walk(v: unknown, depth: number, w: Walk): unknown {
  if (typeof v === 'object') {
    if (v === null) {
      w.bytes += 1;
      return v;
    }
    return walkComposite(v, depth, w);
  }
  if (typeof v === 'string') {
    w.bytes += v.length + 1; // UTF-8 takes at least one byte per UTF-16 code unit
    return isWellFormed(v) ? v : fail(w, 'string', 'a string with a lone surrogate');
  }
  if (typeof v === 'number') {
    w.bytes += 1;
    return v === 0 && w.wire && 1 / v < 0 ? NEGATIVE_ZERO : v;
  }
  return walkScalar(v, w);
}

function walkScalar(v: unknown, w: Walk): unknown {
  switch (typeof v) {
    case 'boolean':
    case 'undefined':
      w.bytes += 1;
      return v;
    case 'bigint':
      if (w.wire) return new WireBigInt(v);
      w.bytes += 3 + (v > 0xffffffffn || v < -0xffffffffn ? v.toString(16).length : 0);
      return v;
    case 'function':
      return fail(w, 'function', `a function${v.name === '' ? '' : ` (${v.name})`}`);
    default:
      return fail(w, 'symbol', 'a symbol');
  }
}

function walkComposite(o: object, depth: number, w: Walk): unknown {
  if (depth >= MAX_MESSAGE_DEPTH)
    return fail(w, 'depth', `nested deeper than MAX_MESSAGE_DEPTH (${MAX_MESSAGE_DEPTH})`);
  if (w.bytes > MAX_OWN_BYTES && !w.wire) throw messageTooLarge(w.bytes, false);
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) return walkObject(o as Record<string, unknown>, depth, w);
  if (proto === Array.prototype) return walkArray(o as unknown[], depth, w);
  if (o instanceof Pid) {
    // A subclass too: the extension writes the pid's fields (it decodes as a Pid).
    w.bytes += 8 + o.node.length;
    return o;
  }
  if (proto === Uint8Array.prototype || proto === Buffer.prototype) {
    w.bytes += (o as Uint8Array).byteLength + 1;
    return o;
  }
  if (proto === Date.prototype) {
    w.bytes += 6;
    return o;
  }
  if (proto === Map.prototype) return walkMap(o as Map<unknown, unknown>, depth, w);
  if (proto === Set.prototype) return walkSet(o as Set<unknown>, depth, w);
  if (o instanceof Error) return walkError(o, depth, w);
  const ctor = (o as { constructor?: { name?: unknown } }).constructor?.name;
  return fail(w, 'class', `an instance of ${typeof ctor === 'string' && ctor !== '' ? ctor : 'a class'}`);
}

function walkObject(o: Record<string, unknown>, depth: number, w: Walk): unknown {
  w.bytes += 1;
  let out: Record<string, unknown> | undefined;
  for (const key in o) {
    if (key === '__proto__') return failAt(w, prop(key), 'key', 'a __proto__ key');
    if (w.keys && !isWellFormed(key)) return failAt(w, prop(key), 'key', 'a key with a lone surrogate');
    w.bytes += key.length + 1;
    const value = o[key];
    // The common cases, without a call.
    if (typeof value === 'number' && (value !== 0 || !w.wire)) {
      w.bytes += 1;
      continue;
    }
    if (typeof value === 'string') {
      w.bytes += value.length + 1;
      if (!isWellFormed(value)) return failAt(w, prop(key), 'string', 'a string with a lone surrogate');
      continue;
    }
    const x = walk(value, depth + 1, w);
    if (w.bad !== null) return up(w, prop(key));
    if (x !== value) (out ??= { ...o })[key] = x;
  }
  if (w.keys && Object.getOwnPropertySymbols(o).length > 0) return fail(w, 'key', 'a symbol-keyed property');
  return out ?? o;
}

function walkArray(a: unknown[], depth: number, w: Walk): unknown {
  w.bytes += 1;
  let out: unknown[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const value = a[i];
    // The common cases, without a call.
    if (typeof value === 'number' && (value !== 0 || !w.wire)) {
      w.bytes += 1;
      continue;
    }
    if (typeof value === 'string') {
      w.bytes += value.length + 1;
      if (!isWellFormed(value)) return failAt(w, `[${i}]`, 'string', 'a string with a lone surrogate');
      continue;
    }
    if (value === undefined && !(i in a)) return failAt(w, `[${i}]`, 'hole', 'a hole in a sparse array');
    const x = walk(value, depth + 1, w);
    if (w.bad !== null) return up(w, `[${i}]`);
    if (x !== value) (out ??= a.slice())[i] = x;
  }
  return out ?? a;
}

function mapKeySegment(key: unknown, i: number): string {
  if (typeof key === 'string') return `.get(${JSON.stringify(key)})`;
  if (typeof key === 'number' || typeof key === 'boolean' || key === null) return `.get(${String(key)})`;
  return `.entries()[${i}][1]`;
}

function walkMap(m: Map<unknown, unknown>, depth: number, w: Walk): unknown {
  w.bytes += 4;
  const flat: unknown[] | undefined = w.wire ? [] : undefined;
  let i = 0;
  for (const [key, value] of m) {
    const k = walk(key, depth + 1, w);
    if (w.bad !== null) return up(w, `.entries()[${i}][0]`);
    const x = walk(value, depth + 1, w);
    if (w.bad !== null) return up(w, mapKeySegment(key, i));
    flat?.push(k, x);
    i++;
  }
  return flat === undefined ? m : new WireMap(flat);
}

function walkSet(s: Set<unknown>, depth: number, w: Walk): unknown {
  w.bytes += 4;
  const values: unknown[] | undefined = w.wire ? [] : undefined;
  let i = 0;
  for (const value of s) {
    const x = walk(value, depth + 1, w);
    if (w.bad !== null) return up(w, `.values()[${i}]`);
    values?.push(x);
    i++;
  }
  return values === undefined ? s : new WireSet(values);
}

function walkError(e: Error, depth: number, w: Walk): unknown {
  w.bytes += 4;
  const name: unknown = e.name;
  const message: unknown = e.message;
  const stack: unknown = e.stack;
  if (typeof name !== 'string') return failAt(w, '.name', 'class', 'an error name that is not a string');
  if (typeof message !== 'string') return failAt(w, '.message', 'class', 'an error message that is not a string');
  for (const s of [name, message, typeof stack === 'string' ? stack : '']) {
    w.bytes += s.length + 1;
    if (!isWellFormed(s)) return fail(w, 'string', 'an error with a lone surrogate in its name, message or stack');
  }
  let cause: { value: unknown } | undefined;
  if (Object.hasOwn(e, 'cause')) {
    const x = walk(e.cause, depth + 1, w);
    if (w.bad !== null) return up(w, '.cause');
    cause = { value: x };
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    if (key === '__proto__') return failAt(w, prop(key), 'key', 'a __proto__ key');
    if (!isWellFormed(key)) return failAt(w, prop(key), 'key', 'a key with a lone surrogate');
    w.bytes += key.length + 1;
    const x = walk((e as unknown as Record<string, unknown>)[key], depth + 1, w);
    if (w.bad !== null) return up(w, prop(key));
    fields[key] = x;
  }
  if (Object.getOwnPropertySymbols(e).length > 0) return fail(w, 'key', 'a symbol-keyed property');
  return w.wire ? new WireError(name, message, typeof stack === 'string' ? stack : undefined, cause, fields) : e;
}

// A walk that ran past MAX_MESSAGE_DEPTH: is there a cycle? Tracks the values on the path (the
// slow way, only on this error path) and returns the path to the first reference back to one.
function findCycle(v: unknown, ancestors: object[], segments: string[]): string[] | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (ancestors.includes(v)) return segments;
  if (ancestors.length > MAX_MESSAGE_DEPTH) return undefined;
  ancestors.push(v);
  try {
    const children: Array<[string, unknown]> = [];
    if (Array.isArray(v)) v.forEach((x, i) => children.push([`[${i}]`, x]));
    else if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        children.push([`.entries()[${i}][0]`, k], [mapKeySegment(k, i), x]);
        i++;
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const x of v) children.push([`.values()[${i++}]`, x]);
    } else {
      if (v instanceof Error && Object.hasOwn(v, 'cause')) children.push(['.cause', v.cause]);
      for (const key of Object.keys(v)) children.push([prop(key), (v as Record<string, unknown>)[key]]);
    }
    for (const [segment, x] of children) {
      const found = findCycle(x, ancestors, [...segments, segment]);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

function run(value: unknown, root: string, w: Walk): unknown {
  const out = walk(value, 0, w);
  if (w.bad !== null) {
    if (w.bad.kind === 'depth') {
      const cycle = findCycle(value, [], []);
      if (cycle !== undefined)
        throw new UnserializableError(
          root + cycle.join(''),
          'cycle',
          'a cycle (a reference back to a value that contains it)',
        );
    }
    throw new UnserializableError(root + w.bad.segments.reverse().join(''), w.bad.kind, w.bad.what);
  }
  if (w.bytes > MAX_OWN_BYTES && !w.wire) throw messageTooLarge(w.bytes, false);
  return out;
}

/**
 * @internal The check of a send (codec.validateMessage adds the exact size check for large ones):
 * an UnserializableError (path rooted at `root`) when `value` is not a message, ERR_LIMIT when a
 * lower bound of its encoded size leaves no room for its envelope. Returns that lower bound.
 * `keys`: look at keys too (symbol keys, lone surrogates in keys: see Walk).
 */
export function checkMessage(value: unknown, root: string, keys: boolean): number {
  const w: Walk = { wire: false, keys, bytes: 0, bad: null };
  run(value, root, w);
  return w.bytes;
}

/** @internal The codec's form of `value`: validated (no size bound), wrapped where msgpack has no lossless form. */
export function toWire(value: unknown, root: string): unknown {
  return run(value, root, { wire: true, keys: true, bytes: 0, bad: null });
}
