// One process: its mailbox, its links and monitors, and the context its function receives.
// The cross-process rules (signals, links, monitors) live in node.ts; this file holds the
// per-process state and the receive machinery.
import { TroupeError, isTroupeError } from './errors.js';
import { Mailbox, type Match } from './mailbox.js';
import { isDown, isReply, type From, type Ref, type RemoteName } from './messages.js';
import { Pid } from './pid.js';
import type { ExitReason } from './reason.js';
import type { Node, SendTarget, SpawnOptions } from './node.js';
import { DEFAULT_CALL_TIMEOUT_MS, MAX_SEND_WAITERS } from './limits.js';
import { validateMessage } from './codec.js';

export type OverflowPolicy = 'drop-newest' | 'drop-oldest' | 'exit';

export interface ReceiveOptions {
  /** Milliseconds to wait (on the node's clock) before rejecting with ERR_TIMEOUT. 0 = only look. */
  readonly timeout?: number;
  /** Aborting rejects the pending receive with ERR_ABORTED. */
  readonly signal?: AbortSignal;
}

/**
 * Who a call or cast goes to: a pid, a local registered name, or a name registered on another
 * node (`{ node, name }`, like gen_server:call({Name, Node}, …)).
 */
export type CallTarget = Pid | string | RemoteName;

export interface SendAwaitOptions {
  /** Aborting gives up the wait with ERR_ABORTED (the message is not sent). */
  readonly signal?: AbortSignal;
}

