// What an eventual space stores under a key: a value and its write stamp, as a CRDT element. A
// stamp is hybrid time: the writer's wall clock in ms, pushed above every stamp its replica has
// seen (so a write made after seeing another one always stamps higher). Equality, hashing and
// wire forms here let crdt/ hold these in its ORSWOT map.
import { CrdtMalformedError, fnvNumber, fnvString, type ElementOps } from '../../crdt/index.js';
import type { KvValue } from '../types.js';
import { MAX_EVENTUAL_VALUE_BYTES } from './limits.js';

export interface Stamped {
  readonly value: KvValue;
  readonly stamp: number;
}

const utf8 = new TextEncoder();

/** A value's size in bytes (UTF-8 for a string). */
export function valueBytes(value: KvValue): number {
  return typeof value === 'string' ? utf8.encode(value).length : value.length;
}

function sameValue(a: KvValue, b: KvValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hashValue(value: KvValue, seed: number): number {
  if (typeof value === 'string') return fnvString(value, seed);
  // Bytes hash apart from a string of the same code units (a marker folded into the seed).
  let h = fnvNumber(value.length, seed ^ 0x3c);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ (value[i] as number), 0x01000193) >>> 0;
  return h;
}

export const stampedElement: ElementOps<Stamped> = {
  equals: (a, b) => a.stamp === b.stamp && sameValue(a.value, b.value),
  hash: (s, seed) => fnvNumber(s.stamp, hashValue(s.value, seed)),
  wireSize: (s) => 16 + (typeof s.value === 'string' ? s.value.length * 3 : s.value.length),
  toWire: (s) => [s.value, s.stamp],
  fromWire(raw: unknown): Stamped {
    if (!Array.isArray(raw) || raw.length !== 2) throw new CrdtMalformedError('a stamped value is a pair');
    const [value, stamp] = raw as unknown[];
    if (typeof value !== 'string' && !(value instanceof Uint8Array))
      throw new CrdtMalformedError('a value is a string or bytes');
    if (typeof stamp !== 'number' || !Number.isSafeInteger(stamp) || stamp < 0)
      throw new CrdtMalformedError('a stamp is a non-negative safe integer');
    if (valueBytes(value) > MAX_EVENTUAL_VALUE_BYTES)
      throw new CrdtMalformedError(`a value is at most ${MAX_EVENTUAL_VALUE_BYTES} bytes`);
    // Bytes are copied: a decoded view would keep the whole message's buffer alive.
    const v = typeof value === 'string' ? value : new Uint8Array(value);
    return { value: v, stamp };
  },
};
