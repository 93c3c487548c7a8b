// Typed errors. Every error troupe raises on purpose is a TroupeError with a stable `code`,
// so callers can branch on `err.code` rather than on message text.

// One union for every folder, each in its own section (add a code to your folder's section,
// and a row to docs/errors.md: a test checks that every code here is documented there).
export type ErrorCode =
  // ---- runtime/
  | 'ERR_BAD_PID'
  | 'ERR_BAD_NAME'
  | 'ERR_NAME_TAKEN'
  | 'ERR_NOT_REGISTERED'
  | 'ERR_NOPROC'
  | 'ERR_NO_SUCH_NAME'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_EXITED'
  | 'ERR_NODE_STOPPED'
  | 'ERR_LIMIT'
  | 'ERR_BAD_ARGUMENT'
  | 'ERR_SUPERVISOR'
  | 'ERR_NO_ROUTE'
  | 'ERR_CALLEE_EXITED'
  | 'ERR_NOCONNECTION'
  | 'ERR_RECEIVE_PENDING'
  | 'ERR_ALREADY_NAMED'
  | 'ERR_BACKPRESSURE'
  | 'ERR_DECODE'
  | 'ERR_STREAM_OVERFLOW'
  | 'ERR_UNSERIALIZABLE'
  // ---- internode/
  | 'ERR_HANDSHAKE'
  | 'ERR_BAD_CONFIG'
  | 'ERR_STOPPED'
  | 'ERR_TRANSPORT'
  | 'ERR_MALFORMED'
  // ---- raft/
  | RaftErrorCode
  // ---- kv/
  | KvErrorCode
  // ---- registry/consistent and the names API
  | NamesErrorCode
  // ---- admin/ (the HTTP surface)
  | AdminErrorCode;

/** The raft engine's codes (its own section: the engine returns these, it does not throw them). */
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
  | 'ERR_RAFT_INVARIANT'
  // raft/host: proposals and reads through the host.
  /** The command may or may not have been committed (leader lost, or the wait ran out after it was sent). */
  | 'ERR_RAFT_INDETERMINATE'
  /** Another leader's entry took the command's place in the log: it will never commit (safe to retry). */
  | 'ERR_RAFT_DROPPED'
  /** The group's tenant is behind (apply backlog) or too many proposals wait: not appended, retry later. */
  | 'ERR_RAFT_OVERLOADED'
  /** No group of that id runs on this host (or on the leader a proposal was forwarded to). */
  | 'ERR_RAFT_NO_GROUP'
  // raft/store: the durable log.
  /** A data directory whose content cannot be a log this store wrote (truncated, garbled). */
  | 'ERR_RAFT_STORE_CORRUPT'
  /** A data directory of another node, cluster or format: refused, nothing overwritten. */
  | 'ERR_RAFT_STORE_FOREIGN'
  /** The store was closed. */
  | 'ERR_RAFT_STORE_CLOSED';

/** The KV store's codes (kv/): a command's result carries one, a read or a watch throws one. */
export type KvErrorCode =
  /** No space of that name was defined. */
  | 'ERR_KV_NO_SPACE'
  /** A key longer than the space's maxKeyBytes (or empty). */
  | 'ERR_KV_KEY_TOO_LARGE'
  /** A value larger than the space's maxValueBytes. */
  | 'ERR_KV_VALUE_TOO_LARGE'
  /** A txn with more compares plus operations than the space's maxOpsPerTxn. */
  | 'ERR_KV_TXN_TOO_LARGE'
  /** The space holds maxKeys keys or maxLeases leases (or the group MAX_SPACES spaces). */
  | 'ERR_KV_SPACE_FULL'
  /** The lease does not exist (never granted, revoked or expired). */
  | 'ERR_KV_NO_LEASE'
  /** The revision asked for is compacted; `compactRevision` says from where history is kept. */
  | 'ERR_KV_COMPACTED'
  /** The revision asked for is beyond the space's current one. */
  | 'ERR_KV_FUTURE_REVISION'
  /** A command or read that is malformed (a bad shape, two writes of one key in a txn, a bad limit). */
  | 'ERR_KV_BAD_COMMAND'
  /** Snapshot bytes that do not decode to a KV state. */
  | 'ERR_KV_BAD_SNAPSHOT'
  /** A watcher fell its backlog behind; `resumeRevision` is where to watch again from. */
  | 'ERR_KV_WATCH_BEHIND'
  /** The node holds MAX_WATCHERS_PER_NODE watchers. */
  | 'ERR_KV_TOO_MANY_WATCHERS'
  /** An eventual space has seen MAX_EVENTUAL_ACTORS writers: its tombstone bound (kv/eventual). */
  | 'ERR_KV_CONTEXT_FULL';

