// A supervisor in the manner of OTP's: it starts children in order, restarts them by strategy
// and restart type, gives up (exits 'shutdown') past its restart intensity, and shuts children
// down in reverse order. Children may also be started and terminated on a running supervisor
// (`startChild`/`terminateChild`, like OTP's DynamicSupervisor), up to `maxChildren`.
import { TroupeError, type ErrorCode } from './errors.js';
import {
  DEFAULT_CHILD_SHUTDOWN_MS,
  DEFAULT_MAX_CHILDREN,
  DEFAULT_RESTART_INTENSITY,
  DEFAULT_RESTART_PERIOD_MS,
  MAX_SUPERVISOR_CHILDREN,
} from './limits.js';
import { isDown, isExit } from './messages.js';
import type { Node } from './node.js';
import type { Pid } from './pid.js';
import type { CallTarget, ProcessContext } from './process.js';
import { isCleanExit, type ExitReason } from './reason.js';
import { startServer, type CallResult, type CastResult, type ServerBehaviour } from './server.js';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
/** permanent: always restarted; transient: restarted after an abnormal exit; temporary: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface ChildSpec {
  readonly id: string;
  /** Starts the child and returns its pid; the supervisor links to it (spawnLink is fine too). */
  readonly start: (supervisor: ProcessContext) => Pid | Promise<Pid>;
  readonly restart?: RestartType;
  /** Milliseconds to wait after `shutdown` before killing, or 'brutal_kill'. */
  readonly shutdown?: number | 'brutal_kill';
}

export interface SupervisorSpec {
  readonly strategy: Strategy;
  /** More than `intensity` restarts within `periodMs` and the supervisor gives up. */
  readonly intensity?: number;
  readonly periodMs?: number;
  readonly children: readonly ChildSpec[];
  /**
   * Most children (static and started by `startChild`) the supervisor holds; `startChild` past it
   * is ERR_LIMIT. Default DEFAULT_MAX_CHILDREN, at most MAX_SUPERVISOR_CHILDREN.
   */
  readonly maxChildren?: number;
}

export interface ChildInfo {
  readonly id: string;
  readonly pid: Pid | undefined;
  readonly restart: RestartType;
}

interface Child {
  readonly spec: ChildSpec;
  pid: Pid | undefined;
  /** Started by startChild: removed, not kept, once it exits for good. */
  readonly dynamic: boolean;
}

interface SupState {
  readonly spec: SupervisorSpec;
  children: Child[];
  restarts: number[];
}

type SupRequest =
  | { readonly op: 'which_children' }
  | { readonly op: 'start_child'; readonly token: string }
  | { readonly op: 'terminate_child'; readonly id: string };

/** What start_child and terminate_child answer (a reply is a message: the error travels as its code). */
type SupReply =
  | ChildInfo[]
  | { readonly ok: true; readonly pid?: Pid }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

// A child spec holds functions, which no message may: startChild leaves it here under a token
// that the (local) supervisor redeems.
const pendingSpecs = new Map<string, ChildSpec>();
let nextToken = 0;

function checkChildSpec(spec: unknown): asserts spec is ChildSpec {
  const s = spec as Partial<ChildSpec> | null;
  if (typeof s !== 'object' || s === null || typeof s.id !== 'string' || s.id.length === 0)
    throw new TroupeError('ERR_BAD_ARGUMENT', 'a child spec needs an id (a non-empty string)');
  if (typeof s.start !== 'function') throw new TroupeError('ERR_BAD_ARGUMENT', `child ${s.id} needs a start function`);
}

function validate(spec: SupervisorSpec): void {
  const ids = new Set<string>();
  for (const c of spec.children) {
    if (ids.has(c.id)) throw new TroupeError('ERR_SUPERVISOR', `duplicate child id ${c.id}`);
    ids.add(c.id);
  }
  const intensity = spec.intensity ?? DEFAULT_RESTART_INTENSITY;
  const period = spec.periodMs ?? DEFAULT_RESTART_PERIOD_MS;
  if (!Number.isInteger(intensity) || intensity < 0)
    throw new TroupeError('ERR_SUPERVISOR', 'intensity must be an integer >= 0');
  if (!(period > 0)) throw new TroupeError('ERR_SUPERVISOR', 'periodMs must be > 0');
  const max = spec.maxChildren ?? DEFAULT_MAX_CHILDREN;
  if (!Number.isInteger(max) || max < 0 || max > MAX_SUPERVISOR_CHILDREN)
    throw new TroupeError('ERR_SUPERVISOR', `maxChildren must be an integer in 0..${MAX_SUPERVISOR_CHILDREN}`);
  if (spec.children.length > max)
    throw new TroupeError('ERR_SUPERVISOR', `${spec.children.length} children exceed maxChildren ${max}`);
}

