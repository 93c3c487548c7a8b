// Configuration changes and leadership transfer (etcd-io/raft keeps them apart in confchange/):
// whether a leader may change the membership now, what the next membership is, and the state of
// a transfer in flight with the events it reports. One server at a time: a change is refused
// until the previous one is committed and the leader has committed in its own term.

import { RaftError } from './errors.js';
import type { ConfigChange, Membership, NodeId, RaftEvent } from './types.js';

/** What a leader knows when asked to change the membership. */
export interface ChangeContext {
  readonly self: NodeId;
  /** The latest membership in the log (committed or not) and the index of its entry. */
  readonly membership: Membership;
  readonly membershipIndex: number;
  /** The leader's commit index, and whether the entry there is of the leader's term. */
  readonly commit: number;
  readonly committedInTerm: boolean;
  /** How far a peer's log matches the leader's (undefined: not tracked). */
  matchOf(id: NodeId): number | undefined;
}

/** The membership after `change`, or why the leader may not make it now. */
export function nextMembership(ctx: ChangeContext, change: ConfigChange): Membership | RaftError {
  if (!ctx.committedInTerm) {
    // The 2015 single-server bug: a change proposed before the new leader commits in its
    // own term can combine with an uncommitted change of a previous leader into two majorities.
    return new RaftError('ERR_RAFT_NOT_READY', 'leader has not committed an entry of its term yet', ctx.self);
  }
  if (ctx.membershipIndex > ctx.commit) {
    return new RaftError('ERR_RAFT_CONFIG_PENDING', 'a membership change is still uncommitted', ctx.self);
  }
  const cur = ctx.membership;
  const id = change?.id;
  if (typeof id !== 'string' || id.length === 0) {
    return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', 'change needs a node id');
  }
  const isVoter = cur.voters.includes(id);
  const isLearner = cur.learners.includes(id);
  switch (change.type) {
    case 'addVoter': {
      if (isVoter) return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', `${id} is already a voter`);
      if (isLearner && (ctx.matchOf(id) ?? -1) < ctx.commit) {
        return new RaftError('ERR_RAFT_NOT_CAUGHT_UP', `learner ${id} has not caught up with ${ctx.commit}`);
      }
      return { voters: [...cur.voters, id], learners: cur.learners.filter((l) => l !== id) };
    }
    case 'addLearner':
      if (isVoter || isLearner) return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', `${id} is already a member`);
      return { voters: cur.voters, learners: [...cur.learners, id] };
    case 'removeNode':
      if (isVoter) {
        if (cur.voters.length === 1) return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', 'cannot remove the last voter');
        return { voters: cur.voters.filter((v) => v !== id), learners: cur.learners };
      }
      if (isLearner) return { voters: cur.voters, learners: cur.learners.filter((l) => l !== id) };
      return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', `${id} is not a member`);
    default:
      return new RaftError('ERR_RAFT_BAD_CONFIG_CHANGE', 'unknown change');
  }
}

/** The voter (other than the leader) whose log matches furthest: the successor to hand over to. */
export function mostCaughtUpVoter(
  voters: readonly NodeId[],
  progress: Iterable<readonly [NodeId, { readonly match: number }]>,
): { readonly id: NodeId; readonly match: number } | null {
  let best: { id: NodeId; match: number } | null = null;
  for (const [id, pr] of progress) {
    if (voters.includes(id) && pr.match > (best?.match ?? -1)) best = { id, match: pr.match };
  }
  return best;
}

/** Why leadership cannot move from `self` to `to`, or null. */
export function transferProblem(self: NodeId, to: NodeId, membership: Membership): RaftError | null {
  if (to === self || !membership.voters.includes(to)) {
    return new RaftError('ERR_RAFT_BAD_TRANSFER', `${String(to)} is not another voter`);
  }
  return null;
}

/** A leadership transfer in flight: its target, how long it has run, the events it reports. */
export class LeaderTransfer {
  private to: NodeId | null = null;
  private elapsed = 0;

  /** Where leadership is moving, or null. */
  get target(): NodeId | null {
    return this.to;
  }

  /** Move leadership to `to` (a transfer elsewhere is aborted); false when already moving there. */
  start(to: NodeId, events: RaftEvent[]): boolean {
    if (this.to === to) return false;
    this.end('aborted', events);
    this.to = to;
    this.elapsed = 0;
    events.push({ type: 'transfer', to, outcome: 'started' });
    return true;
  }

  /** A leader tick: a transfer that cannot finish within `limit` ticks is abandoned. */
  tick(limit: number, events: RaftEvent[]): void {
    if (this.to !== null && ++this.elapsed >= limit) this.end('aborted', events);
  }

  /** The target campaigned (it is ahead of us in term): the transfer completed. */
  completedBy(from: NodeId, events: RaftEvent[]): void {
    if (this.to !== null && this.to === from) this.end('completed', events);
  }

  /** End the transfer in flight, if any, reporting how. */
  end(outcome: 'completed' | 'aborted', events: RaftEvent[]): void {
    if (this.to === null) return;
    events.push({ type: 'transfer', to: this.to, outcome });
    this.to = null;
  }

  /** Forget any transfer without reporting it (a new term of leadership). */
  reset(): void {
    this.to = null;
  }
}
