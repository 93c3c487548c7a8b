// Refusals a leader may send back for a forwarded proposal: each means "not appended", so the
// follower may route the proposal again (NOT_LEADER) or report it as a plain failure.
import type { RaftErrorCode } from '../../runtime/base.js';

export const FORWARD_REFUSALS = [
  'ERR_RAFT_NOT_LEADER',
  'ERR_RAFT_NO_LEADER',
  'ERR_RAFT_TOO_MUCH_UNCOMMITTED',
  'ERR_RAFT_TRANSFERRING',
  'ERR_RAFT_NOT_READY',
  'ERR_RAFT_BAD_PROPOSAL',
  'ERR_RAFT_OVERLOADED',
  'ERR_RAFT_NO_GROUP',
] as const satisfies readonly RaftErrorCode[];

/** Every code a forward result may carry: the refusals, and the two outcomes after an append. */
export const RAFT_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ...FORWARD_REFUSALS,
  'ERR_RAFT_INDETERMINATE',
  'ERR_RAFT_DROPPED',
]);
