// Admin operations for benchmarks and tests only, enabled by `troupe node --bench-admin`: they
// spawn processes and register names on request, which a production node must not let any member
// of the cluster do. Each is validated and bounded like the product's operations.
import { isPgMessage, type ProcessGroups } from '../pg/index.js';
import type { EventualRegistry } from '../registry/index.js';
import type { Node, Pid, ProcessContext } from '../runtime/index.js';
import { badRequest, countField, pidField, stringField } from './admin-protocol.js';

/** Upper bound on processes or names one request may create. */
export const MAX_ADMIN_SPAWN = 100_000;
/** Ranges one names-scan request may name. */
export const MAX_SCAN_RANGES = 64;
/** Events one pg-watch process reports before it exits. */
export const MAX_WATCH_EVENTS = 1_000_000;

/**
 * Times in admin replies: process.hrtime.bigint() as a number of nanoseconds, i.e. the
 * monotonic clock, which on Linux is the same for every process on the machine.
 */
export type AdminClockNs = number;

/** What a pg-watch process sends for each event it sees. */
export interface PgSeen {
  readonly type: 'pg-seen';
  readonly kind: string;
  /** When the watcher took the event from its mailbox. */
  readonly atNs: AdminClockNs;
  /** For a join: whether members() on this node already lists every joined pid. */
  readonly inMembers: boolean;
}

export type BenchAdminRequest =
  /** Spawn `count` idle processes on this node and join them to `group`; replies with their pids. */
  | { readonly op: 'pg-join'; readonly group: string; readonly count: number }
  /** Spawn an idle process and register it under `name` in the eventual registry; replies with its pid. */
  | { readonly op: 'register'; readonly name: string }
  | { readonly op: 'register-many'; readonly prefix: string; readonly count: number }
  /** Like register-many, and replies with the time the last name was registered. */
  | { readonly op: 'register-many-timed'; readonly prefix: string; readonly count: number }
  /**
   * For each range, the first index in [from, count) whose name `${prefix}${index}` has no owner
   * here (count if all have one), and the time of the scan. O(names scanned): a caller polling for
   * convergence passes back what it learnt as `from`.
   */
  | { readonly op: 'names-scan'; readonly ranges: readonly { prefix: string; from: number; count: number }[] }
  /** process.memoryUsage(), after a full GC when asked and the node runs with --expose-gc. */
  | { readonly op: 'memory'; readonly gc?: boolean }
  /** Spawns a process that monitors `group` and tells `to` of each event as a PgSeen, `events` times. */
  | { readonly op: 'pg-watch'; readonly group: string; readonly to: Pid; readonly events: number };

const clockNs = (): AdminClockNs => Number(process.hrtime.bigint());

const idle = (node: Node): Pid => node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'stop')));

export interface BenchAdminDeps {
  readonly node: Node;
  readonly pg?: ProcessGroups;
  readonly names?: EventualRegistry;
}

/** The benchmark operations; undefined for an op that is not one of them. */
export function benchAdmin(deps: BenchAdminDeps) {
  const { node } = deps;
  const needPg = (): ProcessGroups => deps.pg ?? throwOff('process groups');
  const needNames = (): EventualRegistry => deps.names ?? throwOff('the eventual registry');
  return (req: Record<string, unknown> & { op: string }, _from: unknown, _ctx: ProcessContext): unknown => {
    switch (req.op) {
      case 'pg-join': {
        const group = stringField(req, 'group');
        const count = countField(req, 'count', MAX_ADMIN_SPAWN);
        const pg = needPg();
        const pids = Array.from({ length: count }, () => idle(node));
        try {
          pg.join(group, pids);
        } catch (error) {
          for (const pid of pids) node.exit(pid, 'kill'); // no orphans left by a refused join
          throw error;
        }
        return pids;
      }
      case 'register': {
        const name = stringField(req, 'name');
        const names = needNames();
        const pid = idle(node);
        try {
          names.register(name, pid);
        } catch (error) {
          node.exit(pid, 'kill');
          throw error;
        }
        return pid;
      }
      case 'register-many':
      case 'register-many-timed': {
        const prefix = stringField(req, 'prefix');
        const count = countField(req, 'count', MAX_ADMIN_SPAWN);
        const names = needNames();
        const pid = idle(node);
        for (let i = 0; i < count; i++) names.register(`${prefix}${i}`, pid);
        return req.op === 'register-many' ? pid : { pid, registered: count, doneAtNs: clockNs() };
      }
      case 'names-scan': {
        const ranges = req.ranges;
        if (!Array.isArray(ranges) || ranges.length > MAX_SCAN_RANGES)
          throw badRequest(`ranges must be an array of at most ${MAX_SCAN_RANGES} ranges`);
        const names = needNames();
        const next = ranges.map((range: unknown) => {
          if (typeof range !== 'object' || range === null) throw badRequest('a range is { prefix, from, count }');
          const r = range as Record<string, unknown>;
          const prefix = stringField(r, 'prefix');
          const end = countField(r, 'count', MAX_ADMIN_SPAWN);
          let i = countField(r, 'from', MAX_ADMIN_SPAWN);
          while (i < end && names.whereis(`${prefix}${i}`) !== undefined) i++;
          return Math.min(i, end);
        });
        return { next, atNs: clockNs() };
      }
      case 'memory': {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (req.gc === true) gc?.();
        return { ...process.memoryUsage(), gcRan: req.gc === true && gc !== undefined };
      }
      case 'pg-watch': {
        const group = stringField(req, 'group');
        const to = pidField(req, 'to');
        const max = countField(req, 'events', MAX_WATCH_EVENTS);
        const pg = needPg();
        return node.spawn(async (ctx) => {
          pg.scope().monitorFrom(ctx, group);
          for (let seen = 0; seen < max;) {
            const m = await ctx.receive();
            if (!isPgMessage(m) || m.event.kind === 'overflow') continue;
            const atNs = clockNs();
            const members = pg.members(group);
            const inMembers = m.event.kind !== 'join' || m.event.pids.every((p) => members.some((q) => q.equals(p)));
            ctx.send(to, { type: 'pg-seen', kind: m.event.kind, atNs, inMembers } satisfies PgSeen);
            seen++;
          }
        });
      }
      default:
        return undefined;
    }
  };
}

function throwOff(what: string): never {
  throw badRequest(`${what} are not running on this node`);
}
