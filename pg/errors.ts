// Typed errors of the pg core. They are TroupeErrors (stable `code`), with the offending value
// attached so a caller can report it without parsing the message.
import { TroupeError } from '../runtime/base.js';
import type { Pid } from '../runtime/base.js';

/** A join/leave named a pid of another node (or of this node's earlier incarnation). */
export class PgNotLocalError extends TroupeError {
  readonly pid: Pid;
  readonly reason = 'not_local' as const;
  constructor(pid: Pid, localNode: string) {
    super(
      'ERR_BAD_ARGUMENT',
      `pg: ${pid.toString()} is not a local pid of ${localNode}; only local pids may join or leave`,
    );
    this.pid = pid;
  }
}

/** A join named a pid that the host reports dead. */
export class PgNoProcError extends TroupeError {
  readonly pid: Pid;
  constructor(pid: Pid) {
    super('ERR_NOPROC', `pg: ${pid.toString()} is not alive`);
    this.pid = pid;
  }
}

/** A named limit of pg/limits.ts would be exceeded; nothing from the call changed. */
export class PgLimitError extends TroupeError {
  readonly limit: string;
  readonly max: number;
  constructor(limit: string, max: number, detail: string) {
    super('ERR_LIMIT', `pg: ${detail} (limit ${limit} = ${max})`);
    this.limit = limit;
    this.max = max;
  }
}

/** A call named a scope this node does not run (Erlang: badarg). Reads of members return [] instead. */
export class PgScopeNotRunningError extends TroupeError {
  readonly scope: string;
  constructor(scope: string) {
    super('ERR_BAD_ARGUMENT', `pg: scope ${JSON.stringify(scope)} is not running`);
    this.scope = scope;
  }
}