export interface CallOptions {
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

/** What a process function gets: its own pid and the operations a process can perform. */
export interface ProcessContext<M = unknown> {
  readonly self: Pid<M>;
  readonly node: Node;
  /** Aborted when this process exits, so async work it started can stop. */
  readonly signal: AbortSignal;
  /** The next message (FIFO), waiting if none is there. */
  receive(opts?: ReceiveOptions): Promise<M>;
  /** The first message matching, leaving the others in their order. */
  receive<T>(match: (message: unknown) => message is T, opts?: ReceiveOptions): Promise<T>;
  receive(match: Match, opts?: ReceiveOptions): Promise<unknown>;
  /** A pid's message type is checked; a name or `{ node, name }` takes anything. */
  send<T = unknown>(to: Pid<T> | Exclude<SendTarget, Pid>, message: NoInfer<T>): void;
  /**
   * A send that waits for room instead of dropping (a local mailbox at its limit) or failing
   * (ERR_BACKPRESSURE from a remote link's queue); awaitable sends to one target keep their order.
   * Resolves once the message is in the mailbox (or queued on the link); a target that exits
   * while it waits resolves it too (a send to a dead pid is not an error). Aborted by `signal`,
   * or by this process exiting: ERR_ABORTED. ERR_LIMIT when MAX_SEND_WAITERS already wait.
   */
  sendAwait<T = unknown>(
    to: Pid<T> | Exclude<SendTarget, Pid>,
    message: NoInfer<T>,
    opts?: SendAwaitOptions,
  ): Promise<void>;
  spawn<N = unknown>(fn: ProcessFunction<N>, opts?: SpawnOptions): Pid<N>;
  spawnLink<N = unknown>(fn: ProcessFunction<N>, opts?: SpawnOptions): Pid<N>;
  spawnMonitor<N = unknown>(fn: ProcessFunction<N>, opts?: SpawnOptions): { pid: Pid<N>; ref: Ref };
  /**
   * Monitors a pid, a local name or `{ node, name }` (resolved where the name lives). A name that
   * nobody holds gives DOWN noproc at once; the DOWN of a name that never resolved carries this
   * process's own pid (there is no other pid to name).
   */
  monitor(target: Pid | string | RemoteName): Ref;
  /** Removes a monitor; with `flush`, also removes its DOWN if already delivered. False if it was not active. */
  demonitor(ref: Ref, opts?: { flush?: boolean }): boolean;
  link(target: Pid): void;
  unlink(target: Pid): void;
  /** Turns exit trapping on or off; returns the previous setting. */
  trapExit(on: boolean): boolean;
  exit(target: Pid, reason: ExitReason): void;
  /** Ends this process now with `reason` (Erlang's exit/1; not trappable, unlike exit(self, …)). */
  exitSelf(reason: ExitReason): never;
  /** Request/reply guarded by a monitor, like gen_server:call. */
  /** A target that is not a pid or a name is ERR_BAD_ARGUMENT at once; a timeout says what and how long. */
  call<Res = unknown>(to: CallTarget, request: unknown, opts?: CallOptions): Promise<Res>;
  cast(to: CallTarget, message: unknown): void;
  reply(from: From, value: unknown): void;
}

export type ProcessFunction<M = unknown> = (ctx: ProcessContext<M>) => Promise<unknown> | unknown;

/** Error thrown into a process's pending receive (and any later call) once it has exited. */
export class ProcessExitedError extends TroupeError {
  readonly reason: ExitReason;
  constructor(pid: Pid, reason: ExitReason) {
    super('ERR_EXITED', `process ${pid.toString()} has exited`);
    this.reason = reason;
  }
}

/** A call whose callee exited (or never existed, or lost its node) before replying. */
export class CallError extends TroupeError {
  readonly reason: ExitReason;
  constructor(target: CallTarget, reason: ExitReason) {
    const code =
      reason === 'noproc' ? 'ERR_NOPROC' : reason === 'noconnection' ? 'ERR_NOCONNECTION' : 'ERR_CALLEE_EXITED';
    const what = typeof target === 'object' && !(target instanceof Pid) ? describeTarget(target) : target.toString();
    super(code, `call to ${what} failed: ${typeof reason === 'string' ? reason : reason.message}`, {
      cause: reason,
    });
    this.reason = reason;
  }
}

/**
 * A monitor this process holds on another. `local` is set when the target is on this node; a
 * monitor of a name on another node holds that name (its pid is known only to that node).
 */
export interface HeldMonitor {
  readonly target: Pid | RemoteName;
  readonly local: Proc | null;
}

/** Who is told when a process exits: a local process, a host callback, or a remote pid. */
export type Watcher = Proc | ((reason: ExitReason) => void) | Pid;

/** An awaitable send waiting for room in this process's mailbox. */
interface SendWaiter {
  readonly message: unknown;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Proc implements ProcessContext {
  readonly node: Node;
  readonly self: Pid;
  readonly parent: Proc | null;
  readonly mailbox = new Mailbox();
  mailboxLimit: number;
  overflow: OverflowPolicy;
  trapping: boolean;
  alive = true;
  exitReason: ExitReason | undefined;
  name: string | null = null;
  links: Set<Proc> | null = null;
  remoteLinks: Map<string, Pid> | null = null;
  monitors: Map<Ref, HeldMonitor> | null = null;
  monitoredBy: Map<Ref, Watcher> | null = null;
  pendingCalls: Set<Ref> | null = null;
  /** Awaitable sends waiting for room, in arrival order (only while the mailbox is full). */
  sendWaiters: SendWaiter[] | null = null;
  /** Entered in the node's per-remote-node index (a remote link or monitor, either way). */
  remote = false;
  #abort: AbortController | null = null;
  // The pending receive, kept as fields (not an object) to stay small and fast.
  #waitMatch: Match | undefined = undefined;
  #waitResolve: ((m: unknown) => void) | null = null;
  #waitReject: ((e: unknown) => void) | null = null;
  #waitCleanup: (() => void) | null = null;

  constructor(
    node: Node,
    self: Pid,
    parent: Proc | null,
    mailboxLimit: number,
    overflow: OverflowPolicy,
    trapping: boolean,
  ) {
    this.node = node;
    this.self = self;
    this.parent = parent;
    this.mailboxLimit = mailboxLimit;
    this.overflow = overflow;
    this.trapping = trapping;
  }

  get waiting(): boolean {
    return this.#waitResolve !== null;
  }

  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      if (!this.alive) this.#abort.abort(this.exitReason);
    }
    return this.#abort.signal;
  }

