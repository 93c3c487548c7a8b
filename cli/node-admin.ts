// The admin process every `troupe node` runs, registered as `troupe` under a supervisor: it
// answers status calls and tells remote callers its pid. Every request is validated and answered
// (a bad one with a typed AdminError); a reply that cannot be queued (the caller's link is full)
// is dropped and counted, never thrown; a crash restarts it.
import {
  isCall,
  startServer,
  startSupervisor,
  type From,
  type Node,
  type Pid,
  type ProcessContext,
  type ServerBehaviour,
} from '../runtime/index.js';
import type { Internode } from '../internode/index.js';
import type { ProcessGroups } from '../pg/index.js';
import type { EventualRegistry } from '../registry/index.js';
import type { RaftHost } from '../raft/host/index.js';
import {
  ADMIN_NAME,
  adminError,
  badRequest,
  requestObject,
  stringField,
  type AdminInfo,
  type WhoAmI,
} from './admin-protocol.js';

export { ADMIN_NAME, isAdminError, type AdminError, type AdminInfo, type AdminRequest } from './admin-protocol.js';

export interface AdminDeps {
  readonly pg?: ProcessGroups;
  readonly names?: EventualRegistry;
  readonly raft?: RaftHost;
  /** More operations (the benchmark/test ones, behind --bench-admin): return undefined when `op` is not theirs. */
  readonly extra?: (request: Record<string, unknown> & { op: string }, from: From, ctx: ProcessContext) => unknown;
}

/** The admin process's own counters (read through the `stats` op). */
export interface AdminCounters {
  requests: number;
  badRequests: number;
  /** Replies dropped because the caller's link had no room (back-pressure), or it was gone. */
  repliesDropped: number;
  restarts: number;
}

/** Restarts within ADMIN_RESTART_PERIOD_MS past which the supervisor gives up (a crash loop). */
export const ADMIN_RESTART_INTENSITY = 20;
export const ADMIN_RESTART_PERIOD_MS = 10_000;

function serve(
  node: Node,
  net: Internode,
  deps: AdminDeps,
  counters: AdminCounters,
  request: unknown,
  from: From,
  ctx: ProcessContext,
): unknown {
  const req = requestObject(request);
  switch (req.op) {
    case 'info':
      return {
        node: node.name,
        incarnation: node.incarnation,
        address: net.address,
        members: net.members(),
        processes: node.stats().processes,
      } satisfies AdminInfo;
    case 'ping':
      return 'pong';
    case 'echo':
      return req.value ?? null;
    case 'pg-members':
      return deps.pg?.members(stringField(req, 'group')) ?? [];
    case 'whereis':
      return deps.names?.whereis(stringField(req, 'name')) ?? null;
    case 'names-count':
      return deps.names?.size ?? 0;
    case 'raft':
      return deps.raft === undefined
        ? null
        : { founders: deps.raft.founders, counters: { ...deps.raft.counters }, groups: deps.raft.statusAll() };
    case 'stats':
      return {
        net: net.stats(),
        runtime: node.stats(),
        names: deps.names?.counters() ?? null,
        admin: { ...counters },
      };
    default: {
      const reply = deps.extra?.(req, from, ctx);
      if (reply === undefined) throw badRequest(`unknown op ${JSON.stringify(req.op.slice(0, 64))}`);
      return reply;
    }
  }
}

/** Starts the supervised admin process; resolves with the supervisor's pid. */
export async function startAdmin(
  node: Node,
  net: Internode,
  deps: AdminDeps = {},
): Promise<{
  supervisor: Pid;
  counters: AdminCounters;
}> {
  const counters: AdminCounters = { requests: 0, badRequests: 0, repliesDropped: 0, restarts: -1 };
  const reply = (ctx: ProcessContext, from: From, value: unknown): void => {
    try {
      ctx.reply(from, value);
    } catch {
      counters.repliesDropped++;
    }
  };
  const behaviour: ServerBehaviour<null, void, unknown, unknown> = {
    init: () => {
      counters.restarts++;
      return null;
    },
    async handleCall(request, from, state, ctx) {
      counters.requests++;
      let value: unknown;
      try {
        value = await serve(node, net, deps, counters, request, from, ctx);
      } catch (error) {
        counters.badRequests++;
        value = adminError(error);
      }
      reply(ctx, from, value);
      return { noreply: true, state };
    },
    handleInfo(message, state, ctx) {
      const m = message as Partial<WhoAmI> | null;
      if (!isCall(message) && typeof m === 'object' && m !== null && m.type === 'whoami' && m.from !== undefined) {
        try {
          ctx.send(m.from, { type: 'iam', pid: ctx.self });
        } catch {
          counters.repliesDropped++;
        }
      }
      return { state };
    },
  };
  const supervisor = await startSupervisor(node, {
    strategy: 'one_for_one',
    intensity: ADMIN_RESTART_INTENSITY,
    periodMs: ADMIN_RESTART_PERIOD_MS,
    children: [
      {
        id: 'admin',
        restart: 'permanent',
        start: (sup) => startServer(sup, behaviour, undefined, { link: true, name: ADMIN_NAME }),
      },
    ],
  });
  return { supervisor, counters };
}
