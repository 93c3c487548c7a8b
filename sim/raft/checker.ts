// The invariants of Raft (Figure 3 of the paper), checked continuously while a simulation
// runs. A violation throws a SimViolation that ends the run with a replayable seed.

import type { Entry, RaftEngine, ReadId } from '../../raft/index.js';

export type ViolationKind =
  | 'electionSafety'
  | 'logMatching'
  | 'leaderCompleteness'
  | 'stateMachineSafety'
  | 'committedEntryChanged'
  | 'staleRead'
  | 'applyOrder'
  | 'liveness'
  | 'engineError';

export class SimViolation extends Error {
  constructor(
    readonly kind: ViolationKind,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'SimViolation';
  }
}

/** FNV-1a over an entry's term, kind and payload, chained onto `h`. */
export function mixEntry(h: number, e: Entry): number {
  let x = (h ^ e.term) >>> 0;
  x = Math.imul(x, 16777619) >>> 0;
  x = Math.imul(x ^ (e.kind === 'normal' ? 1 : e.kind === 'noop' ? 2 : 3), 16777619) >>> 0;
  if (e.kind === 'normal') {
    for (let i = 0; i < e.data.length; i++) x = Math.imul(x ^ (e.data[i] as number), 16777619) >>> 0;
  } else if (e.kind === 'config') {
    const s = `${e.membership.voters.join(',')}|${e.membership.learners.join(',')}`;
    for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619) >>> 0;
  }
  return x;
}

export function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.term === b.term && a.index === b.index && mixEntry(0, a) === mixEntry(0, b);
}

export class RaftChecker {
  /** term -> the one node that led it. */
  private readonly leaders = new Map<number, string>();
  /** index -> term of the committed entry at that index. */
  private readonly committedTerms: number[] = [];
  committedMax = 0;
  /** index -> state machine hash after applying it (the first node to apply it decides). */
  private readonly appliedHashes: number[] = [];
  private readonly lastCheckedCommit = new Map<string, number>();
  private readonly readFloor = new Map<ReadId, number>();
  elections = 0;
  readsServed = 0;

  onLeader(node: string, term: number, engine: RaftEngine): void {
    this.elections++;
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node) {
      throw new SimViolation('electionSafety', `term ${term} has two leaders: ${prev} and ${node}`);
    }
    this.leaders.set(term, node);
    // Leader completeness: every entry committed so far is in the new leader's log.
    if (engine.lastIndex < this.committedMax) {
      throw new SimViolation(
        'leaderCompleteness',
        `leader ${node}@${term} log ends at ${engine.lastIndex}, committed ${this.committedMax}`,
      );
    }
    for (let i = Math.max(1, engine.firstIndex); i <= this.committedMax; i++) {
      const want = this.committedTerms[i];
      if (want !== undefined && engine.termAt(i) !== want) {
        throw new SimViolation(
          'leaderCompleteness',
          `leader ${node}@${term} has term ${engine.termAt(i)} at committed index ${i} (term ${want})`,
        );
      }
    }
  }

  /** A node advanced its commit index: its entries up to there are committed for good. */
  /** Times a leader advanced its commit index onto an entry of an older term (diagnostic). */
  leaderOldTermCommits = 0;

  onCommit(node: string, engine: RaftEngine, index: number): void {
    if (engine.currentRole === 'leader' && engine.termAt(index) !== engine.currentTerm) this.leaderOldTermCommits++;
    const from = Math.max((this.lastCheckedCommit.get(node) ?? 0) + 1, engine.firstIndex);
    for (let i = from; i <= index; i++) {
      const t = engine.termAt(i);
      if (t < 0) continue;
      const known = this.committedTerms[i];
      if (known === undefined) this.committedTerms[i] = t;
      else if (known !== t) {
        throw new SimViolation(
          'committedEntryChanged',
          `${node} committed term ${t} at ${i}, earlier commit had term ${known}`,
        );
      }
    }
    if (index > (this.lastCheckedCommit.get(node) ?? 0)) this.lastCheckedCommit.set(node, index);
    if (index > this.committedMax) this.committedMax = index;
  }

  onRestart(node: string): void {
    this.lastCheckedCommit.delete(node);
  }

  onApply(node: string, index: number, hash: number): void {
    const known = this.appliedHashes[index];
    if (known === undefined) this.appliedHashes[index] = hash;
    else if (known !== hash) {
      throw new SimViolation('stateMachineSafety', `${node} applied a different entry (or history) at index ${index}`);
    }
  }

  onRead(readId: ReadId, minIndex: number): void {
    this.readFloor.set(readId, minIndex);
  }

  /** A read was confirmed at `index`: it must cover everything committed when it was asked. */
  onReadState(node: string, readId: ReadId, index: number): void {
    const floor = this.readFloor.get(readId);
    if (floor === undefined) return;
    this.readFloor.delete(readId);
    this.readsServed++;
    if (index < floor) {
      throw new SimViolation(
        'staleRead',
        `${node} read ${String(readId)} at ${index}, but ${floor} was committed when it was asked`,
      );
    }
  }

  /** Log Matching across every pair of live engines. */
  checkLogMatching(engines: ReadonlyArray<readonly [string, RaftEngine]>): void {
    for (let x = 0; x < engines.length; x++) {
      for (let y = x + 1; y < engines.length; y++) {
        const [an, a] = engines[x] as readonly [string, RaftEngine];
        const [bn, b] = engines[y] as readonly [string, RaftEngine];
        const lo = Math.max(a.firstIndex, b.firstIndex);
        let i = Math.min(a.lastIndex, b.lastIndex);
        while (i >= lo && a.termAt(i) !== b.termAt(i)) i--;
        for (; i >= lo; i--) {
          if (!sameEntry(a.entryAt(i), b.entryAt(i))) {
            throw new SimViolation('logMatching', `${an} and ${bn} agree on a later entry but differ at ${i}`);
          }
        }
      }
    }
  }
}