  /**
   * Hands a message to a pending receive if it matches, else appends it. Returns false when
   * the mailbox is full and the policy drops this message. Called by the node only.
   */
  accept(message: unknown): boolean {
    if (this.#waitResolve !== null && this.#handOver(message)) return true;
    if (this.mailbox.length >= this.mailboxLimit) {
      if (this.overflow === 'drop-newest') return false;
      if (this.overflow === 'drop-oldest') {
        this.mailbox.shift();
        this.mailbox.push(message);
        return false;
      }
      return false; // 'exit': the node terminates this process after counting the drop
    }
    this.mailbox.push(message);
    return true;
  }

  // Gives a message to the pending receive if it matches.
  #handOver(message: unknown): boolean {
    const resolve = this.#waitResolve!;
    const match = this.#waitMatch;
    if (match !== undefined) {
      try {
        if (!match(message)) return false;
      } catch (err) {
        // A throwing predicate fails the receive; the message stays for a later one.
        this.#failWait(err);
        return false;
      }
    }
    this.#clearWait();
    resolve(message);
    return true;
  }

  /**
   * An awaitable send: the message goes to the pending receive or into the mailbox if there is
   * room and nobody waits ahead of it; else it waits (FIFO) for room. Called by the node only.
   */
  enqueueWhenRoom(message: unknown, signal: AbortSignal | undefined): Promise<void> {
    if (this.#waitResolve !== null && this.#handOver(message)) return Promise.resolve();
    const waiters = (this.sendWaiters ??= []);
    if (waiters.length === 0 && this.mailbox.length < this.mailboxLimit) {
      this.mailbox.push(message);
      return Promise.resolve();
    }
    if (waiters.length >= MAX_SEND_WAITERS) {
      return Promise.reject(
        new TroupeError('ERR_LIMIT', `${MAX_SEND_WAITERS} sends already wait for room in ${this.self.toString()}`),
      );
    }
    if (signal?.aborted) return Promise.reject(abortedSend(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.sendWaiters?.indexOf(waiter) ?? -1;
        if (i >= 0) this.sendWaiters!.splice(i, 1);
        reject(abortedSend(signal));
      };
      const waiter: SendWaiter = {
        message,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });
  }

  // Room freed in the mailbox: waiting sends move in, oldest first.
  #admit(): void {
    const waiters = this.sendWaiters;
    if (waiters === null || waiters.length === 0) return;
    let n = 0;
    while (n < waiters.length && this.mailbox.length < this.mailboxLimit) this.mailbox.push(waiters[n++]!.message);
    for (const w of waiters.splice(0, n)) w.resolve();
  }

