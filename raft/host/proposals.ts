// The life of a proposal on the node that accepted it from a caller, and what each state means
// for its outcome when the wait ends early:
//   unrouted  (no leader known yet)         → a timeout or abort is a plain failure
//   queued    (waiting for this turn's batch) → plain failure
//   appended  (in the leader's log at index/term) → indeterminate until applied or overwritten
//   forwarded (sent to the leader)          → indeterminate until the leader answers
import { RaftError } from '../errors.js';
import { TroupeError } from '../../runtime/base.js';

export type ProposalState = 'unrouted' | 'queued' | 'appended' | 'forwarded' | 'done';

export interface Proposal {
  readonly command: Uint8Array;
  state: ProposalState;
  index: number;
  term: number;
  /** Forward id while forwarded; re-routes count in attempts. */
  forwardId: number;
  forwardedTo: string | null;
  attempts: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  /** Cancels the proposal's timer and abort listener. */
  cleanup: () => void;
}

/** The error a proposal ends with when its wait ends (timeout or abort) in its current state. */
export function earlyEndError(p: Proposal, why: 'timeout' | 'aborted', waitedMs: number): Error {
  const after = why === 'timeout' ? `after ${waitedMs} ms` : 'on abort';
  if (p.state === 'appended') {
    return new RaftError(
      'ERR_RAFT_INDETERMINATE',
      `outcome unknown ${after}: appended at index ${p.index} (term ${p.term}) but not yet applied`,
    );
  }
  if (p.state === 'forwarded') {
    return new RaftError(
      'ERR_RAFT_INDETERMINATE',
      `outcome unknown ${after}: forwarded to ${p.forwardedTo ?? '?'} without an answer`,
    );
  }
  if (why === 'aborted') return new TroupeError('ERR_ABORTED', 'the proposal was aborted before it was appended');
  return p.state === 'unrouted'
    ? new RaftError('ERR_RAFT_NO_LEADER', `no leader was known within ${waitedMs} ms; nothing was appended`)
    : new TroupeError('ERR_TIMEOUT', `the proposal was not appended within ${waitedMs} ms`);
}

/** Settles a proposal once; later settles are ignored. */
export function settleProposal(
  p: Proposal,
  outcome: { ok: true; result: unknown } | { ok: false; error: Error },
): void {
  if (p.state === 'done') return;
  p.state = 'done';
  p.cleanup();
  if (outcome.ok) p.resolve(outcome.result);
  else p.reject(outcome.error);
}