async function launch(ctx: ProcessContext, child: Child): Promise<void> {
  const pid = await child.spec.start(ctx);
  ctx.link(pid);
  child.pid = pid;
}

async function stopChild(ctx: ProcessContext, child: Child): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  child.pid = undefined;
  const ref = ctx.monitor(pid);
  ctx.unlink(pid);
  const shutdown = child.spec.shutdown ?? DEFAULT_CHILD_SHUTDOWN_MS;
  const isOurDown = (m: unknown): boolean => isDown(m) && m.ref === ref;
  if (shutdown === 'brutal_kill') {
    ctx.exit(pid, 'kill');
    await ctx.receive(isOurDown);
  } else {
    ctx.exit(pid, 'shutdown');
    try {
      await ctx.receive(isOurDown, { timeout: shutdown });
    } catch {
      ctx.exit(pid, 'kill');
      await ctx.receive(isOurDown);
    }
  }
  // An EXIT the child sent before the unlink may already be queued: it must not look like a crash.
  const fromChild = (m: unknown): boolean => isExit(m) && m.from !== undefined && m.from.equals(pid);
  for (;;) {
    try {
      await ctx.receive(fromChild, { timeout: 0 });
    } catch {
      break;
    }
  }
}

async function stopAll(ctx: ProcessContext, children: readonly Child[]): Promise<void> {
  for (let i = children.length - 1; i >= 0; i--) await stopChild(ctx, children[i]!);
}

function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'temporary') return false;
  return !isCleanExit(reason);
}

const behaviour: ServerBehaviour<SupState, SupervisorSpec, SupRequest, SupReply> = {
  async init(spec, ctx) {
    const children: Child[] = spec.children.map((s) => ({ spec: s, pid: undefined, dynamic: false }));
    for (let i = 0; i < children.length; i++) {
      try {
        await launch(ctx, children[i]!);
      } catch (err) {
        await stopAll(ctx, children.slice(0, i));
        throw new TroupeError('ERR_SUPERVISOR', `child ${children[i]!.spec.id} failed to start`, { cause: err });
      }
    }
    return { spec, children, restarts: [] };
  },

  async handleCall(request, _from, state, ctx): Promise<CallResult<SupState, SupReply>> {
    if (request.op === 'which_children') {
      return {
        reply: state.children.map((c) => ({ id: c.spec.id, pid: c.pid, restart: c.spec.restart ?? 'permanent' })),
        state,
      };
    }
    if (request.op === 'start_child') return { reply: await startDynamic(ctx, state, request.token), state };
    if (request.op === 'terminate_child') {
      const index = state.children.findIndex((c) => c.spec.id === request.id);
      if (index < 0) return { reply: refusal('ERR_SUPERVISOR', `no child with id ${request.id}`), state };
      const child = state.children[index]!;
      state.children.splice(index, 1);
      await stopChild(ctx, child);
      return { reply: { ok: true }, state };
    }
    return { reply: [], state };
  },

  async handleInfo(message, state, ctx): Promise<CastResult<SupState>> {
    if (!isExit(message) || message.from === undefined) return { state };
    const from = message.from;
    const index = state.children.findIndex((c) => c.pid !== undefined && c.pid.equals(from));
    if (index < 0) return { state }; // an EXIT from a process we no longer supervise
    const child = state.children[index]!;
    child.pid = undefined;
    const restart = child.spec.restart ?? 'permanent';
    if (!shouldRestart(restart, message.reason)) {
      if (restart === 'temporary' || child.dynamic) state.children.splice(index, 1);
      return { state };
    }
    return restartFrom(ctx, state, index);
  },

  async terminate(_reason, state, ctx) {
    await stopAll(ctx, state.children);
  },
};

function refusal(code: ErrorCode, message: string): SupReply {
  return { ok: false, code, message };
}

