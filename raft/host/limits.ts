// Every bound and timing of the Raft host, in one place. Relations between them are checked
// by checkHostLimits when a host starts.

/** One tick drives every group's engine (election and heartbeat timeouts count ticks). */
export const RAFT_TICK_MS = 50;
/** Engine defaults the host runs with: heartbeat each tick, elections after 10–20 ticks. */
export const HOST_ELECTION_TICKS = 10;
export const HOST_HEARTBEAT_TICKS = 1;
/** Store writes in flight at once (each turn starts at most one; the store orders them). */
export const MAX_PERSISTS_IN_FLIGHT = 2;
/** The voter reconciler runs on each leader every this many ticks. */
export const RECONCILE_EVERY_TICKS = 10;
/** Voters a group keeps at most by default (the odd ladder 1, 3, 5). */
export const DEFAULT_MAX_VOTERS = 5;
/** A member down this long leaves the configuration (it rejoins as a learner when back). */
export const DEFAULT_VOTER_GRACE_MS = 30_000;
/** Nodes whose up/down history the reconciler keeps (internode's peer table is smaller). */
export const MAX_TRACKED_NODES = 1_024;
/** Most founding voters a cluster names (or a peer may report). */
export const MAX_FOUNDERS = 9;
/** Founders search: how long `findFounders` looks by default (ms). */
export const DEFAULT_FOUNDERS_TIMEOUT_MS = 60_000;
/** Founders search: how often a node asks its peers (ms). */
export const FOUNDERS_ROUND_MS = 100;
/** Groups one host runs. */
export const MAX_HOST_GROUPS = 16;
/** Proposals a group holds waiting for their outcome (local and forwarded together). */
export const MAX_HOST_PENDING_PROPOSALS = 16_384;
/** Reads a group holds waiting for a read index or for apply to catch up. */
export const MAX_PENDING_READS = 4_096;
/** Committed entries waiting for the tenant: past it, the leader refuses new proposals. */
export const MAX_APPLY_BACKLOG = 8_192;
/** Proposals waiting for a leader to be known before they are routed. */
export const MAX_UNROUTED_PROPOSALS = 4_096;
/** Default bound on a proposal's or read's wait, and the largest one accepted. */
export const DEFAULT_PROPOSAL_TIMEOUT_MS = 5_000;
export const MAX_PROPOSAL_TIMEOUT_MS = 5 * 60_000;
/** A forwarded proposal refused as "not the leader" is re-routed at most this often. */
export const MAX_FORWARD_ATTEMPTS = 3;
/** Take a snapshot of a tenant once this many entries were applied since the last one. */
export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 10_000;
/** Snapshots travel in chunks of at most this many bytes (one frame each). */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;
/** Largest snapshot a node accepts from a peer. */
export const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;
/** Snapshot transfers a node reassembles at once (one per sending peer and group). */
export const MAX_INCOMING_SNAPSHOTS = 8;
