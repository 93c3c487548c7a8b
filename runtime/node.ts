// A running local node: it owns the processes, their names, and the rules between them —
// exit signals, links, monitors — and the seam to remote nodes (RemoteRouter / RemoteInbound).
import { metrics, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { RealClock, type Clock } from './clock.js';
import { TroupeError, isTroupeError } from './errors.js';
import {
  DEFAULT_MAILBOX_LIMIT,
  DEFAULT_STOP_TIMEOUT_MS,
  MAX_MAILBOX_LIMIT,
  MAX_PROCESSES,
  MAX_PROCESS_ID,
  MAX_REGISTERED_NAME_LENGTH,
} from './limits.js';
import { validateMessage } from './codec.js';
import { isReply, type DownMessage, type ExitMessage, type From, type Ref, type RemoteName } from './messages.js';
import { Pid, validateNodeName } from './pid.js';
import {
  Proc,
  CallError,
  checkCallTarget,
  type CallOptions,
  type CallTarget,
  type OverflowPolicy,
  type ProcessFunction,
  type SendAwaitOptions,
  type Watcher,
} from './process.js';
import type { ExitReason } from './reason.js';
import type { RemoteInbound, RemoteRouter } from './remote.js';

export interface NodeOptions {
  /** Node name, unique in a cluster: [A-Za-z0-9_@.:-], at most 255 characters. */
  readonly name: string;
  /** Distinguishes this run of the node from earlier ones; defaults to the wall-clock ms at start. */
  readonly incarnation?: number;
  readonly clock?: Clock;
  /** A pino logger; the node logs through a child `{subsystem: 'runtime'}`. Silent by default. */
  readonly logger?: Logger;
  /** An OpenTelemetry meter; defaults to the global one (a no-op unless an SDK is installed). */
  readonly meter?: Meter;
  /** Default mailbox bound for processes of this node. */
  readonly mailboxLimit?: number;
  readonly overflow?: OverflowPolicy;
  /** Bound on how long stop() waits for processes to handle `shutdown`. */
  readonly stopTimeoutMs?: number;
}

export interface SpawnOptions {
  /** Register the new process under this local name. */
  readonly name?: string;
  readonly trapExit?: boolean;
  readonly mailboxLimit?: number;
  readonly overflow?: OverflowPolicy;
}

/** Where a message can be sent: a pid, a local name, or a name on another node. */
export type SendTarget = Pid | string | RemoteName;

export type DropReason =
  'dead_process' | 'mailbox_full' | 'no_route' | 'late_reply' | 'stale_incarnation' | 'unknown_name';
const DROP_REASONS: readonly DropReason[] = [
  'dead_process',
  'mailbox_full',
  'no_route',
  'late_reply',
  'stale_incarnation',
  'unknown_name',
];

export interface ProcessInfo {
  readonly pid: Pid;
  readonly status: 'running' | 'waiting';
  readonly mailboxLength: number;
  readonly mailboxLimit: number;
  readonly registeredName: string | undefined;
  readonly trapExit: boolean;
  readonly links: Pid[];
  /** What each monitor watches: a pid, or a `{ node, name }` monitored on another node. */
  readonly monitors: { ref: Ref; pid: Pid | RemoteName }[];
  readonly monitoredBy: number;
  readonly parent: Pid | undefined;
}

export interface NodeStats {
  readonly processes: number;
  readonly spawned: number;
  readonly exited: number;
  readonly registeredNames: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
}

type NodeState = 'running' | 'stopping' | 'stopped';

function validateName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > MAX_REGISTERED_NAME_LENGTH ||
    name.startsWith('<')
  ) {
    throw new TroupeError(
      'ERR_BAD_NAME',
      `invalid registered name ${JSON.stringify(name)}: 1-${MAX_REGISTERED_NAME_LENGTH} chars, not starting with '<'`,
    );
  }
  return name;
}

function validateLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MAILBOX_LIMIT) {
    throw new TroupeError('ERR_BAD_ARGUMENT', `mailboxLimit must be an integer in 1..${MAX_MAILBOX_LIMIT}`);
  }
  return limit;
}

