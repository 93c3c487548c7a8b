// Every bound of the engine, as named defaults, validated together at construction.

import { RaftError } from './errors.js';

export interface RaftLimits {
  /** Ticks without a leader before a follower campaigns (randomized in [n, 2n)). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be well below electionTicks. */
  readonly heartbeatTicks: number;
  /** Most entries in one append message. */
  readonly maxAppendEntries: number;
  /** Most entry bytes in one append message (at least one entry is always sent). */
  readonly maxAppendBytes: number;
  /** Most unacknowledged append messages per follower in replicate state. */
  readonly maxInflightMessages: number;
  /** Most unacknowledged entry bytes per follower in replicate state. */
  readonly maxInflightBytes: number;
  /** Most bytes of entries a leader holds uncommitted; beyond it, proposals are refused. */
  readonly maxUncommittedBytes: number;
  /** Most commands in one proposal batch. */
  readonly maxProposalEntries: number;
  /** Most bytes in one command. */
  readonly maxEntryBytes: number;
  /** Most reads waiting for leadership confirmation or for an own-term commit. */
  readonly maxPendingReads: number;
  /** Entries kept in memory below a snapshot so slightly lagging followers avoid a snapshot. */
  readonly compactionTrailingEntries: number;
  /** Most responses held back until a write is durable (drops beyond it are counted). */
  readonly maxHeldMessages: number;
  /** Most committed entries handed to the host in one Ready. */
  readonly maxApplyEntries: number;
}

export const DEFAULT_RAFT_LIMITS: RaftLimits = Object.freeze({
  electionTicks: 10,
  heartbeatTicks: 1,
  maxAppendEntries: 512,
  maxAppendBytes: 1024 * 1024,
  maxInflightMessages: 256,
  maxInflightBytes: 16 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxProposalEntries: 4096,
  maxEntryBytes: 1024 * 1024,
  maxPendingReads: 4096,
  compactionTrailingEntries: 1000,
  maxHeldMessages: 65536,
  maxApplyEntries: 4096,
});

/** Bytes an entry counts for in every byte limit: its payload plus a fixed overhead. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function validateLimits(partial: Partial<RaftLimits> | undefined): RaftLimits {
  const limits: RaftLimits = { ...DEFAULT_RAFT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    const min = name === 'compactionTrailingEntries' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RaftError('ERR_RAFT_BAD_OPTIONS', `limit ${name} must be an integer >= ${min}, got ${String(value)}`);
    }
  }
  if (limits.heartbeatTicks >= limits.electionTicks) {
    throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'heartbeatTicks must be below electionTicks');
  }
  if (limits.maxEntryBytes + ENTRY_OVERHEAD_BYTES > limits.maxUncommittedBytes) {
    throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'maxUncommittedBytes must hold at least one maximal entry');
  }
  if (limits.maxInflightBytes < limits.maxAppendBytes) {
    throw new RaftError('ERR_RAFT_BAD_OPTIONS', 'maxInflightBytes must hold at least one maximal append');
  }
  return Object.freeze(limits);
}