  // A selective receive that finds nothing in a full mailbox may take a waiting send's message
  // (it comes after every message in the mailbox): a receiver never deadlocks on its own limit.
  #takeWaiting(match: Match): { message: unknown } | undefined {
    const waiters = this.sendWaiters;
    if (waiters === null) return undefined;
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (match(w.message)) {
        waiters.splice(i, 1);
        w.resolve();
        return { message: w.message };
      }
    }
    return undefined;
  }

  receive(a?: Match | ReceiveOptions, b?: ReceiveOptions): Promise<never> {
    const match = typeof a === 'function' ? a : undefined;
    const opts = typeof a === 'function' ? b : a;
    if (!this.alive) return Promise.reject(new ProcessExitedError(this.self, this.exitReason ?? 'normal'));
    if (this.#waitResolve !== null) {
      return Promise.reject(new TroupeError('ERR_RECEIVE_PENDING', 'a process can wait in only one receive at a time'));
    }
    const mb = this.mailbox;
    if (mb.length > 0) {
      if (match === undefined) {
        const m = mb.shift();
        this.#admit();
        return Promise.resolve(m as never);
      }
      let at: number;
      let waiting: { message: unknown } | undefined;
      try {
        at = mb.find(match);
        if (at < 0) waiting = this.#takeWaiting(match);
      } catch (err) {
        return Promise.reject(err);
      }
      if (at >= 0) {
        const m = mb.takeAt(at);
        this.#admit();
        return Promise.resolve(m as never);
      }
      if (waiting !== undefined) return Promise.resolve(waiting.message as never);
    }
    const timeout = opts?.timeout;
    if (timeout !== undefined && timeout <= 0) return Promise.reject(timeoutError());
    const signal = opts?.signal;
    if (signal?.aborted)
      return Promise.reject(new TroupeError('ERR_ABORTED', 'receive aborted', { cause: signal.reason }));
    return new Promise<never>((resolve, reject) => {
      this.#waitMatch = match;
      this.#waitResolve = resolve as (m: unknown) => void;
      this.#waitReject = reject;
      if (timeout !== undefined || signal !== undefined) {
        const timer =
          timeout !== undefined ? this.node.clock.setTimer(timeout, () => this.#failWait(timeoutError())) : undefined;
        const onAbort = (): void =>
          this.#failWait(new TroupeError('ERR_ABORTED', 'receive aborted', { cause: signal?.reason }));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waitCleanup = () => {
          timer?.cancel();
          signal?.removeEventListener('abort', onAbort);
        };
      }
    });
  }

  #clearWait(): void {
    this.#waitResolve = null;
    this.#waitReject = null;
    this.#waitMatch = undefined;
    if (this.#waitCleanup !== null) {
      this.#waitCleanup();
      this.#waitCleanup = null;
    }
  }

  #failWait(err: unknown): void {
    const reject = this.#waitReject;
    if (reject === null) return;
    this.#clearWait();
    reject(err);
  }

  /** Called by the node when the process exits: wakes a pending receive with the exit, frees memory. */
  markExited(reason: ExitReason): void {
    this.alive = false;
    this.exitReason = reason;
    // Build the error only when a receive waits for it: capturing a stack costs more than a spawn.
    if (this.#waitReject !== null) this.#failWait(new ProcessExitedError(this.self, reason));
    this.mailbox.clear();
    // Sends waiting for room complete: a send to an exited process is not an error.
    const waiters = this.sendWaiters;
    this.sendWaiters = null;
    if (waiters !== null) for (const w of waiters) w.resolve();
    this.#abort?.abort(reason);
  }

  #check(): void {
    if (!this.alive) throw new ProcessExitedError(this.self, this.exitReason ?? 'normal');
  }

  send(to: SendTarget, message: unknown): void {
    this.#check();
    this.node.sendFrom(this, to, message);
  }

  sendAwait(to: SendTarget, message: unknown, opts?: SendAwaitOptions): Promise<void> {
    if (!this.alive) return Promise.reject(new ProcessExitedError(this.self, this.exitReason ?? 'normal'));
    const mine = this.signal;
    const signal = opts?.signal === undefined ? mine : AbortSignal.any([opts.signal, mine]);
    return this.node.sendAwaitFrom(this, to, message, signal);
  }

  spawn<N>(fn: ProcessFunction<N>, opts?: SpawnOptions): Pid<N> {
    this.#check();
    return this.node.spawnFrom(this, fn as ProcessFunction, opts, false) as Pid<N>;
  }

  spawnLink<N>(fn: ProcessFunction<N>, opts?: SpawnOptions): Pid<N> {
    this.#check();
    return this.node.spawnFrom(this, fn as ProcessFunction, opts, true) as Pid<N>;
  }

  spawnMonitor<N>(fn: ProcessFunction<N>, opts?: SpawnOptions): { pid: Pid<N>; ref: Ref } {
    this.#check();
    const pid = this.node.spawnFrom(this, fn as ProcessFunction, opts, false) as Pid<N>;
    return { pid, ref: this.node.monitorFrom(this, pid) };
  }

  monitor(target: Pid | string | RemoteName): Ref {
    this.#check();
    return this.node.monitorFrom(this, target);
  }

  demonitor(ref: Ref, opts?: { flush?: boolean }): boolean {
    this.#check();
    const active = this.node.demonitorFrom(this, ref);
    if (opts?.flush === true && this.mailbox.removeAll((m) => isDown(m) && m.ref === ref) > 0) this.#admit();
    return active;
  }

  link(target: Pid): void {
    this.#check();
    this.node.linkFrom(this, target);
  }

  unlink(target: Pid): void {
    this.#check();
    this.node.unlinkFrom(this, target);
  }

  trapExit(on: boolean): boolean {
    this.#check();
    const was = this.trapping;
    this.trapping = on;
    return was;
  }

  exit(target: Pid, reason: ExitReason): void {
    this.#check();
    this.node.exitFrom(this, target, reason);
  }

  exitSelf(reason: ExitReason): never {
    this.#check();
    this.node.terminateFrom(this, reason);
    throw new ProcessExitedError(this.self, reason);
  }

  async call<Res>(to: CallTarget, request: unknown, opts?: CallOptions): Promise<Res> {
    this.#check();
    checkCallTarget(to);
    validateMessage(request, 'request', this.node.isRemote(to));
    if (typeof to === 'object' && !(to instanceof Pid) && to.node === this.node.name) to = to.name;
    const target = typeof to === 'string' ? this.node.whereis(to) : to;
    if (target === undefined) throw new CallError(to, 'noproc');
    const timeout = opts?.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
    const ref = this.node.monitorFrom(this, target);
    (this.pendingCalls ??= new Set()).add(ref);
    try {
      this.node.routeFrom(this, target, { type: '$call', from: { pid: this.self, ref }, request });
      let answer: unknown;
      try {
        answer = await this.receive((m) => (isReply(m) || isDown(m)) && m.ref === ref, {
          timeout,
          ...(opts?.signal !== undefined ? { signal: opts.signal } : {}),
        });
      } catch (err) {
        if (isTroupeError(err, 'ERR_TIMEOUT')) {
          const what = typeof to === 'string' ? `${describeTarget(to)} (${target.toString()})` : describeTarget(to);
          throw new TroupeError('ERR_TIMEOUT', `call to ${what} timed out after ${timeout} ms`);
        }
        throw err;
      }
      if (isReply(answer)) return answer.value as Res;
      throw new CallError(target, (answer as { reason: ExitReason }).reason);
    } finally {
      this.pendingCalls.delete(ref);
      if (this.alive) {
        this.node.demonitorFrom(this, ref);
        if (this.mailbox.removeAll((m) => isDown(m) && m.ref === ref) > 0) this.#admit();
      }
    }
  }

  cast(to: CallTarget, message: unknown): void {
    this.#check();
    checkCallTarget(to);
    validateMessage(message, 'msg', this.node.isRemote(to));
    this.node.routeFrom(this, to, { type: '$cast', message });
  }

  reply(from: From, value: unknown): void {
    this.#check();
    validateMessage(value, 'reply', this.node.isRemote(from.pid));
    this.node.routeFrom(this, from.pid, { type: '$reply', ref: from.ref, value });
  }
}

