// Quorum arithmetic (etcd-io/raft keeps it apart in quorum/): what a majority of voters has,
// and how an election stands. A joint configuration (two voter sets during a joint change)
// needs a majority of each. Pure functions of the voters and what is known about each.
//
// By the convention etcd uses, an empty voter set agrees to everything: its index is Infinity
// and its vote is won, so a joint quorum whose second half is empty is just the first majority.
// The engine never asks about an empty set (only voters campaign or lead).

import type { NodeId } from './types.js';

/** How an election stands: a majority granted, a majority refused, or neither yet. */
export type VoteResult = 'won' | 'lost' | 'pending';

const scratch: number[] = [];

/** The largest index that a majority of the voters have reached (indexOf: what each has). */
export function majorityIndex(voters: readonly NodeId[], indexOf: (id: NodeId) => number): number {
  if (voters.length === 0) return Infinity;
  scratch.length = 0;
  for (const v of voters) scratch.push(indexOf(v));
  scratch.sort((a, b) => b - a);
  // Sorted high to low, the (n/2)-th entry is reached by n/2 + 1 voters: a majority.
  return scratch[voters.length >> 1] as number;
}

/** The election among voters, given each one's answer (undefined: not answered yet). */
export function majorityVote(voters: readonly NodeId[], voteOf: (id: NodeId) => boolean | undefined): VoteResult {
  if (voters.length === 0) return 'won';
  const quorum = (voters.length >> 1) + 1;
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = voteOf(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= quorum) return 'won';
  if (voters.length - rejected < quorum) return 'lost';
  return 'pending';
}

/** The largest index that a majority of each voter set has reached. */
export function jointIndex(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  indexOf: (id: NodeId) => number,
): number {
  return Math.min(majorityIndex(incoming, indexOf), majorityIndex(outgoing, indexOf));
}

/** A joint election is won when both majorities grant it, lost when either refuses it. */
export function jointVote(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  voteOf: (id: NodeId) => boolean | undefined,
): VoteResult {
  const a = majorityVote(incoming, voteOf);
  const b = majorityVote(outgoing, voteOf);
  if (a === 'lost' || b === 'lost') return 'lost';
  return a === 'won' && b === 'won' ? 'won' : 'pending';
}
