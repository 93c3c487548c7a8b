// Snapshot bytes of the consistent registry: msgpack (the runtime codec, pids as its extension)
// of a versioned tuple. Restore validates every field: the bytes may come from a peer.
import { decode, encode, isPid, TroupeError } from '../../runtime/base.js';
import type { NameBinding } from './types.js';

const FORMAT = 1;

export interface NamesState {
  readonly applied: number;
  readonly bindings: readonly NameBinding[];
  readonly incarnations: readonly (readonly [string, number])[];
}

export function snapshotNames(
  applied: number,
  bindings: Iterable<NameBinding>,
  incarnations: ReadonlyMap<string, number>,
): Uint8Array {
  const flat: unknown[] = [];
  for (const b of bindings) flat.push(b.name, b.pid, b.fence);
  return encode([FORMAT, applied, flat, [...incarnations]]);
}

const bad = (what: string): TroupeError => new TroupeError('ERR_NAMES_BAD_SNAPSHOT', `names snapshot: ${what}`);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

export function restoreNames(image: Uint8Array): NamesState {
  let raw: unknown;
  try {
    raw = decode(image);
  } catch {
    throw bad('not msgpack');
  }
  if (!Array.isArray(raw) || raw.length !== 4 || raw[0] !== FORMAT) throw bad(`not a format ${FORMAT} image`);
  const [, applied, flat, incarnations] = raw as unknown[];
  if (!isNat(applied)) throw bad('applied is an index');
  if (!Array.isArray(flat) || flat.length % 3 !== 0) throw bad('bindings are (name, pid, fence) triples');
  const bindings: NameBinding[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < flat.length; i += 3) {
    const [name, pid, fence] = [flat[i], flat[i + 1], flat[i + 2]];
    if (typeof name !== 'string' || name.length === 0 || seen.has(name)) throw bad('a binding has a unique name');
    if (!isPid(pid)) throw bad(`the binding of ${name} has a pid`);
    if (!isNat(fence) || fence < 1 || fence > applied) throw bad(`the binding of ${name} has a fence up to applied`);
    seen.add(name);
    bindings.push({ name, pid, fence });
  }
  if (!Array.isArray(incarnations)) throw bad('incarnations are (node, incarnation) pairs');
  const pairs: [string, number][] = [];
  for (const p of incarnations as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !isNat(p[1]))
      throw bad('incarnations are (node, incarnation) pairs');
    pairs.push([p[0], p[1]]);
  }
  return { applied, bindings, incarnations: pairs };
}
