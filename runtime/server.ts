// A server behaviour in the manner of gen_server: init, handleCall, handleCast, handleInfo and
// terminate around a receive loop, started with `startServer`.
import { TroupeError } from './errors.js';
import { isCall, isCast, isExit, type From } from './messages.js';
import type { Node } from './node.js';
import type { Pid } from './pid.js';
import type { ProcessContext } from './process.js';
import type { ExitReason } from './reason.js';
import type { OverflowPolicy } from './process.js';

type Awaitable<T> = T | Promise<T>;

export type CallResult<S, Res> =
  | { readonly reply: Res; readonly state: S }
  | { readonly noreply: true; readonly state: S }
  | { readonly stop: ExitReason; readonly reply?: Res; readonly state: S };

export type CastResult<S> = { readonly state: S } | { readonly stop: ExitReason; readonly state: S };

export interface ServerBehaviour<S, Args = void, Req = unknown, Res = unknown, Cast = unknown> {
  init(args: Args, ctx: ProcessContext): Awaitable<S>;
  handleCall?(request: Req, from: From, state: S, ctx: ProcessContext): Awaitable<CallResult<S, Res>>;
  handleCast?(message: Cast, state: S, ctx: ProcessContext): Awaitable<CastResult<S>>;
  /** Any other message: DOWN, EXIT (when trapping, except the parent's), plain sends. */
  handleInfo?(message: unknown, state: S, ctx: ProcessContext): Awaitable<CastResult<S>>;
  /**
   * Called when the server stops by its own choice, by an error in a callback, or on its parent's exit
   * while trapping.
   */
  terminate?(reason: ExitReason, state: S, ctx: ProcessContext): Awaitable<void>;
}

export interface StartServerOptions {
  readonly name?: string;
  /** Link the server to the spawning process (needs a ProcessContext spawner). */
  readonly link?: boolean;
  /** Trap exits, so terminate runs when the parent exits. */
  readonly trapExit?: boolean;
  readonly mailboxLimit?: number;
  readonly overflow?: OverflowPolicy;
}

/**
 * Starts a server and resolves with its pid once `init` has returned; rejects with init's error
 * (the process then exits with it).
 */
export function startServer<S, Args = void, Req = unknown, Res = unknown, Cast = unknown>(
  spawner: Node | ProcessContext,
  behaviour: ServerBehaviour<S, Args, Req, Res, Cast>,
  args: Args,
  opts: StartServerOptions = {},
): Promise<Pid> {
  if (opts.link === true && !('self' in spawner)) {
    return Promise.reject(new TroupeError('ERR_BAD_ARGUMENT', 'link: true needs a process context as the spawner'));
  }
  const parent = 'self' in spawner ? spawner.self : undefined;
  return new Promise<Pid>((resolve, reject) => {
    const body = async (ctx: ProcessContext): Promise<void> => {
      let state: S;
      try {
        state = await behaviour.init(args, ctx);
      } catch (err) {
        reject(err);
        throw err;
      }
      resolve(ctx.self);
      const reason = await serve(behaviour, ctx, state, parent);
      if (reason !== 'normal') ctx.exitSelf(reason);
    };
    const spawnOpts = {
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.mailboxLimit !== undefined ? { mailboxLimit: opts.mailboxLimit } : {}),
      ...(opts.overflow !== undefined ? { overflow: opts.overflow } : {}),
      trapExit: opts.trapExit ?? false,
    };
    try {
      if (!('self' in spawner)) spawner.spawn(body, spawnOpts);
      else if (opts.link === true) spawner.spawnLink(body, spawnOpts);
      else spawner.spawn(body, spawnOpts);
    } catch (err) {
      reject(err);
    }
  });
}

async function serve<S, Args, Req, Res, Cast>(
  b: ServerBehaviour<S, Args, Req, Res, Cast>,
  ctx: ProcessContext,
  initial: S,
  parent: Pid | undefined,
): Promise<ExitReason> {
  let state = initial;
  for (;;) {
    const message = await ctx.receive();
    try {
      if (isCall(message)) {
        if (b.handleCall === undefined) throw new TroupeError('ERR_BAD_ARGUMENT', 'this server has no handleCall');
        const r = await b.handleCall(message.request as Req, message.from, state, ctx);
        state = r.state;
        if ('reply' in r && r.reply !== undefined) ctx.reply(message.from, r.reply);
        if ('stop' in r) return await stopWith(b, ctx, r.stop, state);
      } else if (isCast(message)) {
        if (b.handleCast === undefined) continue;
        const r = await b.handleCast(message.message as Cast, state, ctx);
        state = r.state;
        if ('stop' in r) return await stopWith(b, ctx, r.stop, state);
      } else if (
        isExit(message) &&
        (message.from === undefined || (parent !== undefined && message.from.equals(parent)))
      ) {
        // The parent (or the node, on stop) told a trapping server to go: terminate, then exit alike.
        return await stopWith(b, ctx, message.reason, state);
      } else if (b.handleInfo !== undefined) {
        const r = await b.handleInfo(message, state, ctx);
        state = r.state;
        if ('stop' in r) return await stopWith(b, ctx, r.stop, state);
      }
    } catch (err) {
      if (ctx.signal.aborted) throw err; // already exited by a signal: unwind
      await b.terminate?.(err as ExitReason, state, ctx);
      throw err;
    }
  }
}

async function stopWith<S, Args, Req, Res, Cast>(
  b: ServerBehaviour<S, Args, Req, Res, Cast>,
  ctx: ProcessContext,
  reason: ExitReason,
  state: S,
): Promise<ExitReason> {
  await b.terminate?.(reason, state, ctx);
  return reason;
}
