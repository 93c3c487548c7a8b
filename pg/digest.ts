// Order-insensitive digests of memberships, for anti-entropy: the sum (mod 2^32, in two
// independent lanes) of one hash per membership (group, pid), kept up to date on every change.
// A node states its own local memberships in a few bytes, and a peer checks its view of them
// without a full sync. Not cryptographic: it catches lost updates, not an adversary (the wire is
// authenticated by internode).
import type { Pid } from '../runtime/base.js';
import type { Group } from './types.js';

/** Node names whose hash is remembered (past it, hashes are recomputed: correct, slower). */
const MAX_CACHED_NODES = 4_096;
const nodeHashes = new Map<string, number>();

// A small multiply-xorshift hash, local so the join path stays a few multiplications (this runs
// for every membership change, on both ends).
function textHash(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995) ^ (h >>> 13);
  return finish(h ^ text.length);
}

/** lowbias32: a full avalanche of 32 bits. */
function finish(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEED_1 = 0x3c6ef372;
const SEED_2 = 0xa54ff53a;

function pidHash(pid: Pid): number {
  let h = nodeHashes.get(pid.node);
  if (h === undefined) {
    h = textHash(pid.node, SEED_1);
    if (nodeHashes.size < MAX_CACHED_NODES) nodeHashes.set(pid.node, h);
  }
  // Ids and incarnations are safe integers: fold the high part in too.
  const id = pid.id;
  const inc = pid.incarnation;
  h = finish(h ^ Math.imul(id >>> 0, 0x9e3779b1) ^ ((id / 4294967296) >>> 0));
  return finish(h ^ Math.imul(inc >>> 0, 0x85ebca6b) ^ ((inc / 4294967296) >>> 0));
}

export class MembershipDigest {
  h1 = 0;
  h2 = 0;
  /** Memberships counted (with multiplicity). */
  count = 0;

  /** Adds (sign 1) or removes (sign -1) one membership of `group` per pid listed. */
  change(group: Group, pids: readonly Pid[], sign: 1 | -1): void {
    if (pids.length === 0) return;
    const g1 = textHash(group, SEED_1);
    const g2 = textHash(group, SEED_2);
    let s1 = 0;
    let s2 = 0;
    for (const pid of pids) {
      const p = pidHash(pid);
      s1 = (s1 + finish(g1 ^ p)) >>> 0;
      s2 = (s2 + finish((g2 + Math.imul(p, 0x9e3779b1)) >>> 0)) >>> 0;
    }
    this.h1 = (this.h1 + sign * s1) >>> 0;
    this.h2 = (this.h2 + sign * s2) >>> 0;
    this.count += sign * pids.length;
  }

  clear(): void {
    this.h1 = 0;
    this.h2 = 0;
    this.count = 0;
  }

  matches(count: number, h1: number, h2: number): boolean {
    return this.count === count && this.h1 === h1 && this.h2 === h2;
  }
}
