// Public face of pg/: the host (ProcessGroups, one Scope per running scope), the pure scope state
// machine (PgScope) it drives as docs/pg.md describes, and their types and limits.
export { ProcessGroups, checkPgFitsTransport, type ProcessGroupsOptions, type PgScopeOption } from './host.js';
export { Scope, isPgMessage, type PgMailboxMessage, type PgMonitor, type PgMonitorOptions } from './running-scope.js';
export { PgScope } from './scope.js';
export type { PgScopeOptions } from './scope.js';
export { PgLimitError, PgNoProcError, PgNotLocalError, PgScopeNotRunningError } from './errors.js';
export {
  DEFAULT_PG_LIMITS,
  DEFAULT_PG_TIMINGS,
  DEFAULT_SCOPE,
  MAX_BACKOFF_EXPONENT,
  MAX_SCOPES,
  PG_TICK_MS,
  clampedBackoff,
} from './limits.js';
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
  PgDigestMessage,
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
