// Internode: turns a set of troupe nodes into a cluster. This facade wires the parts and owns
// the edges: the listener, handshakes in progress (bounded, the oldest evicted), dials and
// their retries (seeds, lost members), the heartbeat tick, node events, and stopping. The
// peer table (peers.ts) holds the links and carries out what the membership core and the
// failure detector decide; the Router is the runtime's seam; a Link is one peer's queues and
// connections.
import { metrics } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import {
  BoundedStream,
  TroupeError,
  encode,
  type Clock,
  type Node,
  type Pid,
  type Random,
  type RemoteName,
} from '../runtime/index.js';
import type { FrameClassName } from './classes.js';
import { checkOptions, type InternodeOptions } from './config.js';
import { Dialer } from './dialer.js';
import { CLOSE, HandshakeError, InternodeError, type DialFailure } from './errors.js';
import { encodeFrame } from './frame.js';
import {
  acceptorHandshake,
  dialerHandshake,
  PreAuthBudget,
  secretFrom,
  type HandshakeOptions,
  type LocalIdentity,
  type PeerIdentity,
} from './handshake.js';
import {
  CLASS_LIMITS,
  DEFAULT_DOWN_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  MAX_EVENT_BACKLOG,
  MAX_EVENT_STREAMS,
  MAX_PENDING_HANDSHAKES,
  MAX_PREAUTH_BYTES,
  MAX_WS_MESSAGE_BYTES,
  type ClassLimits,
} from './limits.js';
import type { Link } from './link.js';
import type { NodeEvent } from './membership.js';
import { Peers, type FrameHandler } from './peers.js';
import type { EnqueueResult } from './queues.js';
import { Router } from './router.js';
import { bump, newCounters, observe, snapshot, type InternodeStats } from './stats.js';
import type { Connection, Listener, Transport } from './transport.js';
import { RateLimitedWarnings } from './warnings.js';
import { WsTransport, type WsRefusal } from './ws-transport.js';

export type { FrameHandler } from './peers.js';

export interface MemberInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly state: 'up' | 'down';
  readonly connected: boolean;
}

export class Internode implements AsyncDisposable {
  readonly node: Node;
  readonly clock: Clock;
  /** The per-class queue bounds in force (what pg and the registries check their limits against). */
  readonly classLimits: Readonly<Record<FrameClassName, ClassLimits>>;
  readonly #identity: LocalIdentity & { address: string };
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #warnings: RateLimitedWarnings;
  readonly #heartbeatMs: number;
  readonly #peers: Peers;
  readonly #router: Router;
  readonly #dialer: Dialer;
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #streams = new Set<BoundedStream<NodeEvent>>();
  readonly #seeds: string[];
  /** Connections in their handshake, oldest first (past MAX_PENDING_HANDSHAKES the oldest goes). */
  readonly #pending = new Map<Connection, AbortController>();
  readonly #budget = new PreAuthBudget(MAX_PREAUTH_BYTES);
  readonly #counters = newCounters();
  readonly #unobserve: () => void;
  #listener: Listener | null = null;
  #tick: { cancel(): void } | null = null;
  #lastTick = 0;
  /** Set first thing in stop(): everything from then on is part of stopping. */
  #halting = false;
  #stopping: Promise<void> | null = null;