/** How a call names its callee in errors: `<a.3.1>`, `"name"`, `"name" on b`. */
export function describeTarget(to: CallTarget): string {
  if (to instanceof Pid) return to.toString();
  if (typeof to === 'string') return JSON.stringify(to);
  return `${JSON.stringify(to.name)} on ${to.node}`;
}

/**
 * A call's (or cast's) target is a pid, a local name, or `{ node, name }`; anything else is a
 * caller error, thrown at once (not a wait for a reply that cannot come).
 */
export function checkCallTarget(to: unknown): asserts to is CallTarget {
  if (to instanceof Pid || typeof to === 'string') return;
  if (typeof to === 'object' && to !== null) {
    const t = to as { node?: unknown; name?: unknown };
    if (typeof t.node === 'string' && typeof t.name === 'string') return;
  }
  throw new TroupeError(
    'ERR_BAD_ARGUMENT',
    `not a call target: ${describeValue(to)} (a pid, a registered name, or { node, name })`,
  );
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  if (typeof v === 'function') return 'a function';
  return `${typeof v} ${String(v)}`;
}

function abortedSend(signal: AbortSignal | undefined): TroupeError {
  return new TroupeError('ERR_ABORTED', 'send aborted', { cause: signal?.reason });
}

function timeoutError(): TroupeError {
  return new TroupeError('ERR_TIMEOUT', 'receive timed out');
}
