// Limits of the KV store, in one place. A space's limits are set by its `space-define` command
// (validated against the hard bounds below, so every replica holds the same ones); the rest
// bound a node's watch hub and proposals. Relationships are asserted when this module loads.
import { TroupeError } from '../runtime/base.js';
import type { SpaceLimits } from './types.js';

/** Longest space name, in UTF-16 code units. */
export const MAX_SPACE_NAME_LENGTH = 128;

/** Most spaces in one KV group. */
export const MAX_SPACES = 256;

export const DEFAULT_SPACE_LIMITS: SpaceLimits = Object.freeze({
  maxKeyBytes: 4 * 1024,
  maxValueBytes: 256 * 1024,
  maxOpsPerTxn: 128,
  retainedRevisions: 10_000,
  maxKeys: 1_000_000,
  maxLeases: 100_000,
});

/** What a space's limits may be set to, at most (a value must fit one Raft entry with its key). */
export const HARD_SPACE_LIMITS: SpaceLimits = Object.freeze({
  maxKeyBytes: 64 * 1024,
  maxValueBytes: 1536 * 1024,
  maxOpsPerTxn: 1_024,
  retainedRevisions: 1_000_000,
  maxKeys: 50_000_000,
  maxLeases: 1_000_000,
});

/** Shortest and longest lease TTL. */
export const MIN_LEASE_TTL_MS = 1_000;
export const MAX_LEASE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Leases one `expire-leases` entry expires at most (the leader proposes again while more are due). */
export const MAX_EXPIRED_PER_ENTRY = 1_000;

/** Most keys one scan page returns, and how many when the caller does not say. */
export const MAX_SCAN_LIMIT = 10_000;
export const DEFAULT_SCAN_LIMIT = 1_000;

/** Longest election extension a `leader-changed` entry may carry. */
export const MAX_ELECTION_EXTENSION_MS = 60_000;

// ---- host constants (kv/watch.ts and the host that proposes)

/** Watchers one node holds at most (ERR_KV_TOO_MANY_WATCHERS). */
export const MAX_WATCHERS_PER_NODE = 10_000;

/** Events buffered for one watcher that is not reading; past it the watcher ends (ERR_KV_WATCH_BEHIND). */
export const MAX_WATCHER_BACKLOG = 10_000;

/** Events a node keeps for watchers resuming from a past revision (the retained event window). */
export const MAX_RETAINED_EVENTS = 100_000;

/** How often the leader checks its duties (a new term, leases due); the bound on each proposal of them. */
export const KV_LEADER_DUTY_MS = 250;
export const KV_DUTY_PROPOSAL_TIMEOUT_MS = 2_000;

/** Proposals one node has in flight at most (the host refuses more with a typed overload error). */
export const MAX_PENDING_PROPOSALS = 10_000;

/** Throws ERR_BAD_ARGUMENT unless `limits` are integers in [1, HARD_SPACE_LIMITS]. */
export function validateSpaceLimits(limits: SpaceLimits): void {
  for (const name of Object.keys(DEFAULT_SPACE_LIMITS) as Array<keyof SpaceLimits>) {
    const v = limits[name];
    if (!Number.isSafeInteger(v) || v < 1 || v > HARD_SPACE_LIMITS[name])
      throw new TroupeError('ERR_BAD_ARGUMENT', `space limit ${name} is an integer in 1..${HARD_SPACE_LIMITS[name]}`);
  }
}

function assertBelow(small: number, smallName: string, large: number, largeName: string): void {
  if (!(small <= large))
    throw new TroupeError('ERR_BAD_CONFIG', `${smallName} (${small}) above ${largeName} (${large})`);
}

validateSpaceLimits(DEFAULT_SPACE_LIMITS);
validateSpaceLimits(HARD_SPACE_LIMITS);
assertBelow(MIN_LEASE_TTL_MS, 'MIN_LEASE_TTL_MS', MAX_LEASE_TTL_MS, 'MAX_LEASE_TTL_MS');
assertBelow(MAX_WATCHER_BACKLOG, 'MAX_WATCHER_BACKLOG', MAX_RETAINED_EVENTS, 'MAX_RETAINED_EVENTS');