  private constructor(opts: InternodeOptions, secret: Buffer) {
    this.node = opts.node;
    this.clock = opts.node.clock;
    this.classLimits = opts.classLimits ?? CLASS_LIMITS;
    const onRefusal = (what: WsRefusal): void => void this.#counters.transportRefusals[what]++;
    this.#transport =
      opts.transport ??
      new WsTransport({
        ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
        ...(opts.dialFrom !== undefined ? { dialFrom: opts.dialFrom } : {}),
        onRefusal,
      });
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'internode', node: opts.node.name });
    this.#warnings = new RateLimitedWarnings(this.#logger);
    const random: Pick<Random, 'next'> = opts.random ?? { next: Math.random };
    this.#heartbeatMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#seeds = [...new Set(opts.seeds ?? [])];
    this.#identity = {
      cluster: opts.cluster,
      node: opts.node.name,
      incarnation: opts.node.incarnation,
      address: opts.advertise ?? '',
      secret,
    };
    this.#router = new Router(this.node.name, {
      up: (node, incarnation) => this.#peers.up(node, incarnation),
      rejected: (reason) => bump(this.#counters.malformed, `user-${reason}`),
      counters: this.#counters,
    });
    this.#dialer = new Dialer({
      clock: this.clock,
      transport: this.#transport,
      random,
      handshake: (conn, address) => this.#dialed(conn, address),
      dialFailed: (address, failure, err) => this.#dialFailed(address, failure, err),
    });
    this.#peers = new Peers({
      self: this.#identity,
      clock: this.clock,
      logger: this.#logger,
      defer: opts.defer ?? ((fn) => void setImmediate(fn)),
      counters: this.#counters,
      classLimits: this.classLimits,
      heartbeatIntervalMs: this.#heartbeatMs,
      downAfterMs: opts.downAfterMs ?? DEFAULT_DOWN_AFTER_MS,
      ...(opts.maxPeers !== undefined ? { maxPeers: opts.maxPeers } : {}),
      user: (node, body, bytes) => this.#router.receive(node, body, bytes),
      dial: (address) => this.#dialer.dialQuietly(address),
      redial: (link) => this.#redial(link),
      gone: (node) => this.#dialer.cancel(node),
      emit: (event) => this.#emit(event),
    });
    this.#unobserve = observe(
      opts.meter ?? metrics.getMeter('troupe'),
      this.node.name,
      this.#counters,
      () => this.upNodes().length,
    );
  }

  /**
   * Starts listening (if asked), attaches to the runtime node, and begins joining the seeds. A
   * start that fails closes what it opened; a node whose internode layer stopped may start another.
   */
  static async start(opts: InternodeOptions): Promise<Internode> {
    checkOptions(opts);
    const self = new Internode(opts, secretFrom(opts.secret));
    try {
      if (opts.listen !== undefined) {
        self.#listener = await self.#transport.listen(opts.listen, (conn) => self.#accept(conn));
        if (opts.advertise === undefined) self.#identity.address = self.#listener.address;
        self.#peers.membership.address = self.#identity.address;
      }
      const inbound = opts.node.attachRemote(self.#router);
      self.#router.inbound = inbound;
      self.#peers.inbound = inbound;
    } catch (err) {
      await self.#listener?.close();
      self.#unobserve();
      throw err;
    }
    self.#lastTick = self.clock.now();
    self.#scheduleTick();
    for (const seed of self.#seeds) self.#dialSeed(seed, true);
    return self;
  }

  /** The address peers dial to reach this node ('' when not listening). */
  get address(): string {
    return this.#identity.address;
  }

  // ------------------------------------------------------------------ public API

  /** Subscribes to node up/down events, in order. Returns the unsubscribe function. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Node events as an async iterator, in order, ending when `signal` aborts or the layer stops. A
   * reader that falls MAX_EVENT_BACKLOG behind loses the oldest (counted in eventsDropped).
   */
  events(options: { readonly signal?: AbortSignal } = {}): AsyncIterableIterator<NodeEvent> & AsyncDisposable {
    if (this.#streams.size >= MAX_EVENT_STREAMS)
      throw new InternodeError('ERR_LIMIT', `${MAX_EVENT_STREAMS} event streams are open (MAX_EVENT_STREAMS)`);
    const stream: BoundedStream<NodeEvent> = new BoundedStream<NodeEvent>({
      limit: MAX_EVENT_BACKLOG,
      overflow: 'drop-oldest',
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      onDrop: () => void this.#counters.eventsDropped++,
      onClose: () => void this.#streams.delete(stream),
    });
    if (this.#halting) stream.end();
    else this.#streams.add(stream);
    return stream;
  }

  /** Registers the handler of a class's frames (raft, registry, pg). One handler per class. */
  handle(cls: Exclude<FrameClassName, 'control' | 'user'>, handler: FrameHandler): void {
    this.#peers.handle(cls, handler);
  }

  /**
   * Queues a frame for a peer under its class's policy. Returns what happened; 'no-route' when
   * the node is not up. Never throws for a full queue: the result says so.
   */
  sendFrame(node: string, cls: Exclude<FrameClassName, 'control' | 'user'>, body: unknown): EnqueueResult | 'no-route' {
    const link = this.#peers.up(node);
    if (link === undefined) return 'no-route';
    return link.enqueue(cls, encodeFrame(cls, encode(body)));
  }

  /**
   * Sends a process message to a remote pid, waiting for room in the peer's `user` queue instead
   * of failing when it is full. Rejects with ERR_NO_ROUTE when the node is not up (or goes down
   * meanwhile), ERR_ABORTED when `signal` aborts, ERR_STOPPED once this layer stopped.
   */
  sendAwait(
    from: Pid | undefined,
    to: Pid | RemoteName,
    message: unknown,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#halting) return Promise.reject(new TroupeError('ERR_STOPPED', 'the internode layer is stopped'));
    return this.#router.sendAwait(from, to, message, options);
  }

  /** Nodes currently up, by name. */
  upNodes(): string[] {
    return this.#peers.membership.upNodes();
  }

  members(): MemberInfo[] {
    return this.#peers.membership.members().map((m) => ({
      node: m.node,
      incarnation: m.incarnation,
      address: m.address,
      state: m.state,
      connected: (this.#peers.link(m.node)?.conn ?? null) !== null,
    }));
  }

  /** Queue depth for a peer's class (frames), for tests and introspection. */
  queued(node: string, cls: FrameClassName): number {
    return this.#peers.link(node)?.queues.length(cls) ?? 0;
  }

  stats(): InternodeStats {
    return snapshot(this.#counters, this.#peers.membership.size, this.upNodes().length);
  }

  // ------------------------------------------------------------------ handshakes

  #accept(conn: Connection): void {
    if (this.#halting) return conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    if (this.#pending.size >= MAX_PENDING_HANDSHAKES) {
      const [oldest, abort] = this.#pending.entries().next().value!;
      this.#pending.delete(oldest);
      abort.abort(new HandshakeError('tooManyPending', 'us'));
    }
    acceptorHandshake(conn, this.#identity, this.clock, this.#handshakeOptions(conn)).then(
      (r) => this.#guard(() => this.#established(conn, r.peer, r.peer.node, r.pending)),
      (err: unknown) => this.#guard(() => this.#refused(conn, err, conn.remoteAddress)),
    );
  }

  async #dialed(conn: Connection, address: string): Promise<PeerIdentity> {
    try {
      const r = await dialerHandshake(conn, this.#identity, this.clock, this.#handshakeOptions(conn));
      this.#guard(() => this.#established(conn, r.peer, this.#identity.node, r.pending));
      return r.peer;
    } catch (err) {
      this.#guard(() => this.#refused(conn, err, address));
      throw err;
    }
  }

  /** Options of one handshake; it is pending (and can be evicted or stopped) until it ends. */
  #handshakeOptions(conn: Connection): HandshakeOptions {
    const abort = new AbortController();
    this.#pending.set(conn, abort);
    return {
      admit: (peer) => this.#peers.admit(peer),
      budget: this.#budget,
      maxMessageBytes: MAX_WS_MESSAGE_BYTES,
      signal: abort.signal,
    };
  }

  #established(conn: Connection, peer: PeerIdentity, dialer: string, pending: Buffer[]): void {
    this.#pending.delete(conn);
    this.#peers.attach(conn, peer, dialer, pending);
  }

  #refused(conn: Connection, err: unknown, address: string): void {
    this.#pending.delete(conn);
    const reason = err instanceof HandshakeError ? err.reason : 'error';
    bump(this.#counters.handshakeRefusals, reason);
    if (this.#halting || !(err instanceof HandshakeError)) return;
    if (err.refusal === 'selfConnection' || err.refusal === 'duplicate' || err.refusal === 'shuttingDown') return;
    const fields = { address, reason, by: err.by, ...(err.refusal === 'closed' ? { code: err.closeCode } : {}) };
    const what =
      err.refusal !== 'nameInUse'
        ? 'handshake refused'
        : err.by === 'us'
          ? 'refused a node whose name a live node holds'
          : 'refused: a live node already holds this node name';
    this.#warnings.warn(`handshake ${address}`, this.clock.now(), fields, what);
  }

  #dialFailed(address: string, failure: DialFailure, err: unknown): void {
    this.#counters.dialFailures[failure]++;
    const fields = { address, failure, err: (err as Error).message };
    this.#warnings.warn(`dial ${address}`, this.clock.now(), fields, 'dial failed');
  }

  /** No input may end in an exception that escapes: log it, and keep serving. */
  #guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.#logger.error({ err }, 'internal error handling a connection');
    }
  }

  // ------------------------------------------------------------------ ticks and dials

  #scheduleTick(): void {
    this.#tick = this.clock.setTimer(this.#heartbeatMs, () => {
      if (this.#halting) return;
      this.#guard(() => this.#onTick());
      this.#scheduleTick();
    });
  }

  #onTick(): void {
    const now = this.clock.now();
    // A late timer means our own event loop stalled: the detector credits the delay to the peers.
    const late = now - this.#lastTick - this.#heartbeatMs;
    this.#lastTick = now;
    const up = this.#peers.tick(now, late);
    // Isolated (no live peer): go back to the seeds, in case everyone we knew has forgotten us.
    if (up === 0) for (const seed of this.#seeds) this.#dialSeed(seed, false);
  }

  #dialSeed(address: string, immediately: boolean): void {
    if (address === this.#identity.address) return;
    const answered = (): boolean =>
      this.#peers.membership.members().some((m) => m.address === address && m.state === 'up');
    const isOwn = (): void => void this.#seeds.splice(this.#seeds.indexOf(address), 1);
    this.#dialer.seed(address, answered, isOwn, immediately);
  }

  #redial(link: Link): void {
    const { node, incarnation } = link;
    this.#dialer.retry(node, {
      next: () => (this.#peers.link(node) === link ? this.#peers.membership.redial(node, incarnation) : undefined),
      failed: () => {
        this.#peers.membership.redialFailed(node, incarnation);
        return true;
      },
    });
  }

  #emit(event: NodeEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.#logger.error({ err }, 'node event listener threw');
      }
    }
    for (const s of this.#streams) s.push(event);
  }

  // ------------------------------------------------------------------ stopping

  /**
   * Leaves the cluster: flushes what it can, tells peers it is leaving, closes everything, and
   * detaches from the node (a new layer may start on it). Nothing is left listening or ticking.
   */
  stop(): Promise<void> {
    this.#halting = true;
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#tick?.cancel();
    this.#dialer.stop();
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [, abort] of pending) abort.abort(new HandshakeError('shuttingDown', 'us'));
    const links = this.#peers.stop();
    await this.#listener?.close();
    await Promise.all([links, ...pending.map(([c]) => c.closed), this.#dialer.settled()]);
    this.node.detachRemote(this.#router);
    this.#unobserve();
    for (const s of [...this.#streams]) s.end(); // waiting iterators end
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
