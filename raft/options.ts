// What a host passes to the engine and gets back from it: options, the result of a step, counters.

import type { RaftError } from './errors.js';
import type { RaftLimits } from './limits.js';
import type { InitialState, Membership, NodeId } from './types.js';

/** The only randomness the engine needs: an integer in [0, n). */
export interface RandomSource {
  int(n: number): number;
}

/**
 * DELIBERATELY BROKEN behaviours, for tests that prove the simulation can catch them.
 * Never enable these outside tests.
 */
export interface UnsafeTestOnlyBreakage {
  /** Grant votes without the §5.4.1 "candidate's log is at least as up to date" check. */
  readonly voteWithoutLogCheck?: boolean;
  /** Commit any index replicated on a majority, even of an older term (the Figure 8 bug). */
  readonly commitByCountingOldTerms?: boolean;
  /** Acknowledge appends, grant votes and count itself before writes are durable. */
  readonly ackBeforeDurable?: boolean;
}

export interface RaftOptions {
  readonly id: NodeId;
  /** Seeded source for election jitter. */
  readonly random: RandomSource;
  readonly limits?: Partial<RaftLimits>;
  /** Pre-vote phase before real elections (default true). */
  readonly preVote?: boolean;
  /** Leader steps down without a live quorum; followers ignore votes while they hear a leader (default true). */
  readonly checkQuorum?: boolean;
  /**
   * 'safe' (default): every read is confirmed by a quorum answering a heartbeat round sent after
   * the read arrived.
   * 'lease': the leader answers at once while a quorum answered a heartbeat round sent less than
   * electionTicks/2 of its own ticks ago (else it falls back to 'safe'). Those voters refuse to
   * vote for anyone else for electionTicks of their own ticks, so this is linearizable ONLY IF
   * no node's tick rate is more than twice the leader's (bounded clock drift) and ticks reflect
   * real time (a paused process must not resume acting on an old lease). Requires checkQuorum.
   */
  readonly readMode?: 'safe' | 'lease';
  /** Durable state read back from storage on restart. */
  readonly initial?: InitialState;
  /** Membership of a brand-new group (same on every founding node); ignored when storage has one. */
  readonly bootstrap?: Membership;
  readonly unsafeTestOnly?: UnsafeTestOnlyBreakage;
}

export type StepResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly error: RaftError };

export interface RaftCounters {
  /** Messages refused as malformed or misaddressed. */
  badMessages: number;
  /** Held responses dropped because maxHeldMessages was reached. */
  heldDropped: number;
  /** Forwarded reads dropped (no leader, or this node is not the leader any more). */
  readsDropped: number;
  /** Proposals refused for any reason. */
  proposalsRefused: number;
}
