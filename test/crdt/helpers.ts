// Shared helpers for CRDT tests: a string element type and a canonical form of a state, so two
// replicas are compared entry by entry (not only by digest).
import type { CausalContext, ElementOps, OrswotMap, ShardedOrswotMap } from '../../crdt/index.js';
import { CrdtMalformedError, fnvString } from '../../crdt/index.js';

export const stringOps: ElementOps<string> = {
  equals: (a, b) => a === b,
  hash: (v, seed) => fnvString(v, seed),
  wireSize: (v) => 5 + v.length * 3,
  fromWire: (v) => {
    if (typeof v !== 'string') throw new CrdtMalformedError('value is not a string');
    return v;
  },
  toWire: (v) => v,
};

export function canonicalContext(ctx: CausalContext): string {
  const vv = [...ctx.vv].map(([a, n]) => `${a}:${n}`).sort();
  const cloud: string[] = [];
  if (ctx.cloud !== undefined) for (const [a, dots] of ctx.cloud) for (const c of dots) cloud.push(`${a}:${c}`);
  cloud.sort();
  return `vv{${vv.join(',')}} cloud{${cloud.join(',')}}`;
}

export function canonicalMap(map: OrswotMap<string>): string {
  const lines: string[] = [];
  for (const key of map.keys())
    for (const e of map.entries(key)) lines.push(`${key}=${e.value}@${e.actor}:${e.counter}`);
  lines.sort();
  return `${lines.join(' ')} | ${canonicalContext(map.ctx)}`;
}

export function canonicalSharded(map: ShardedOrswotMap<string>): string {
  return map.shards.map((s, i) => `#${i} ${canonicalMap(s)}`).join('\n');
}

/** The visible content only: key -> sorted values. */
export function visible(map: OrswotMap<string>): string {
  const out: string[] = [];
  for (const key of map.keys()) out.push(`${key}=[${map.values(key).sort().join(',')}]`);
  return out.sort().join(' ');
}
