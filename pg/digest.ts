// Order-insensitive digests of memberships, for anti-entropy: the sum (mod 2^32, in two
// independent lanes) of one hash per membership (group, pid), kept up to date on every change.
// A node states its own local memberships in a few bytes, and a peer checks its view of them
// without a full sync. Not cryptographic: it catches lost updates, not an adversary (the wire is
// authenticated by internode).
import { FNV_OFFSET, FNV_OFFSET_ALT, fnvNumber, fnvString, mix32 } from '../crdt/index.js';
import type { Pid } from '../runtime/base.js';
import type { Group } from './types.js';

/** Node names whose hash is remembered (past it, hashes are recomputed: correct, slower). */
const MAX_CACHED_NODES = 4_096;
const nodeHashes = new Map<string, number>();

function pidHash(pid: Pid): number {
  let h = nodeHashes.get(pid.node);
  if (h === undefined) {
    h = fnvString(pid.node, FNV_OFFSET);
    if (nodeHashes.size < MAX_CACHED_NODES) nodeHashes.set(pid.node, h);
  }
  return fnvNumber(pid.incarnation, fnvNumber(pid.id, h));
}

export class MembershipDigest {
  h1 = 0;
  h2 = 0;
  /** Memberships counted (with multiplicity). */
  count = 0;

  /** Adds (sign 1) or removes (sign -1) one membership of `group` per pid listed. */
  change(group: Group, pids: readonly Pid[], sign: 1 | -1): void {
    if (pids.length === 0) return;
    const g1 = fnvString(group, FNV_OFFSET);
    const g2 = fnvString(group, FNV_OFFSET_ALT);
    let s1 = 0;
    let s2 = 0;
    for (const pid of pids) {
      const p = pidHash(pid);
      s1 = (s1 + mix32(g1 ^ p)) >>> 0;
      s2 = (s2 + mix32((g2 + Math.imul(p, 0x9e3779b1)) >>> 0)) >>> 0;
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
