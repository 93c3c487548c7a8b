// Every bound of the pg core, as named constants in one place. A scope may lower (or raise) them
// through `PgScopeOptions.limits`; overrides are validated so a typo cannot disable a bound.
import { TroupeError } from '../runtime/base.js';

export interface PgLimits {
  /** Groups this node's view of one scope may hold (local and remote). */
  readonly maxGroupsPerScope: number;
  /** Members (counting multiplicity) one group may hold in this node's view. */
  readonly maxMembersPerGroup: number;
  /** Memberships one local pid may hold in one scope (its exit costs one event per membership). */
  readonly maxMembershipsPerPid: number;
  /**
   * Memberships one peer may hold in this node's view, and all peers together. Past either, that
   * peer's deltas are refused (counted) and it is resynced after a backoff: a peer cannot grow
   * this node's memory without bound. A well-behaved peer stays under maxSyncBytes of local
   * memberships, i.e. under ~350 000 (a pid costs at least 24 bytes).
   */
  readonly maxMembershipsPerPeer: number;
  readonly maxRemoteMemberships: number;
  /** Pids one join/leave call may name (counting duplicates), and groups it may name. */
  readonly maxPidsPerCall: number;
  readonly maxGroupsPerCall: number;
  /** Longest group name, in UTF-16 code units. */
  readonly maxGroupNameLength: number;
  /**
   * Delta operations waiting for the next flush (shared by every streamed peer). Past it, the
   * pending log is dropped and every streamed peer is switched to a full resync instead.
   */
  readonly maxPendingDeltaOps: number;
  /** Operations in one delta message; a longer flush is split into several messages. */
  readonly maxOpsPerDeltaMessage: number;
  /** Pids held by the pending delta log; past it, the same switch to full resync as above. */
  readonly maxPendingDeltaPids: number;
  /**
   * Estimated encoded size of one peer message (upper bound, see size.ts). Syncs are split into
   * parts and deltas into several messages to stay under it; one local op must fit in it, or the
   * call is refused. Must stay below internode's frame body limit (4 MiB): checked when the host starts.
   */
  readonly maxMessageBytes: number;
  /**
   * Estimated size of a full sync of this node's local memberships (all its parts' content). A
   * join that would push it past is refused, so a resync always fits an empty `pg` queue: it must
   * be at most half of internode's pg class bytes (16 MiB; checked when the host starts), and the
   * same on every node (a receiver drops a multi-part sync bigger than this).
   */
  readonly maxSyncBytes: number;
  /** Peers one scope tracks at once. */
  readonly maxPeers: number;
  /** Monitors one scope holds at once. */
  readonly maxMonitors: number;
  /** Events queued for one monitor and not yet taken; past it the monitor ends with `overflow`. */
  readonly maxQueuedEventsPerMonitor: number;
}

export const DEFAULT_PG_LIMITS: PgLimits = Object.freeze({
  maxGroupsPerScope: 100_000,
  maxMembersPerGroup: 200_000,
  maxMembershipsPerPid: 10_000,
  maxMembershipsPerPeer: 400_000,
  maxRemoteMemberships: 2_000_000,
  maxPidsPerCall: 100_000,
  maxGroupsPerCall: 10_000,
  maxGroupNameLength: 1_024,
  maxPendingDeltaOps: 50_000,
  maxOpsPerDeltaMessage: 4_096,
  maxPendingDeltaPids: 1_000_000,
  maxMessageBytes: 1_048_576,
  maxSyncBytes: 8 * 1_048_576,
  maxPeers: 1_024,
  maxMonitors: 100_000,
  maxQueuedEventsPerMonitor: 100_000,
});

export interface PgTimings {
  /** Wait before re-sending `discover` to an up peer whose sync has not arrived (doubles, clamped). */
  readonly discoverRetryMs: number;
  readonly discoverRetryMaxMs: number;
  /** Wait before retrying a resync to a peer whose queue was full and never reported room. */
  readonly blockedRetryMs: number;
  readonly blockedRetryMaxMs: number;
  /** Period of the anti-entropy round: each round sends one digest to the next streamed peer in turn. */
  readonly antiEntropyIntervalMs: number;
}

export const DEFAULT_PG_TIMINGS: PgTimings = Object.freeze({
  discoverRetryMs: 500,
  discoverRetryMaxMs: 30_000,
  blockedRetryMs: 1_000,
  blockedRetryMaxMs: 30_000,
  antiEntropyIntervalMs: 10_000,
});

// ---- host constants (pg/host.ts)

/** The scope every node runs. */
export const DEFAULT_SCOPE = 'default';
/** How often scopes get `tick` (discover retries, blocked-peer retries, anti-entropy). */
export const PG_TICK_MS = 250;
/** Scopes one node may run. */
export const MAX_SCOPES = 64;

/** Largest doubling exponent used by backoffs: 2^20 · base is already far past any max. */
export const MAX_BACKOFF_EXPONENT = 20;

function checkPositiveIntegers(kind: string, values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new TroupeError('ERR_BAD_ARGUMENT', `pg ${kind} ${key} must be a positive integer, got ${String(value)}`);
    }
  }
}

export function resolveLimits(overrides: Partial<PgLimits> | undefined): PgLimits {
  const limits = { ...DEFAULT_PG_LIMITS, ...overrides };
  checkPositiveIntegers('limit', limits as unknown as Record<string, unknown>);
  return Object.freeze(limits);
}

export function resolveTimings(overrides: Partial<PgTimings> | undefined): PgTimings {
  const timings = { ...DEFAULT_PG_TIMINGS, ...overrides };
  checkPositiveIntegers('timing', timings as unknown as Record<string, unknown>);
  if (timings.discoverRetryMaxMs < timings.discoverRetryMs || timings.blockedRetryMaxMs < timings.blockedRetryMs) {
    throw new TroupeError('ERR_BAD_ARGUMENT', 'pg timing: a retry max is below its base');
  }
  return Object.freeze(timings);
}

/** base · 2^attempt, clamped to max, without ever computing a huge power. */
export function clampedBackoff(baseMs: number, maxMs: number, attempt: number): number {
  const exponent = Math.min(Math.max(attempt, 0), MAX_BACKOFF_EXPONENT);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}
