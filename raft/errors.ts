// Typed errors of the raft engine. The engine never throws on bad input from the network or a
// refused request: it returns one of these (a host branches on `code`). It throws only for
// programming errors of the host (bad options, writes reported out of order).

import { TroupeError, type RaftErrorCode } from '../runtime/base.js';
import type { NodeId } from './types.js';

export type { RaftErrorCode };

export class RaftError extends TroupeError {
  declare readonly code: RaftErrorCode;
  /** For ERR_RAFT_NOT_LEADER: the leader this node knows of, so the host can forward. */
  readonly leader: NodeId | null;
  constructor(code: RaftErrorCode, message: string, leader: NodeId | null = null) {
    super(code, message);
    this.leader = leader;
    this.name = 'RaftError';
  }
}

export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}
