// The conflict rule. Two processes may claim one name during a partition; every node must pick
// the same winner from the claims alone — never arrival order, wall clock, or a counter that
// differs between nodes. The order: lowest hash of (name, pid) wins, ties broken by node name,
// incarnation and id. Hashing the name in spreads wins evenly over nodes (no node always wins).
import { FNV_OFFSET, fnvNumber, fnvString, mix32 } from '../../crdt/index.js';
import type { Pid } from '../../runtime/base.js';

function rank(name: string, pid: Pid): number {
  return mix32(fnvNumber(pid.incarnation, fnvNumber(pid.id, fnvString(pid.node, fnvString(name, FNV_OFFSET)))));
}

/** Negative when `a`'s claim on `name` beats `b`'s, positive when it loses, 0 for the same pid. */
export function compareClaims(name: string, a: Pid, b: Pid): number {
  const ra = rank(name, a);
  const rb = rank(name, b);
  if (ra !== rb) return ra - rb;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (a.incarnation !== b.incarnation) return a.incarnation - b.incarnation;
  return a.id - b.id;
}

/** The winning claim among `claims` (undefined when there are none). */
export function winningClaim(name: string, claims: readonly Pid[]): Pid | undefined {
  let best: Pid | undefined;
  for (const c of claims) if (best === undefined || compareClaims(name, c, best) < 0) best = c;
  return best;
}