/** The consistent registry's codes (registry/consistent) and the one names API's. */
export type NamesErrorCode =
  /** A malformed command or read (its shape, a bad fence, an unknown tier). */
  | 'ERR_NAMES_BAD_COMMAND'
  /** A limit of the registry would be exceeded (`limit` names it). */
  | 'ERR_NAMES_LIMIT'
  /** An unregister from a node that does not own the name, without the current fence. */
  | 'ERR_NAMES_NOT_OWNER'
  /** An unregister or a fenced send whose fence is older than the name's binding. */
  | 'ERR_NAMES_STALE_FENCE'
  /** A registration for a process of a node incarnation that has since restarted. */
  | 'ERR_NAMES_STALE_OWNER'
  /** A name of one tier would shadow the same name in another tier. */
  | 'ERR_NAMES_SHADOWED'
  /** A call by name reached a node that knows a newer binding of the name. */
  | 'ERR_NAMES_STALE_NAME'
  /** Snapshot bytes that do not decode to a registry state. */
  | 'ERR_NAMES_BAD_SNAPSHOT'
  /** A watcher fell its backlog behind; `resumeRevision` is where to watch again from. */
  | 'ERR_NAMES_WATCH_BEHIND'
  /** A watch from a revision this node no longer holds events for. */
  | 'ERR_NAMES_COMPACTED'
  /** The node holds MAX_WATCHERS_PER_NODE name watchers. */
  | 'ERR_NAMES_TOO_MANY_WATCHERS';

/** The admin HTTP surface's codes (admin/): the `code` of a 4xx/5xx JSON body `{ error: { code, message } }`. */
export type AdminErrorCode =
  /** No such path (404). */
  | 'ERR_ADMIN_NOT_FOUND'
  /** The path exists, the method does not (405, with `Allow`). */
  | 'ERR_ADMIN_METHOD'
  /** A malformed request: a bad path segment, query parameter or header (400). */
  | 'ERR_ADMIN_BAD_REQUEST'
  /** A JSON body that does not parse or has the wrong shape (400). */
  | 'ERR_ADMIN_BAD_JSON'
  /** A revision (`If-Match`, `revision`, `fromRevision`) that is not an integer >= 0 (400). */
  | 'ERR_ADMIN_BAD_REVISION'
  /** A body over MAX_BODY_BYTES (413). */
  | 'ERR_ADMIN_TOO_LARGE'
  /** A write without the bearer token, with a wrong one, or on a server configured without one (401). */
  | 'ERR_ADMIN_UNAUTHORIZED'
  /** The key does not exist (404). */
  | 'ERR_ADMIN_NO_KEY'
  /** `If-Match` / `If-None-Match` did not hold: nothing was written (412). */
  | 'ERR_ADMIN_CAS_FAILED'
  /** The server holds its most connections or event streams (503). */
  | 'ERR_ADMIN_BUSY'
  /** The subsystem the path needs is off on this node, or stopping (503). */
  | 'ERR_ADMIN_UNAVAILABLE'
  /** A failure the server did not expect (500): logged with its cause. */
  | 'ERR_ADMIN_INTERNAL';

export class TroupeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TroupeError';
  }
}

/** Type guard for a TroupeError, optionally of one code. */
export function isTroupeError(err: unknown, code?: ErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code);
}
