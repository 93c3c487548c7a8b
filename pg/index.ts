// Public face of pg/: the pure scope state machine and its types. The host that wires a scope
// to the runtime (process exits, mailboxes) and to internode (the `pg` class) lives elsewhere
// and drives this core as docs/pg.md describes.
export {
  ProcessGroups,
  Scope,
  DEFAULT_SCOPE,
  PG_TICK_MS,
  MAX_SCOPES,
  isPgMessage,
  type PgMailboxMessage,
  type PgMonitor,
  type ProcessGroupsOptions,
} from './host.js';
export { PgScope } from './scope.js';
export type { PgScopeOptions } from './scope.js';
export { PgLimitError, PgNoProcError, PgNotLocalError } from './errors.js';
export { DEFAULT_PG_LIMITS, DEFAULT_PG_TIMINGS, MAX_BACKOFF_EXPONENT, clampedBackoff } from './limits.js';
export type { PgLimits, PgTimings } from './limits.js';
export { parsePeerMessage } from './messages.js';
export type { ParseResult } from './messages.js';
export type {
  Group,
  GroupMonitorHandle,
  LeaveResult,
  MonitorRef,
  PgDeltaMessage,
  PgDeltaOp,
  PgDiscoverMessage,
  PgEvent,
  PgMembershipEvent,
  PgMessage,
  PgOutputs,
  PgOverflowEvent,
  PgSend,
  PgStats,
  PgSyncMessage,
  ScopeMonitorHandle,
} from './types.js';
