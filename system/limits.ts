// Limits and defaults of the composition root.

export const DEFAULT_CLUSTER_NAME = 'troupe';
/** The internode handshake's own floor; checked here too so the error names the option. */
export const MIN_SECRET_BYTES = 16;
/** Each subsystem gets this long to stop before the next one is stopped anyway. */
export const CLUSTER_STOP_TIMEOUT_MS = 10_000;
export const MAX_STOP_TIMEOUT_MS = 600_000;
/** ready() waits at most this long unless told otherwise. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** Subsystems one Cluster runs (built-in and attached). */
export const MAX_PARTS = 64;

/** How long a node started with `raft.expect` looks for its founders before it warns (addGroup looks again). */
export const FOUNDERS_SEARCH_TIMEOUT_MS = 5 * 60_000;
