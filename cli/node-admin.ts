// The admin process every `troupe node` runs, registered as `troupe`: it answers status calls
// and tells remote callers its pid (a remote name can be sent to; a pid can be called).
import { isCall, type Node, type Pid, type ServerBehaviour } from '../runtime/index.js';
import { startServer } from '../runtime/index.js';
import type { Internode, MemberInfo } from '../internode/index.js';
import { isPgMessage, type ProcessGroups } from '../pg/index.js';
import type { EventualRegistry } from '../registry/index.js';

export const ADMIN_NAME = 'troupe';

export type AdminRequest =
  | { op: 'info' }
  | { op: 'ping' }
  | { op: 'echo'; value: unknown }
  /** Spawn `count` idle processes on this node and join them to `group`; replies with their pids. */
  | { op: 'pg-join'; group: string; count: number }
  | { op: 'pg-members'; group: string }
  /** Spawn an idle process and register it under `name` in the eventual registry; replies with its pid. */
  | { op: 'register'; name: string }
  | { op: 'register-many'; prefix: string; count: number }
  | { op: 'whereis'; name: string }
  | { op: 'names-count' }
  // For benchmarks (bench/cluster.bench.ts):
  /** Like register-many, and replies with the time the last name was registered (see AdminClockNs). */
  | { op: 'register-many-timed'; prefix: string; count: number }
  /**
   * For each range, the first index in [from, count) whose name `${prefix}${index}` has no owner
   * here (count if all have one), and the time of the scan. Costs O(names scanned): a caller
   * polling for convergence passes back what it learnt as `from`.
   */
  | { op: 'names-scan'; ranges: readonly { prefix: string; from: number; count: number }[] }
  /** Internode counters (bytes and frames sent, queues) and the eventual registry's counters. */
  | { op: 'stats' }
  /** process.memoryUsage(), after a full GC when asked and the node runs with --expose-gc. */
  | { op: 'memory'; gc?: boolean }
  /**
   * Spawns a process that monitors `group` (default scope) and tells `to` of each event as a
   * PgSeen, for `events` events (at most MAX_WATCH_EVENTS), then exits; replies with its pid.
   */
  | { op: 'pg-watch'; group: string; to: Pid; events: number };

/** What a pg-watch process sends for each event it sees. */
export interface PgSeen {
  readonly type: 'pg-seen';
  readonly kind: string;
  /** When the watcher took the event from its mailbox. */
  readonly atNs: AdminClockNs;
  /** For a join: whether members() on this node already lists every joined pid. */
  readonly inMembers: boolean;
}
/** Events one pg-watch process reports before it exits. */
export const MAX_WATCH_EVENTS = 1_000_000;

/**
 * Times in admin replies: process.hrtime.bigint() as a number of nanoseconds, i.e. the
 * monotonic clock, which on Linux is the same for every process on the machine.
 */
export type AdminClockNs = number;
/** Ranges one names-scan request may name. */
export const MAX_SCAN_RANGES = 64;

/** Upper bound on processes one admin request may spawn. */
export const MAX_ADMIN_SPAWN = 100_000;
export interface AdminInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly members: MemberInfo[];
  readonly processes: number;
}

/** A plain message `{ type: 'whoami', from }` sent to `{ node, name: 'troupe' }` gets `{ type: 'iam', pid }` back. */
export interface WhoAmI {
  readonly type: 'whoami';
  readonly from: Pid;
}

export interface AdminDeps {
  readonly pg?: ProcessGroups;
  readonly names?: EventualRegistry;
}

const clockNs = (): AdminClockNs => Number(process.hrtime.bigint());

const idle = (node: Node): Pid => node.spawn(async (ctx) => void (await ctx.receive((m) => m === 'stop')));

export function startAdmin(node: Node, net: Internode, deps: AdminDeps = {}): Promise<Pid> {
  const count = (n: number): number => Math.max(0, Math.min(MAX_ADMIN_SPAWN, Math.floor(n)));
  const behaviour: ServerBehaviour<null, void, AdminRequest, unknown> = {
    init: () => null,
    handleCall(req, _from, state) {
      switch (req.op) {
        case 'info':
          return {
            reply: {
              node: node.name,
              incarnation: node.incarnation,
              address: net.address,
              members: net.members(),
              processes: node.stats().processes,
            } satisfies AdminInfo,
            state,
          };
        case 'ping':
          return { reply: 'pong', state };
        case 'echo':
          return { reply: req.value, state };
        case 'pg-join': {
          const pids = Array.from({ length: count(req.count) }, () => idle(node));
          deps.pg?.join(req.group, pids);
          return { reply: pids, state };
        }
        case 'pg-members':
          return { reply: deps.pg?.members(req.group) ?? [], state };
        case 'register': {
          const pid = idle(node);
          deps.names?.register(req.name, pid);
          return { reply: pid, state };
        }
        case 'register-many': {
          const pid = idle(node);
          for (let i = 0; i < count(req.count); i++) deps.names?.register(`${req.prefix}${i}`, pid);
          return { reply: pid, state };
        }
        case 'whereis':
          return { reply: deps.names?.whereis(req.name) ?? null, state };
        case 'names-count':
          return { reply: deps.names?.size ?? 0, state };
        case 'register-many-timed': {
          const pid = idle(node);
          const n = count(req.count);
          for (let i = 0; i < n; i++) deps.names?.register(`${req.prefix}${i}`, pid);
          return { reply: { pid, registered: n, doneAtNs: clockNs() }, state };
        }
        case 'names-scan': {
          const next = req.ranges.slice(0, MAX_SCAN_RANGES).map(({ prefix, from, count: n }) => {
            const end = count(n);
            let i = Math.max(0, Math.floor(from));
            while (i < end && deps.names?.whereis(`${prefix}${i}`) !== undefined) i++;
            return Math.min(i, end);
          });
          return { reply: { next, atNs: clockNs() }, state };
        }
        case 'stats':
          return { reply: { net: net.stats(), names: deps.names?.counters() ?? null }, state };
        case 'pg-watch': {
          const pg = deps.pg;
          if (pg === undefined) return { reply: null, state };
          const max = Math.max(0, Math.min(MAX_WATCH_EVENTS, Math.floor(req.events)));
          const watcher = node.spawn(async (ctx) => {
            pg.scope().monitorFrom(ctx, req.group);
            for (let seen = 0; seen < max;) {
              const m = await ctx.receive();
              if (!isPgMessage(m) || m.event.kind === 'overflow') continue;
              const atNs = clockNs();
              const members = pg.members(req.group);
              const inMembers = m.event.kind !== 'join' || m.event.pids.every((p) => members.some((q) => q.equals(p)));
              ctx.send(req.to, { type: 'pg-seen', kind: m.event.kind, atNs, inMembers } satisfies PgSeen);
              seen++;
            }
          });
          return { reply: watcher, state };
        }
        case 'memory': {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (req.gc === true) gc?.();
          return { reply: { ...process.memoryUsage(), gcRan: req.gc === true && gc !== undefined }, state };
        }
      }
    },
    handleInfo(message, state, ctx) {
      const m = message as Partial<WhoAmI>;
      if (!isCall(message) && m.type === 'whoami' && m.from !== undefined)
        ctx.send(m.from, { type: 'iam', pid: ctx.self });
      return { state };
    },
  };
  return startServer(node, behaviour, undefined, { name: ADMIN_NAME });
}