export class Node implements AsyncDisposable {
  readonly name: string;
  readonly incarnation: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly #procs = new Map<number, Proc>();
  readonly #names = new Map<string, Proc>();
  readonly #dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    DropReason,
    number
  >;
  // Local processes that hold a monitor or link towards a node (or are watched from it), so that
  // a node going down touches only them.
  readonly #remoteTouch = new Map<string, Set<Proc>>();
  readonly #mailboxLimit: number;
  readonly #overflow: OverflowPolicy;
  readonly #stopTimeoutMs: number;
  readonly #refPrefix: string;
  readonly #meter: Meter;
  readonly #observe: () => void;
  #router: RemoteRouter | null = null;
  #nextId = 0;
  #refSeq = 0;
  #spawned = 0;
  #exited = 0;
  #state: NodeState = 'running';
  #stopping: Promise<void> | null = null;
  // Exit signals raised while handling another exit are queued, so long link chains do not recurse.
  #signalQueue: { from: Pid | undefined; to: Proc; reason: ExitReason; link: boolean }[] = [];
  #draining = false;

  private constructor(opts: NodeOptions) {
    this.name = validateNodeName(opts.name);
    this.incarnation = opts.incarnation ?? Date.now();
    // Validates the incarnation the same way a pid would.
    new Pid(this.name, 0, this.incarnation);
    this.clock = opts.clock ?? new RealClock();
    this.logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'runtime', node: this.name });
    this.#mailboxLimit = validateLimit(opts.mailboxLimit, DEFAULT_MAILBOX_LIMIT);
    this.#overflow = opts.overflow ?? 'drop-newest';
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.#refPrefix = `#Ref<${this.name}.${this.incarnation}.`;
    this.#meter = opts.meter ?? metrics.getMeter('troupe');
    const attrs = { node: this.name };
    const processes = this.#meter.createObservableGauge('troupe.runtime.processes', { description: 'Live processes' });
    const spawned = this.#meter.createObservableCounter('troupe.runtime.spawned', { description: 'Processes spawned' });
    const dropped = this.#meter.createObservableCounter('troupe.runtime.messages.dropped', {
      description: 'Messages dropped, by reason',
    });
    const observe = (r: BatchObservableResult): void => {
      r.observe(processes, this.#procs.size, attrs);
      r.observe(spawned, this.#spawned, attrs);
      for (const reason of DROP_REASONS) r.observe(dropped, this.#dropped[reason], { ...attrs, reason });
    };
    this.#meter.addBatchObservableCallback(observe, [processes, spawned, dropped]);
    this.#observe = () => this.#meter.removeBatchObservableCallback(observe, [processes, spawned, dropped]);
  }

  /** Starts a local node. */
  static async start(opts: NodeOptions): Promise<Node> {
    return new Node(opts);
  }

  get state(): NodeState {
    return this.#state;
  }

  // ---------------------------------------------------------------- spawning

  /** Spawns a process from outside any process. */
  spawn<M = unknown>(fn: ProcessFunction<M>, opts?: SpawnOptions): Pid<M> {
    return this.spawnFrom(null, fn as ProcessFunction, opts, false) as Pid<M>;
  }

  /** @internal */
  spawnFrom(parent: Proc | null, fn: ProcessFunction, opts: SpawnOptions | undefined, link: boolean): Pid {
    if (this.#state !== 'running') throw new TroupeError('ERR_NODE_STOPPED', `node ${this.name} is ${this.#state}`);
    if (this.#procs.size >= MAX_PROCESSES)
      throw new TroupeError('ERR_LIMIT', `node ${this.name} holds ${MAX_PROCESSES} processes`);
    if (opts?.name !== undefined) {
      validateName(opts.name);
      if (this.#names.has(opts.name)) throw new TroupeError('ERR_NAME_TAKEN', `name ${opts.name} is taken`);
    }
    const id = this.#allocateId();
    const pid = new Pid(this.name, id, this.incarnation);
    const proc = new Proc(
      this,
      pid,
      parent,
      validateLimit(opts?.mailboxLimit, this.#mailboxLimit),
      opts?.overflow ?? this.#overflow,
      opts?.trapExit ?? false,
    );
    this.#procs.set(id, proc);
    this.#spawned++;
    if (opts?.name !== undefined) {
      this.#names.set(opts.name, proc);
      proc.name = opts.name;
    }
    if (link && parent !== null) this.#linkLocal(parent, proc);
    // The process runs after spawn returns, as in Erlang: a link or monitor set up by the
    // spawner is in place before the child's first step.
    queueMicrotask(() => this.#run(proc, fn));
    return pid;
  }

  #allocateId(): number {
    do {
      this.#nextId = this.#nextId >= MAX_PROCESS_ID ? 1 : this.#nextId + 1;
    } while (this.#procs.has(this.#nextId));
    return this.#nextId;
  }

  #run(proc: Proc, fn: ProcessFunction): void {
    if (!proc.alive) return;
    let result: unknown;
    try {
      result = fn(proc);
    } catch (err) {
      this.#crashed(proc, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#terminate(proc, 'normal'),
        (err: unknown) => this.#crashed(proc, err),
      );
    } else {
      this.#terminate(proc, 'normal');
    }
  }

  #crashed(proc: Proc, err: unknown): void {
    if (!proc.alive) return; // already exited by a signal; the unwinding error is expected
    const reason =
      err instanceof Error ? err : new Error(`process threw a non-error value: ${String(err)}`, { cause: err });
    this.logger.error({ pid: proc.self.toString(), err: reason }, 'process crashed');
    this.#terminate(proc, reason);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends from outside any process. Unknown local names are a typed error, like Erlang's badarg.
   * A value that is not a message (runtime/message.ts) is ERR_UNSERIALIZABLE, for local and remote
   * targets alike; a local target receives the very value sent (validated, not copied).
   */
  /** A pid's message type is checked; a name or `{ node, name }` takes anything. */
  send<T = unknown>(to: Pid<T> | Exclude<SendTarget, Pid>, message: NoInfer<T>): void;
  send(to: SendTarget, message: unknown): void {
    this.sendFrom(null, to, message);
  }

  /** @internal */
  sendFrom(from: Proc | null, to: SendTarget, message: unknown): void {
    validateMessage(message, 'msg', this.isRemote(to));
    this.routeFrom(from, to, message);
  }

  /**
   * A send that waits for room instead of dropping (a local mailbox at its limit, whatever its
   * overflow policy) or failing (ERR_BACKPRESSURE from a remote link's queue). Resolves once the
   * message is in the target's mailbox or queued on the link; awaitable sends to one target keep
   * their order. A target that is dead, or exits while the send waits, resolves it (a send to a
   * dead pid is not an error; counted as for `send`); an unknown local name is ERR_NO_SUCH_NAME, a
   * remote node that is not up ERR_NO_ROUTE. `signal` aborts the wait: ERR_ABORTED, nothing sent.
   * ERR_LIMIT when MAX_SEND_WAITERS sends already wait on that mailbox (MAX_ROOM_WAITERS on a link).
   */
  sendAwait<T = unknown>(
    to: Pid<T> | Exclude<SendTarget, Pid>,
    message: NoInfer<T>,
    opts?: SendAwaitOptions,
  ): Promise<void>;
  sendAwait(to: SendTarget, message: unknown, opts?: SendAwaitOptions): Promise<void> {
    return this.sendAwaitFrom(null, to, message, opts?.signal);
  }

  /** @internal */
  sendAwaitFrom(from: Proc | null, to: SendTarget, message: unknown, signal: AbortSignal | undefined): Promise<void> {
    try {
      validateMessage(message, 'msg', this.isRemote(to));
    } catch (err) {
      return Promise.reject(err);
    }
    let target: Proc | undefined;
    if (typeof to === 'string') {
      target = this.#names.get(to);
      if (target === undefined) {
        return Promise.reject(new TroupeError('ERR_NO_SUCH_NAME', `no process is registered as ${JSON.stringify(to)}`));
      }
    } else if (to.node !== this.name) {
      return this.#sendAwaitRemote(from, to, message, signal);
    } else if (to instanceof Pid) {
      if (to.incarnation !== this.incarnation) {
        this.#drop('stale_incarnation');
        return Promise.resolve();
      }
      target = this.#procs.get(to.id);
      if (target === undefined) this.#drop('dead_process');
    } else {
      target = this.#names.get(to.name);
      if (target === undefined) this.#drop('unknown_name');
    }
    if (target === undefined) return Promise.resolve();
    if (isReply(message) && !(target.pendingCalls?.has(message.ref) ?? false)) {
      this.#drop('late_reply');
      return Promise.resolve();
    }
    return target.enqueueWhenRoom(message, signal);
  }

  #sendAwaitRemote(from: Proc | null, to: Pid | RemoteName, message: unknown, signal?: AbortSignal): Promise<void> {
    const router = this.#router;
    if (router === null) return Promise.reject(new TroupeError('ERR_NO_ROUTE', `node ${to.node} is not up`));
    if (router.sendAwait !== undefined) {
      return router.sendAwait(from?.self, to, message, signal !== undefined ? { signal } : {});
    }
    try {
      if (to instanceof Pid) router.send(from?.self, to, message);
      else router.sendNamed(from?.self, to.node, to.name, message);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /**
   * Sends one message to each of `targets`: validated once, before anything is sent (a value that
   * is not a message throws, and no target gets it). A target whose link pushes back
   * (ERR_BACKPRESSURE) does not stop the others: `onRefused` hears of it. Returns how many sends
   * went out.
   */
  sendEach(targets: readonly Pid[], message: unknown, onRefused?: (to: Pid, err: TroupeError) => void): number {
    validateMessage(
      message,
      'msg',
      targets.some((to) => to.node !== this.name),
    );
    let sent = 0;
    for (const to of targets) {
      try {
        this.#sendPid(undefined, to, message);
        sent++;
      } catch (err) {
        if (!isTroupeError(err, 'ERR_BACKPRESSURE')) throw err; // nothing else is one target's own trouble
        onRefused?.(to, err);
      }
    }
    return sent;
  }

  /** @internal Whether a send to `to` leaves this node (its message gets the codec's full check). */
  isRemote(to: SendTarget): boolean {
    return typeof to !== 'string' && to.node !== this.name;
  }

  /** @internal A send of a message the caller validated (call, cast and reply validate their payload). */
  routeFrom(from: Proc | null, to: SendTarget, message: unknown): void {
    if (typeof to === 'string') {
      const target = this.#names.get(to);
      if (target === undefined)
        throw new TroupeError('ERR_NO_SUCH_NAME', `no process is registered as ${JSON.stringify(to)}`);
      this.#deliver(target, message);
      return;
    }
    if (to instanceof Pid) {
      this.#sendPid(from?.self, to, message);
      return;
    }
    if (to.node === this.name) {
      const target = this.#names.get(to.name);
      if (target === undefined) this.#drop('unknown_name');
      else this.#deliver(target, message);
      return;
    }
    if (this.#router === null) this.#drop('no_route');
    else this.#router.sendNamed(from?.self, to.node, to.name, message);
  }

  #sendPid(from: Pid | undefined, to: Pid, message: unknown): void {
    if (to.node === this.name) {
      if (to.incarnation !== this.incarnation) {
        this.#drop('stale_incarnation');
        return;
      }
      const target = this.#procs.get(to.id);
      if (target === undefined) this.#drop('dead_process');
      else this.#deliver(target, message);
      return;
    }
    if (this.#router === null) this.#drop('no_route');
    else this.#router.send(from, to, message);
  }

  #deliver(target: Proc, message: unknown): void {
    if (isReply(message) && !(target.pendingCalls?.has(message.ref) ?? false)) {
      this.#drop('late_reply'); // a reply after the caller gave up never lingers in its mailbox
      return;
    }
    if (!target.accept(message)) {
      this.#drop('mailbox_full');
      if (target.overflow === 'exit') this.#terminate(target, 'mailbox_overflow');
    }
  }

  #drop(reason: DropReason): void {
    this.#dropped[reason]++;
  }

  // ---------------------------------------------------------------- call / cast from outside

  /**
   * Request/reply from outside any process (a short-lived process makes the call). `to` may be
   * `{ node, name }`: a process registered under `name` on another node, guarded by a monitor of
   * that name (nobody holding it there is ERR_NOPROC, as soon as that node answers).
   */
  call<Res = unknown>(to: CallTarget, request: unknown, opts?: CallOptions): Promise<Res> {
    try {
      checkCallTarget(to);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Res>((resolve, reject) => {
      this.spawn(async (ctx) => {
        try {
          resolve(await ctx.call<Res>(to, request, opts));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  cast(to: CallTarget, message: unknown): void {
    checkCallTarget(to);
    validateMessage(message, 'msg', this.isRemote(to));
    this.routeFrom(null, to, { type: '$cast', message });
  }

  reply(from: From, value: unknown): void {
    validateMessage(value, 'reply', this.isRemote(from.pid));
    this.routeFrom(null, from.pid, { type: '$reply', ref: from.ref, value });
  }

  // ---------------------------------------------------------------- names

  register(name: string, pid: Pid): void {
    validateName(name);
    if (this.#names.has(name)) throw new TroupeError('ERR_NAME_TAKEN', `name ${name} is taken`);
    const proc = this.#local(pid);
    if (proc === undefined)
      throw new TroupeError('ERR_NOPROC', `cannot register ${name}: ${pid.toString()} is not a live local process`);
    if (proc.name !== null)
      throw new TroupeError('ERR_ALREADY_NAMED', `${pid.toString()} is already registered as ${proc.name}`);
    this.#names.set(name, proc);
    proc.name = name;
  }

  unregister(name: string): void {
    const proc = this.#names.get(name);
    if (proc === undefined)
      throw new TroupeError('ERR_NOT_REGISTERED', `no process is registered as ${JSON.stringify(name)}`);
    this.#names.delete(name);
    proc.name = null;
  }

  whereis(name: string): Pid | undefined {
    return this.#names.get(name)?.self;
  }

  registered(): string[] {
    return [...this.#names.keys()];
  }

  // ---------------------------------------------------------------- liveness and watching

  isAlive(pid: Pid): boolean {
    return this.#local(pid) !== undefined;
  }

  #local(pid: Pid): Proc | undefined {
    if (pid.node !== this.name || pid.incarnation !== this.incarnation) return undefined;
    return this.#procs.get(pid.id);
  }

  /**
   * Calls `onExit(reason)` once when the local process exits (at once, with 'noproc', if it is
   * not alive). Returns a function that cancels the watch. For hosts such as pg and registries.
   */
  onExit(pid: Pid, onExit: (reason: ExitReason) => void): () => void {
    const proc = this.#local(pid);
    if (proc === undefined) {
      queueMicrotask(() => onExit('noproc'));
      return () => {};
    }
    const ref = this.#newRef();
    (proc.monitoredBy ??= new Map()).set(ref, onExit);
    return () => void proc.monitoredBy?.delete(ref);
  }

  /** Resolves with the exit reason of a local process (at once with 'noproc' if it is not alive). */
  exited(pid: Pid): Promise<ExitReason> {
    return new Promise((resolve) => this.onExit(pid, resolve));
  }

  #newRef(): Ref {
    return this.#refPrefix + String(++this.#refSeq) + '>';
  }

  // ---------------------------------------------------------------- monitors

  /** @internal */
  monitorFrom(watcher: Proc, target: Pid | string | RemoteName): Ref {
    const ref = this.#newRef();
    if (typeof target === 'object' && !(target instanceof Pid)) {
      if (target.node !== this.name)
        return this.#monitorRemoteName(watcher, { node: target.node, name: target.name }, ref);
      target = target.name;
    }
    const pid = typeof target === 'string' ? this.whereis(target) : target;
    if (pid === undefined) {
      // Erlang monitors an unregistered name with DOWN noproc at once; we report the watcher's view.
      watcher.accept({ type: 'DOWN', ref, pid: watcher.self, reason: 'noproc' } satisfies DownMessage);
      return ref;
    }
    if (pid.node !== this.name) {
      (watcher.monitors ??= new Map()).set(ref, { target: pid, local: null });
      if (this.#router === null) {
        this.#deliverDown(watcher, ref, pid, 'noconnection');
        watcher.monitors.delete(ref);
        return ref;
      }
      this.#touch(pid.node, watcher);
      this.#router.monitor(watcher.self, pid, ref);
      return ref;
    }
    const target_ = this.#local(pid);
    if (target_ === undefined) {
      this.#deliverDown(watcher, ref, pid, 'noproc');
      return ref;
    }
    (watcher.monitors ??= new Map()).set(ref, { target: pid, local: target_ });
    (target_.monitoredBy ??= new Map()).set(ref, watcher);
    return ref;
  }

  // A monitor of a name on another node: that node resolves the name and answers with a DOWN.
  #monitorRemoteName(watcher: Proc, target: RemoteName, ref: Ref): Ref {
    const router = this.#router;
    if (router === null || router.monitorNamed === undefined) {
      this.#deliverDown(watcher, ref, watcher.self, 'noconnection');
      return ref;
    }
    (watcher.monitors ??= new Map()).set(ref, { target, local: null });
    this.#touch(target.node, watcher);
    router.monitorNamed(watcher.self, target.node, target.name, ref);
    return ref;
  }

  #demonitorRemote(watcher: Pid, target: Pid | RemoteName, ref: Ref): void {
    if (target instanceof Pid) this.#router?.demonitor(watcher, target, ref);
    else this.#router?.demonitorNamed?.(watcher, target.node, target.name, ref);
  }

  /** @internal Removes a monitor; true if it was active. */
  demonitorFrom(watcher: Proc, ref: Ref): boolean {
    const held = watcher.monitors?.get(ref);
    if (held === undefined) return false;
    watcher.monitors!.delete(ref);
    if (held.local !== null) held.local.monitoredBy?.delete(ref);
    else this.#demonitorRemote(watcher.self, held.target, ref);
    return true;
  }

  #deliverDown(watcher: Proc, ref: Ref, pid: Pid, reason: ExitReason): void {
    if (!watcher.alive) return;
    this.#deliver(watcher, { type: 'DOWN', ref, pid, reason } satisfies DownMessage);
  }

  // ---------------------------------------------------------------- links

  /** @internal */
  linkFrom(proc: Proc, target: Pid): void {
    if (target.equals(proc.self)) return;
    if (target.node !== this.name) {
      if (proc.remoteLinks?.has(target.toString())) return;
      if (this.#router === null) {
        this.#enqueueSignal(target, proc, 'noconnection', true);
        return;
      }
      (proc.remoteLinks ??= new Map()).set(target.toString(), target);
      this.#touch(target.node, proc);
      this.#router.link(proc.self, target);
      return;
    }
    const other = this.#local(target);
    if (other === undefined) {
      // Linking to a dead process: an exit signal 'noproc', as in Erlang.
      this.#enqueueSignal(target, proc, 'noproc', true);
      return;
    }
    this.#linkLocal(proc, other);
  }

  #linkLocal(a: Proc, b: Proc): void {
    (a.links ??= new Set()).add(b);
    (b.links ??= new Set()).add(a);
  }

  /** @internal */
  unlinkFrom(proc: Proc, target: Pid): void {
    if (target.node !== this.name) {
      if (proc.remoteLinks?.delete(target.toString())) this.#router?.unlink(proc.self, target);
      return;
    }
    const other = this.#local(target);
    if (other === undefined) return;
    proc.links?.delete(other);
    other.links?.delete(proc);
  }

  // ---------------------------------------------------------------- exit signals

  /** Sends an exit signal from outside any process (`from` is undefined in the EXIT message). */
  exit(target: Pid, reason: ExitReason): void {
    this.#exitSignal(undefined, target, reason);
  }

  /** @internal */
  exitFrom(proc: Proc, target: Pid, reason: ExitReason): void {
    this.#exitSignal(proc.self, target, reason);
  }

  #exitSignal(from: Pid | undefined, target: Pid, reason: ExitReason): void {
    if (target.node !== this.name) {
      if (this.#router === null) this.#drop('no_route');
      else this.#router.exit(from, target, reason, false);
      return;
    }
    const proc = this.#local(target);
    if (proc === undefined) return; // a signal to a dead process has no effect, as in Erlang
    this.#enqueueSignal(from, proc, reason, false);
  }

  /** @internal A process ending itself. */
  terminateFrom(proc: Proc, reason: ExitReason): void {
    this.#terminate(proc, reason);
  }

  #enqueueSignal(from: Pid | undefined, to: Proc, reason: ExitReason, link: boolean): void {
    this.#signalQueue.push({ from, to, reason, link });
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#signalQueue.length; i++) {
        const s = this.#signalQueue[i]!;
        this.#applySignal(s.from, s.to, s.reason, s.link);
      }
    } finally {
      this.#signalQueue = [];
      this.#draining = false;
    }
  }

  // Erlang's rules: 'kill' sent with exit() cannot be trapped and kills with 'killed'; a trapping
  // process gets an EXIT message; 'normal' is ignored by a non-trapping process unless it is
  // the process's own exit(self, normal).
  #applySignal(from: Pid | undefined, to: Proc, reason: ExitReason, link: boolean): void {
    if (!to.alive) return;
    if (!link && reason === 'kill') {
      this.#terminate(to, 'killed');
      return;
    }
    if (to.trapping) {
      this.#deliver(to, { type: 'EXIT', from, reason } satisfies ExitMessage);
      return;
    }
    if (reason === 'normal') {
      if (!link && from !== undefined && from.equals(to.self)) this.#terminate(to, 'normal');
      return;
    }
    this.#terminate(to, reason);
  }

  #terminate(proc: Proc, reason: ExitReason): void {
    if (!proc.alive) return;
    proc.markExited(reason);
    this.#procs.delete(proc.self.id);
    this.#exited++;
    if (proc.name !== null) {
      this.#names.delete(proc.name);
      proc.name = null;
    }
    const self = proc.self;
    if (proc.monitors !== null) {
      for (const [ref, held] of proc.monitors) {
        if (held.local !== null) held.local.monitoredBy?.delete(ref);
        else this.#demonitorRemote(self, held.target, ref);
      }
      proc.monitors = null;
    }
    if (proc.monitoredBy !== null) {
      const watchers = proc.monitoredBy;
      proc.monitoredBy = null;
      for (const [ref, watcher] of watchers) this.#notifyWatcher(watcher, ref, self, reason);
    }
    if (proc.remoteLinks !== null) {
      for (const pid of proc.remoteLinks.values()) this.#router?.exit(self, pid, reason, true);
      proc.remoteLinks = null;
    }
    if (proc.links !== null) {
      const links = proc.links;
      proc.links = null;
      for (const other of links) {
        other.links?.delete(proc);
        this.#enqueueSignal(self, other, reason, true);
      }
    }
    if (proc.remote) for (const set of this.#remoteTouch.values()) set.delete(proc);
  }

  #notifyWatcher(watcher: Watcher, ref: Ref, pid: Pid, reason: ExitReason): void {
    if (watcher instanceof Proc) {
      watcher.monitors?.delete(ref);
      this.#deliverDown(watcher, ref, pid, reason);
    } else if (watcher instanceof Pid) {
      this.#router?.down(watcher, ref, pid, reason);
    } else {
      queueMicrotask(() => watcher(reason));
    }
  }

  #touch(node: string, proc: Proc): void {
    let set = this.#remoteTouch.get(node);
    if (set === undefined) this.#remoteTouch.set(node, (set = new Set()));
    set.add(proc);
    proc.remote = true;
  }

  // ---------------------------------------------------------------- remote seam

  /**
   * Attaches the layer that reaches other nodes. Returns the inbound side that layer calls
   * when something arrives from the wire. One router per node.
   */
  attachRemote(router: RemoteRouter): RemoteInbound {
    if (this.#router !== null) throw new TroupeError('ERR_BAD_ARGUMENT', 'a remote router is already attached');
    this.#router = router;
    return {
      deliver: (from, to, message) => this.#sendPid(from, to, message),
      deliverNamed: (_from, name, message) => {
        const target = this.#names.get(name);
        if (target === undefined) this.#drop('unknown_name');
        else this.#deliver(target, message);
      },
      monitor: (watcher, target, ref) => {
        const proc = this.#local(target);
        if (proc === undefined) {
          router.down(watcher, ref, target, 'noproc');
          return;
        }
        (proc.monitoredBy ??= new Map()).set(ref, watcher);
        this.#touch(watcher.node, proc);
      },
      demonitor: (_watcher, target, ref) => {
        this.#local(target)?.monitoredBy?.delete(ref);
      },
      monitorNamed: (watcher, name, ref) => {
        const proc = this.#names.get(name);
        if (proc === undefined) {
          router.downNamed?.(watcher, ref, name, 'noproc');
          return;
        }
        (proc.monitoredBy ??= new Map()).set(ref, watcher);
        this.#touch(watcher.node, proc);
      },
      // The name may have moved since the monitor: then the old holder keeps the entry until it
      // exits, and its DOWN finds no monitor at the watcher (ignored there).
      demonitorNamed: (_watcher, name, ref) => {
        this.#names.get(name)?.monitoredBy?.delete(ref);
      },
      downNamed: (watcher, ref, node, name, reason) => {
        const proc = this.#local(watcher);
        const held = proc?.monitors?.get(ref);
        if (proc === undefined || held === undefined || held.target instanceof Pid) return;
        if (held.target.node !== node || held.target.name !== name) return;
        proc.monitors!.delete(ref);
        this.#deliverDown(proc, ref, proc.self, reason);
      },
      down: (watcher, ref, target, reason) => {
        const proc = this.#local(watcher);
        if (proc === undefined || proc.monitors?.get(ref) === undefined) return;
        proc.monitors.delete(ref);
        this.#deliverDown(proc, ref, target, reason);
      },
      link: (remote, local) => {
        const proc = this.#local(local);
        if (proc === undefined) {
          router.exit(local, remote, 'noproc', true);
          return;
        }
        (proc.remoteLinks ??= new Map()).set(remote.toString(), remote);
        this.#touch(remote.node, proc);
      },
      unlink: (remote, local) => {
        this.#local(local)?.remoteLinks?.delete(remote.toString());
      },
      exit: (from, to, reason, link) => {
        const proc = this.#local(to);
        if (proc === undefined) return;
        if (link) {
          // A link signal counts only while the link stands (it may have been unlinked meanwhile).
          if (from === undefined || !proc.remoteLinks?.delete(from.toString())) return;
        }
        this.#enqueueSignal(from, proc, reason, link);
      },
      nodeDown: (node) => this.#nodeDown(node),
    };
  }

  /** Detaches a router attached by attachRemote (its layer stopped); another may attach later. */
  detachRemote(router: RemoteRouter): void {
    if (this.#router === router) this.#router = null;
  }

  #nodeDown(node: string): void {
    const touched = this.#remoteTouch.get(node);
    if (touched === undefined) return;
    this.#remoteTouch.delete(node);
    for (const proc of touched) {
      if (!proc.alive) continue;
      if (proc.monitoredBy !== null) {
        for (const [ref, w] of proc.monitoredBy) if (w instanceof Pid && w.node === node) proc.monitoredBy.delete(ref);
      }
      if (proc.monitors !== null) {
        for (const [ref, held] of proc.monitors) {
          if (held.local === null && held.target.node === node) {
            proc.monitors.delete(ref);
            this.#deliverDown(proc, ref, held.target instanceof Pid ? held.target : proc.self, 'noconnection');
          }
        }
      }
      if (proc.remoteLinks !== null) {
        for (const [key, pid] of proc.remoteLinks) {
          if (pid.node !== node) continue;
          proc.remoteLinks.delete(key);
          this.#enqueueSignal(pid, proc, 'noconnection', true);
        }
      }
    }
  }

  // ---------------------------------------------------------------- introspection

  processInfo(pid: Pid): ProcessInfo | undefined {
    const proc = this.#local(pid);
    if (proc === undefined) return undefined;
    const links = [...(proc.links ?? [])].map((p) => p.self).concat([...(proc.remoteLinks?.values() ?? [])]);
    return {
      pid: proc.self,
      status: proc.waiting ? 'waiting' : 'running',
      mailboxLength: proc.mailbox.length,
      mailboxLimit: proc.mailboxLimit,
      registeredName: proc.name ?? undefined,
      trapExit: proc.trapping,
      links,
      monitors: [...(proc.monitors ?? [])].map(([ref, m]) => ({ ref, pid: m.target })),
      monitoredBy: proc.monitoredBy?.size ?? 0,
      parent: proc.parent?.self,
    };
  }

  processes(): Pid[] {
    return [...this.#procs.values()].map((p) => p.self);
  }

  stats(): NodeStats {
    return {
      processes: this.#procs.size,
      spawned: this.#spawned,
      exited: this.#exited,
      registeredNames: this.#names.size,
      dropped: { ...this.#dropped },
    };
  }

  // ---------------------------------------------------------------- stopping

  /**
   * Stops the node: top-level processes (and then any left) get exit signal `shutdown`, newest
   * first, so supervisors shut their children down in order; processes still alive after the
   * stop timeout are killed. Resolves when every process has exited.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    const topLevel = [...this.#procs.values()].filter((p) => p.parent === null || !p.parent.alive).reverse();
    await this.#shutdownAll(topLevel);
    await this.#shutdownAll([...this.#procs.values()].reverse());
    for (const proc of [...this.#procs.values()]) this.#terminate(proc, 'killed');
    this.#state = 'stopped';
    this.#observe();
  }

  async #shutdownAll(procs: Proc[]): Promise<void> {
    if (procs.length === 0) return;
    const exited = procs.map((p) => this.exited(p.self));
    for (const proc of procs) this.#enqueueSignal(undefined, proc, 'shutdown', false);
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<void>((resolve) => (timer = this.clock.setTimer(this.#stopTimeoutMs, resolve)));
    await Promise.race([Promise.all(exited), timeout]);
    timer?.cancel();
    for (const proc of procs) if (proc.alive) this.#terminate(proc, 'killed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export { CallError };
