// Public types of the pg core: membership events, monitor handles, peer messages and the
// outputs a host drains after each input.
import type { Pid } from '../runtime/base.js';

/** A group name. Any string (bounded by `maxGroupNameLength`). */
export type Group = string;

/** Identifies one monitor within one scope. */
export type MonitorRef = number;

/** One membership change, with the pids of exactly that operation (rules 10, 11, 13, 18). */
export interface PgMembershipEvent {
  readonly kind: 'join' | 'leave';
  readonly group: Group;
  /** Pids in operation order; a pid appears once per membership it gained or lost. */
  readonly pids: readonly Pid[];
}

/**
 * The monitor's queue overflowed (its consumer fell `maxQueuedEventsPerMonitor` behind): the
 * monitor has ended; its earlier events were discarded. Monitor again for a fresh snapshot.
 */
export interface PgOverflowEvent {
  readonly kind: 'overflow';
}

export type PgEvent = PgMembershipEvent | PgOverflowEvent;

export interface ScopeMonitorHandle {
  readonly ref: MonitorRef;
  /** Every group with its members, in `members` order, at the instant the monitor started. */
  readonly snapshot: ReadonlyMap<Group, readonly Pid[]>;
}

export interface GroupMonitorHandle {
  readonly ref: MonitorRef;
  readonly group: Group;
  /** The group's members at the instant the monitor started (`[]` for an empty group). */
  readonly snapshot: readonly Pid[];
}

/** Result of a leave: Erlang's `ok | not_joined`. */
export type LeaveResult = 'ok' | 'not_joined';

// ---- peer messages (carried on internode's `pg` class) ----
// Every message names its scope, the sender's incarnation (`inc`) and the incarnation of the
// receiver it was meant for (`toInc`); the sender's node name comes from the link itself.

/** "Please send me your full local memberships." Sent on node up, and to repair a broken stream. */
export interface PgDiscoverMessage {
  readonly t: 'discover';
  readonly scope: string;
  readonly inc: number;
  readonly toInc: number;
}

/**
 * The sender's complete local memberships at its local version `version`: per group, its local
 * pids newest-first with multiplicity. Groups with no local member are absent. A sync too big
 * for one message comes in parts 0, 1, … sent back to back; the receiver applies it only once
 * the part flagged `last` arrives. A group's block may continue from one part into the next.
 */
export interface PgSyncMessage {
  readonly t: 'sync';
  readonly scope: string;
  readonly inc: number;
  readonly toInc: number;
  readonly version: number;
  readonly part: number;
  readonly last: boolean;
  readonly groups: ReadonlyArray<readonly [Group, readonly Pid[]]>;
}

/** One local change: a join of pids (list order) or a leave of pids (one occurrence each). */
export type PgDeltaOp = readonly ['j' | 'l', Group, readonly Pid[]];

/**
 * The sender's local changes numbered base+1 … version (one version per op), to apply in order
 * on top of the receiver's view of the sender at version `base`.
 */
export interface PgDeltaMessage {
  readonly t: 'delta';
  readonly scope: string;
  readonly inc: number;
  readonly toInc: number;
  readonly base: number;
  readonly version: number;
  readonly ops: readonly PgDeltaOp[];
}

/**
 * Anti-entropy: the sender's local memberships at its local version `version`, as a count and an
 * order-insensitive digest (two 32-bit lanes). Sent after the sender's deltas on the same link,
 * so the receiver's view of the sender must match it exactly; if not, the receiver resyncs.
 */
export interface PgDigestMessage {
  readonly t: 'digest';
  readonly scope: string;
  readonly inc: number;
  readonly toInc: number;
  readonly version: number;
  readonly count: number;
  readonly h1: number;
  readonly h2: number;
}

export type PgMessage = PgDiscoverMessage | PgSyncMessage | PgDeltaMessage | PgDigestMessage;

/** A message for the host to enqueue on the `pg` class towards `to` (a node name). */
export interface PgSend {
  readonly to: string;
  readonly message: PgMessage;
}

/** What the host does after an input (see docs/pg.md, "Driving the core"). */
export interface PgOutputs {
  /** Messages to enqueue, per peer in this order. */
  readonly sends: readonly PgSend[];
  /** Monitors that have new events queued: call `takeEvents(ref)` for each. */
  readonly readyMonitors: readonly MonitorRef[];
}

/** Counters of the scope, for the host to export as metrics (`troupe.pg.*`). */
export interface PgStats {
  /** Peer messages received and applied. */
  messagesApplied: number;
  /** Peer messages dropped because their shape or content was invalid. */
  droppedMalformed: number;
  /** Messages for another scope or another incarnation of this node. */
  droppedMisrouted: number;
  /** Messages from a peer not up (unknown, or a late one after node down) or of an old incarnation. */
  droppedNotUp: number;
  /** Deltas from a peer whose sync has not been applied yet. */
  droppedUnsynced: number;
  /** Deltas already applied (or older than the last sync). */
  droppedDuplicate: number;
  /** Deltas that skip versions (a lost message): dropped, and a resync requested. */
  droppedGap: number;
  /** Syncs older than one already applied. */
  droppedStaleSync: number;
  /** Sync parts out of sequence (a part lost or replayed): dropped, and a resync requested. */
  droppedSyncPart: number;
  /** Remote ops that disagreed with the view (a leave of a non-member): a resync was requested. */
  inconsistentRemoteOps: number;
  /** Remote members not added because a limit was reached. */
  droppedOverLimit: number;
  /** Full syncs sent / received. */
  syncsSent: number;
  syncsReceived: number;
  deltasSent: number;
  discoversSent: number;
  /** Times a peer's `pg` queue was reported full. */
  peerQueueFull: number;
  /** Times the pending delta log overflowed and streamed peers were switched to resync. */
  pendingLogOverflows: number;
  /** Monitors ended because their queue overflowed. */
  monitorOverflows: number;
  /** Anti-entropy digests sent; received ones that matched our view; ones that did not (a resync followed). */
  digestsSent: number;
  digestsInSync: number;
  digestMismatches: number;
  /**
   * Deltas refused and syncs cut because a peer would hold more than maxMembershipsPerPeer (or all
   * peers more than maxRemoteMemberships) in our view, or a sync met another limit; a resync of that
   * peer follows after a backoff.
   */
  refusedOverPeerLimit: number;
}
