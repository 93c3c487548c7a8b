// A supervisor in the manner of OTP's: it starts children in order, restarts them by strategy
// and restart type, gives up (exits 'shutdown') past its restart intensity, and shuts children
// down in reverse order.
import { TroupeError } from './errors.js';
import { DEFAULT_CHILD_SHUTDOWN_MS, DEFAULT_RESTART_INTENSITY, DEFAULT_RESTART_PERIOD_MS } from './limits.js';
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
}

export interface ChildInfo {
  readonly id: string;
  readonly pid: Pid | undefined;
  readonly restart: RestartType;
}

interface Child {
  readonly spec: ChildSpec;
  pid: Pid | undefined;
}

interface SupState {
  readonly spec: SupervisorSpec;
  children: Child[];
  restarts: number[];
}

type SupRequest = { readonly op: 'which_children' };

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
}

async function startChild(ctx: ProcessContext, child: Child): Promise<void> {
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

const behaviour: ServerBehaviour<SupState, SupervisorSpec, SupRequest, ChildInfo[]> = {
  async init(spec, ctx) {
    const children: Child[] = spec.children.map((s) => ({ spec: s, pid: undefined }));
    for (let i = 0; i < children.length; i++) {
      try {
        await startChild(ctx, children[i]!);
      } catch (err) {
        await stopAll(ctx, children.slice(0, i));
        throw new TroupeError('ERR_SUPERVISOR', `child ${children[i]!.spec.id} failed to start`, { cause: err });
      }
    }
    return { spec, children, restarts: [] };
  },

  handleCall(request, _from, state): CallResult<SupState, ChildInfo[]> {
    if (request.op === 'which_children') {
      return {
        reply: state.children.map((c) => ({ id: c.spec.id, pid: c.pid, restart: c.spec.restart ?? 'permanent' })),
        state,
      };
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
      if (restart === 'temporary') state.children.splice(index, 1);
      return { state };
    }
    return restartFrom(ctx, state, index);
  },

  async terminate(_reason, state, ctx) {
    await stopAll(ctx, state.children);
  },
};

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
      for (const child of affected) await startChild(ctx, child);
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
