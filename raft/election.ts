// Elections (etcd-io/raft: campaign, poll and the tracker's votes): the requests a campaign
// sends, whether a voter grants one, which answers a (pre-)candidate counts, and its tally.
// The engine changes term, vote and role on what these say.

import { majorityVote, type VoteResult } from './quorum.js';
import type { NodeId, VoteMessage, VoteResponse } from './types.js';

/** What a campaign asks every other voter (a pre-vote asks about the term after ours). */
export interface VoteRequest {
  readonly from: NodeId;
  readonly term: number;
  readonly pre: boolean;
  readonly transfer: boolean;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export function voteRequests(voters: readonly NodeId[], ask: VoteRequest): VoteMessage[] {
  const { from, term, pre, transfer, lastIndex, lastTerm } = ask;
  const out: VoteMessage[] = [];
  for (const to of voters) {
    if (to !== from) out.push({ type: 'vote', from, to, term, pre, transfer, lastIndex, lastTerm });
  }
  return out;
}

/**
 * Whether a voter at `term` grants `m`: it voted for m.from already, or has neither voted nor
 * heard a leader in this term, or m is a pre-vote for a later term; and the candidate's log is
 * at least as up to date as its own (`upToDate`, §5.4.1).
 */
export function grantsVote(
  m: VoteMessage,
  term: number,
  vote: NodeId | null,
  leader: NodeId | null,
  upToDate: boolean,
): boolean {
  const canVote = vote === m.from || (vote === null && leader === null) || (m.pre && m.term > term);
  return canVote && upToDate;
}

/** The answer to `m`; a grant echoes the asked term (for a pre-vote ours may be lower). */
export function voteAnswer(self: NodeId, m: VoteMessage, term: number, granted: boolean): VoteResponse {
  return { type: 'voteResp', from: self, to: m.from, term: granted ? m.term : term, pre: m.pre, granted };
}

/** Whether a (pre-)candidate at `term` counts `m`: an answer of its kind, from a voter, about what it asked. */
export function countsAnswer(m: VoteResponse, pre: boolean, term: number, voters: readonly NodeId[]): boolean {
  if (m.pre !== pre || !voters.includes(m.from)) return false;
  // A granted pre-vote echoes the term asked about; refusals carry the voter's (not lower) term.
  return pre ? !m.granted || m.term === term + 1 : m.term === term;
}

/** The answers to one (pre-)election, our own vote included once it counts. */
export class VoteTally {
  private readonly votes = new Map<NodeId, boolean>();
  /** Write that must be durable before our own vote counts (0: none). */
  private selfTag = 0;

  /** A new election: our own vote counts now (selfTag 0) or once write `selfTag` is durable. */
  start(self: NodeId, selfTag: number): void {
    this.votes.clear();
    this.selfTag = selfTag;
    if (selfTag === 0) this.votes.set(self, true);
  }

  clear(): void {
    this.votes.clear();
    this.selfTag = 0;
  }

  /** Only a voter's first answer counts. */
  record(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
  }

  /** Writes up to `writeId` are durable; true when our own vote waited for them and now counts. */
  persisted(self: NodeId, writeId: number): boolean {
    if (this.selfTag === 0 || this.selfTag > writeId) return false;
    this.selfTag = 0;
    this.votes.set(self, true);
    return true;
  }

  /**
   * How the election stands. Not won while our own vote waits to be durable, even if others
   * form a quorum: a crash could bring us back in the same term, let us win it again and
   * append different entries at indexes already sent out.
   */
  result(voters: readonly NodeId[]): VoteResult {
    const result = majorityVote(voters, (v) => this.votes.get(v));
    return result === 'won' && this.selfTag !== 0 ? 'pending' : result;
  }
}