async function startDynamic(ctx: ProcessContext, state: SupState, token: string): Promise<SupReply> {
  const spec = pendingSpecs.get(token);
  pendingSpecs.delete(token);
  if (spec === undefined) return refusal('ERR_BAD_ARGUMENT', 'the child spec is gone (the caller gave up)');
  if (state.children.some((c) => c.spec.id === spec.id))
    return refusal('ERR_SUPERVISOR', `a child with id ${spec.id} is already present`);
  const max = state.spec.maxChildren ?? DEFAULT_MAX_CHILDREN;
  if (state.children.length >= max)
    return refusal('ERR_LIMIT', `the supervisor holds ${max} children (maxChildren); ${spec.id} not started`);
  const child: Child = { spec, pid: undefined, dynamic: true };
  try {
    await launch(ctx, child);
  } catch (err) {
    return refusal(
      'ERR_SUPERVISOR',
      `child ${spec.id} failed to start: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  state.children.push(child);
  return { ok: true, pid: child.pid! };
}

// Records a restart against the intensity and restarts per strategy; a child that fails to
// start counts as another restart, so a child that cannot start ends in 'shutdown' too.
async function restartFrom(ctx: ProcessContext, state: SupState, index: number): Promise<CastResult<SupState>> {
  for (;;) {
    const now = ctx.node.clock.now();
    const period = state.spec.periodMs ?? DEFAULT_RESTART_PERIOD_MS;
    state.restarts = state.restarts.filter((t) => now - t < period);
    state.restarts.push(now);
    if (state.restarts.length > (state.spec.intensity ?? DEFAULT_RESTART_INTENSITY)) {
      ctx.node.logger.error(
        { supervisor: ctx.self.toString() },
        'supervisor reached its restart intensity; shutting down',
      );
      return { stop: 'shutdown', state };
    }
    const strategy = state.spec.strategy;
    const affected =
      strategy === 'one_for_one'
        ? [state.children[index]!]
        : strategy === 'one_for_all'
          ? state.children
          : state.children.slice(index);
    await stopAll(ctx, affected);
    try {
      for (const child of affected) await launch(ctx, child);
      return { state };
    } catch (err) {
      ctx.node.logger.error({ supervisor: ctx.self.toString(), err }, 'child failed to restart');
    }
  }
}

export interface StartSupervisorOptions {
  readonly name?: string;
  readonly link?: boolean;
}

/** Starts a supervisor; resolves with its pid once every child has started. */
export function startSupervisor(
  spawner: Node | ProcessContext,
  spec: SupervisorSpec,
  opts: StartSupervisorOptions = {},
): Promise<Pid> {
  try {
    validate(spec);
  } catch (err) {
    return Promise.reject(err);
  }
  return startServer(spawner, behaviour, spec, { ...opts, trapExit: true });
}

/** The children of a supervisor, in start order. */
export function whichChildren(caller: Node | ProcessContext, supervisor: CallTarget): Promise<ChildInfo[]> {
  return caller.call<ChildInfo[]>(supervisor, { op: 'which_children' } satisfies SupRequest);
}

function answer(reply: SupReply): { ok: true; pid?: Pid } {
  if (Array.isArray(reply)) throw new TroupeError('ERR_BAD_ARGUMENT', 'not a supervisor');
  if (!reply.ok) throw new TroupeError(reply.code, reply.message);
  return reply;
}

/**
 * Starts a child on a running supervisor of this node (OTP's DynamicSupervisor.start_child); it
 * is supervised like the others, after them in order, and removed once it exits without being
 * restarted. Resolves with its pid. ERR_LIMIT when the supervisor holds `maxChildren`;
 * ERR_SUPERVISOR for an id already present or a child whose start fails; ERR_BAD_ARGUMENT for a
 * bad spec or a supervisor of another node (a spec holds functions, which do not travel).
 */
export async function startChild(caller: Node | ProcessContext, supervisor: CallTarget, spec: ChildSpec): Promise<Pid> {
  checkChildSpec(spec);
  const node = 'self' in caller ? caller.node : caller;
  const remote = typeof supervisor !== 'string' && supervisor.node !== node.name;
  if (remote) throw new TroupeError('ERR_BAD_ARGUMENT', 'startChild needs a supervisor on this node');
  const token = `${node.name}:${++nextToken}`;
  pendingSpecs.set(token, spec);
  try {
    const reply = await caller.call<SupReply>(supervisor, { op: 'start_child', token } satisfies SupRequest);
    return answer(reply).pid!;
  } finally {
    pendingSpecs.delete(token);
  }
}

/**
 * Stops the child `id` (its shutdown as in the spec) and removes it from the supervisor, static
 * or dynamic (OTP's terminate_child then delete_child). ERR_SUPERVISOR when no child has that id.
 */
export async function terminateChild(caller: Node | ProcessContext, supervisor: CallTarget, id: string): Promise<void> {
  answer(await caller.call<SupReply>(supervisor, { op: 'terminate_child', id } satisfies SupRequest));
}
