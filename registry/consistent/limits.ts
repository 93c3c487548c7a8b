// Limits of the consistent name registry, in one place. Each has a typed error when reached
// (docs/errors.md); their relationships are asserted when the module loads.
import { assertLimitBelow } from '../../runtime/index.js';

/** A name is 1 to this many UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;
/** Names one node's processes may hold at once. */
export const MAX_CONSISTENT_NAMES_PER_NODE = 1_000_000;
/** Names one process may hold at once. */
export const MAX_NAMES_PER_PID = 64;
/** Names the whole registry holds at once (all nodes). */
export const MAX_NAMES = 4_000_000;
/** Registrations and unregistrations waiting on this node for their entry to commit. */
export const MAX_PENDING_OPERATIONS = 16_384;
/** Operations carried by one Raft entry (a batch): many callers share one round. */
export const MAX_BATCH_OPERATIONS = 1_024;
/** Batches of one node in flight at once: the next batch fills while these commit. */
export const MAX_BATCHES_IN_FLIGHT = 4;
/** Exited pids one `exits` operation removes the names of. */
export const MAX_EXITS_PER_OPERATION = 1_024;
/** Names one purge entry removes: a departed node's names go in chunks, so that
 *  registrations interleave with a large removal. */
export const PURGE_CHUNK_NAMES = 512;
/** A node down this long loses its names (the leader removes them); a blip shorter keeps them. */
export const DEFAULT_NODE_GRACE_MS = 10_000;
/** How often the leader looks for names to purge, and this node for exits to report. */
export const NAMES_DUTY_MS = 100;
/** The bound on one duty proposal of the leader (it tries again at its next duty). */
export const NAMES_DUTY_TIMEOUT_MS = 5_000;
/** Default bound on one register/unregister call. */
export const NAMES_CALL_TIMEOUT_MS = 5_000;
/** Register/unregister events this node keeps, so that a watch can start in the past. */
export const MAX_RETAINED_NAME_EVENTS = 16_384;
/** Events one watcher may have unread before it ends (with the revision to resume from). */
export const MAX_NAME_WATCHER_BACKLOG = 4_096;
/** Watchers on one node. */
export const MAX_NAME_WATCHERS_PER_NODE = 1_024;
/** Nodes whose incarnation the registry remembers (every node that ever held a name). */
export const MAX_KNOWN_NODES = 4_096;

assertLimitBelow(
  { name: 'MAX_BATCH_OPERATIONS', value: MAX_BATCH_OPERATIONS },
  { name: 'MAX_PENDING_OPERATIONS', value: MAX_PENDING_OPERATIONS },
);
assertLimitBelow(
  { name: 'MAX_NAMES_PER_PID', value: MAX_NAMES_PER_PID },
  { name: 'MAX_CONSISTENT_NAMES_PER_NODE', value: MAX_CONSISTENT_NAMES_PER_NODE },
);
assertLimitBelow(
  { name: 'MAX_CONSISTENT_NAMES_PER_NODE', value: MAX_CONSISTENT_NAMES_PER_NODE },
  { name: 'MAX_NAMES', value: MAX_NAMES },
);
assertLimitBelow(
  { name: 'MAX_NAME_WATCHER_BACKLOG', value: MAX_NAME_WATCHER_BACKLOG },
  { name: 'MAX_RETAINED_NAME_EVENTS', value: MAX_RETAINED_NAME_EVENTS },
);
assertLimitBelow(
  { name: 'NAMES_DUTY_MS', value: NAMES_DUTY_MS },
  { name: 'DEFAULT_NODE_GRACE_MS', value: DEFAULT_NODE_GRACE_MS },
);
