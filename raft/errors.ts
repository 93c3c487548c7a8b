// Typed errors of the raft engine. The engine never throws on bad input from the network or a
// refused request: it returns one of these (a host branches on `code`). It throws only for
// programming errors of the host (bad options, writes reported out of order).

import type { NodeId } from './types.js';

export type RaftErrorCode =
  /** Proposals, config changes and transfers go to the leader; `leader` names it if known. */
  | 'ERR_RAFT_NOT_LEADER'
  /** No leader is known (read index on a follower, or a forwarded request). */
  | 'ERR_RAFT_NO_LEADER'
  /** Leader holds more uncommitted bytes than `maxUncommittedBytes`; retry later. */
  | 'ERR_RAFT_TOO_MUCH_UNCOMMITTED'
  /** A leadership transfer is in progress; proposals and changes wait for it. */
  | 'ERR_RAFT_TRANSFERRING'
  /** A configuration change is appended but not yet committed: one at a time. */
  | 'ERR_RAFT_CONFIG_PENDING'
  /** The leader has not yet committed an entry of its own term. */
  | 'ERR_RAFT_NOT_READY'
  /** The change makes no sense for the current membership. */
  | 'ERR_RAFT_BAD_CONFIG_CHANGE'
  /** A learner is promoted only once it has caught up with the commit index. */
  | 'ERR_RAFT_NOT_CAUGHT_UP'
  /** Too many reads wait for confirmation (`maxPendingReads`). */
  | 'ERR_RAFT_TOO_MANY_READS'
  /** A proposal batch breaks a limit (entries per batch, bytes per entry) or is empty. */
  | 'ERR_RAFT_BAD_PROPOSAL'
  /** The target of a transfer is not a voter, or is this node. */
  | 'ERR_RAFT_BAD_TRANSFER'
  /** A message that is malformed or addressed to someone else. */
  | 'ERR_RAFT_BAD_MESSAGE'
  /** A snapshot at or below the current one, or beyond what was applied. */
  | 'ERR_RAFT_BAD_SNAPSHOT'
  /** Limits or options that do not fit together. */
  | 'ERR_RAFT_BAD_OPTIONS'
  /** The host broke the protocol (persisted a write never issued, applied beyond handed out). */
  | 'ERR_RAFT_HOST_PROTOCOL'
  /** A committed entry would be overwritten: the host or the cluster broke an invariant. */
  | 'ERR_RAFT_INVARIANT';

export class RaftError extends Error {
  readonly code: RaftErrorCode;
  /** For ERR_RAFT_NOT_LEADER: the leader this node knows of, so the host can forward. */
  readonly leader: NodeId | null;
  constructor(code: RaftErrorCode, message: string, leader: NodeId | null = null) {
    super(message);
    this.code = code;
    this.leader = leader;
    this.name = 'RaftError';
  }
}

export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}
