// Internode: turns a set of troupe nodes into a cluster. This facade wires the parts: the
// membership core (who is in, who dials whom), the failure detector (up/down by time), one Link
// per peer (queues, write loop, receive path), the Dialer (seeds, redials, backoff), the Router
// (the runtime's seam), and the handshake. Sockets and timers stay in those hosts; decisions
// come from the pure cores.
import { metrics } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { BoundedStream, encode, type Clock, type Node, type Pid, type Random } from '../runtime/index.js';
import type { FrameClassName } from './classes.js';
import { checkOptions, type InternodeOptions } from './config.js';
import { Dialer, isSelf } from './dialer.js';
import { CLOSE, HandshakeError, InternodeError, type DialFailure, type Refusal } from './errors.js';
import { FailureDetector, type FailureDetectorEvent } from './failure-detector.js';
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
  IDENTITY_PROBE_TIMEOUT_MS,
  MAX_EVENT_BACKLOG,
  MAX_EVENT_STREAMS,
  MAX_MEMBER_LIST,
  MAX_PENDING_HANDSHAKES,
  MAX_PREAUTH_BYTES,
  MAX_WS_MESSAGE_BYTES,
  MEMBER_GOSSIP_EVERY_TICKS,
  type ClassLimits,
} from './limits.js';
import { Link, type ActiveConnection, type LinkHost } from './link.js';
import { MembershipCore, keepNewConnection, type DownReason, type NodeEvent } from './membership.js';
import type { EnqueueResult } from './queues.js';
import { Router } from './router.js';
import { bump, newCounters, observe, snapshot, type InternodeStats } from './stats.js';
import type { Connection, Listener, Transport } from './transport.js';
import { RateLimitedWarnings } from './warnings.js';
import { WsTransport, type WsRefusal } from './ws-transport.js';

export type { InternodeOptions } from './config.js';

export interface MemberInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly state: 'up' | 'down';
  readonly connected: boolean;
}

/** Frames this layer hands to the subsystems above it. */
export type FrameHandler = (fromNode: string, body: unknown) => void;

export class Internode implements AsyncDisposable {
  readonly node: Node;
  readonly clock: Clock;
  /** The per-class queue bounds in force (what pg and the registries check their limits against). */
  readonly classLimits: Readonly<Record<FrameClassName, ClassLimits>>;
  readonly #identity: LocalIdentity & { address: string };
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #warnings: RateLimitedWarnings;
  readonly #defer: (fn: () => void) => void;
  readonly #heartbeatMs: number;
  readonly #membership: MembershipCore;
  readonly #fd: FailureDetector;
  readonly #links = new Map<string, Link>();
  readonly #router: Router;
  readonly #dialer: Dialer;
  readonly #handlers = new Map<FrameClassName, FrameHandler>();
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #streams = new Set<BoundedStream<NodeEvent>>();
  readonly #seeds: string[];
  /** Connections in their handshake, oldest first (past MAX_PENDING_HANDSHAKES the oldest goes). */
  readonly #pending = new Set<Connection>();
  readonly #budget = new PreAuthBudget(MAX_PREAUTH_BYTES);
  readonly #counters = newCounters();
  readonly #linkHost: LinkHost;
  #listener: Listener | null = null;
  #tick: { cancel(): void } | null = null;
  #lastTick = 0;
  #ticks = 0;
  #stopping: Promise<void> | null = null;
  /** Set first thing in stop(): everything from then on is part of stopping. */
  #halting = false;
  #unobserve: () => void = () => {};

  private constructor(opts: InternodeOptions, secret: Buffer) {
    this.node = opts.node;
    this.clock = opts.node.clock;
    this.classLimits = opts.classLimits ?? CLASS_LIMITS;
    const onRefusal = (what: WsRefusal): void => void this.#counters.transportRefusals[what]++;
    this.#transport =
      opts.transport ?? new WsTransport({ ...(opts.tls !== undefined ? { tls: opts.tls } : {}), onRefusal });
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'internode', node: opts.node.name });
    this.#warnings = new RateLimitedWarnings(this.#logger);
    const random: Pick<Random, 'next'> = opts.random ?? { next: Math.random };
    this.#defer = opts.defer ?? ((fn) => void setImmediate(fn));
    this.#heartbeatMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const downAfterMs = opts.downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
    this.#fd = new FailureDetector({
      heartbeatIntervalMs: this.#heartbeatMs,
      suspectAfterMs: Math.round((this.#heartbeatMs + downAfterMs) / 2),
      downAfterMs,
    });
    this.#seeds = [...new Set(opts.seeds ?? [])];
    this.#identity = {
      cluster: opts.cluster,
      node: opts.node.name,
      incarnation: opts.node.incarnation,
      address: opts.advertise ?? '',
      secret,
    };
    this.#membership = new MembershipCore(this.#identity);
    this.#router = new Router(this.node.name, {
      up: (node, incarnation) => this.#up(node, incarnation),
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
    this.#linkHost = {
      clock: this.clock,
      defer: this.#defer,
      counters: this.#counters,
      logger: this.#logger,
      live: (link) => this.#links.get(link.node) === link && this.#membership.isUp(link.node, link.incarnation),
      heard: (link) => this.#detect(() => this.#fd.heartbeatSeen(link.node, link.incarnation, this.clock.now())),
      frame: (link, cls, body) => this.#frame(link, cls, body),
      malformed: (link, reason) => {
        bump(this.#counters.malformed, 'frame');
        this.#logger.warn({ peer: link.node, err: reason }, 'malformed frame; closing connection');
      },
      closed: (link, active, code, reason) => this.#closed(link, active, code, reason),
    };
    this.#unobserve = observe(
      opts.meter ?? metrics.getMeter('troupe'),
      this.node.name,
      this.#counters,
      () => this.#membership.upNodes().length,
    );
  }

  /**
   * Starts listening (if asked), attaches to the runtime node, and begins joining the seeds. A
   * start that fails closes what it opened. A node whose internode layer stopped may start a new one.
   */
  static async start(opts: InternodeOptions): Promise<Internode> {
    checkOptions(opts);
    const self = new Internode(opts, secretFrom(opts.secret));
    try {
      if (opts.listen !== undefined) {
        self.#listener = await self.#transport.listen(opts.listen, (conn) => self.#accept(conn));
        if (opts.advertise === undefined) self.#identity.address = self.#listener.address;
        self.#membership.address = self.#identity.address;
      }
      self.#router.inbound = opts.node.attachRemote(self.#router);
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
    if (this.#handlers.has(cls))
      throw new InternodeError('ERR_BAD_CONFIG', `a handler for ${cls} is already registered`);
    this.#handlers.set(cls, handler);
  }

  /**
   * Queues a frame for a peer under its class's policy. Returns what happened; 'no-route' when
   * the node is not up. Never throws for a full queue: the result says so.
   */
  sendFrame(node: string, cls: Exclude<FrameClassName, 'control' | 'user'>, body: unknown): EnqueueResult | 'no-route' {
    const link = this.#up(node);
    if (link === undefined) return 'no-route';
    return link.enqueue(cls, encodeFrame(cls, encode(body)));
  }

  /**
   * Sends a process message to a remote pid, waiting for room in the peer's `user` queue instead
   * of failing when it is full. Rejects with ERR_NO_ROUTE when the node is not up.
   */
  sendAwait(
    from: Pid | undefined,
    to: Pid,
    message: unknown,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    return this.#router.sendAwait(from, to, message, options);
  }

  /** Nodes currently up, by name. */
  upNodes(): string[] {
    return this.#membership.upNodes();
  }

  members(): MemberInfo[] {
    return this.#membership.members().map((m) => ({
      node: m.node,
      incarnation: m.incarnation,
      address: m.address,
      state: m.state,
      connected: this.#links.get(m.node)?.conn != null,
    }));
  }

  /** Queue depth for a peer's class (frames), for tests and introspection. */
  queued(node: string, cls: FrameClassName): number {
    return this.#links.get(node)?.queues.length(cls) ?? 0;
  }

  stats(): InternodeStats {
    return snapshot(this.#counters, this.#membership.size, this.#membership.upNodes().length);
  }

  // ------------------------------------------------------------------ handshakes

  #accept(conn: Connection): void {
    if (this.#halting) return conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    if (this.#pending.size >= MAX_PENDING_HANDSHAKES) {
      const [oldest] = this.#pending;
      this.#pending.delete(oldest!);
      oldest!.close(CLOSE.tooManyPending.code, CLOSE.tooManyPending.reason);
    }
    this.#pending.add(conn);
    acceptorHandshake(conn, this.#identity, this.clock, this.#handshakeOptions()).then(
      (r) => this.#guard(() => this.#established(conn, r.peer, false, r.pending)),
      (err: unknown) => this.#guard(() => this.#refused(err, conn.remoteAddress)),
    );
  }

  async #dialed(conn: Connection, address: string): Promise<PeerIdentity> {
    this.#pending.add(conn);
    try {
      const r = await dialerHandshake(conn, this.#identity, this.clock, this.#handshakeOptions());
      this.#guard(() => this.#established(conn, r.peer, true, r.pending));
      return r.peer;
    } catch (err) {
      this.#guard(() => this.#refused(err, address));
      throw err;
    }
  }

  #handshakeOptions(): HandshakeOptions {
    return { admit: (peer) => this.#admit(peer), budget: this.#budget, maxMessageBytes: MAX_WS_MESSAGE_BYTES };
  }

  /** Admission of an authenticated peer; a newer incarnation of a connected node probes the old one first. */
  async #admit(peer: PeerIdentity): Promise<Refusal | undefined> {
    if (this.#halting) return 'shuttingDown';
    const link = this.#links.get(peer.node);
    let admission = this.#membership.admit(peer, { connections: link?.connections ?? 0 });
    if (admission.kind === 'probe' && link !== undefined) {
      const alive = await link.probe(IDENTITY_PROBE_TIMEOUT_MS);
      admission = this.#membership.admit(peer, { connections: link.connections, probe: alive ? 'answered' : 'silent' });
    }
    return admission.kind === 'refuse' ? admission.refusal : undefined;
  }

  #refused(err: unknown, address: string): void {
    const reason = err instanceof HandshakeError ? err.reason : 'error';
    bump(this.#counters.handshakeRefusals, reason);
    if (this.#halting || !(err instanceof HandshakeError)) return;
    if (err.refusal === 'selfConnection' || err.refusal === 'duplicate' || err.refusal === 'shuttingDown') return;
    const fields = { address, reason, by: err.by, ...(err.refusal === 'closed' ? { code: err.closeCode } : {}) };
    const what =
      err.refusal === 'nameInUse'
        ? err.by === 'us'
          ? 'refused a node whose name a live node holds'
          : 'refused: a live node already holds this node name'
        : 'handshake refused';
    this.#warnings.warn(`handshake ${address}`, this.clock.now(), fields, what);
  }

  #dialFailed(address: string, failure: DialFailure, err: unknown): void {
    this.#counters.dialFailures[failure]++;
    this.#warnings.warn(
      `dial ${address}`,
      this.clock.now(),
      { address, failure, err: (err as Error).message },
      'dial failed',
    );
  }

  /** No input may end in an exception that escapes: log it, and keep serving. */
  #guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.#logger.error({ err }, 'internal error handling a connection');
    }
  }

  #detect(run: () => readonly FailureDetectorEvent[]): readonly FailureDetectorEvent[] {
    try {
      return run();
    } catch (err) {
      bump(this.#counters.malformed, 'detector-input');
      this.#logger.error({ err }, 'failure detector refused an input');
      return [];
    }
  }

  #established(conn: Connection, id: PeerIdentity, dialedByUs: boolean, pending: Buffer[]): void {
    this.#pending.delete(conn);
    if (this.#halting) return conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    const old = this.#links.get(id.node);
    const now = this.clock.now();
    const attached = this.#membership.attach(id, now, {
      connections: old?.incarnation === id.incarnation ? old.connections : 0,
    });
    if (attached.kind === 'refuse') {
      bump(this.#counters.handshakeRefusals, CLOSE[attached.refusal].reason);
      return conn.close(CLOSE[attached.refusal].code, CLOSE[attached.refusal].reason);
    }
    const dialer = dialedByUs ? this.#identity.node : id.node;
    this.#logger.debug({ peer: id.node, incarnation: id.incarnation, dialer }, 'connection established');
    if (attached.kind === 'extra') return this.#extra(old!, conn, dialer, pending, now);
    for (const node of attached.forgotten) this.#forget(node);
    for (const event of attached.events) {
      if (event.type === 'down' && old !== undefined) this.#wentDown(old, event.reason);
    }
    if (attached.replaced !== undefined && old !== undefined) this.#forgetLink(old);
    let link = this.#links.get(id.node);
    if (link === undefined) {
      link = new Link(id.node, id.incarnation, this.#linkHost, this.classLimits);
      this.#links.set(id.node, link);
    }
    this.#dialer.cancel(id.node);
    const active = link.open(conn, dialer);
    this.#detect(() => this.#fd.peerConnected(id.node, id.incarnation, now));
    link.use(active);
    const up = attached.events.at(-1)!;
    this.#counters.nodeUps++;
    this.#logger.info({ peer: id.node, incarnation: id.incarnation, address: id.address }, 'node up');
    this.#emit(up);
    this.#sendMembers(link);
    for (const other of this.#links.values())
      if (other !== link && this.#membership.isUp(other.node)) this.#sendMembers(other, [link.node]);
    link.replay(active, pending);
  }

  /** A second connection to a node that is up: both sides keep the one the smaller name dialed. */
  #extra(link: Link, conn: Connection, dialer: string, pending: Buffer[], now: number): void {
    const active = link.open(conn, dialer);
    this.#detect(() => this.#fd.peerConnected(link.node, link.incarnation, now));
    const current = link.conn;
    if (current !== null && !keepNewConnection(this.#identity.node, link.node, dialer, current.dialer)) {
      link.replay(active, pending);
      link.retire(active);
      return;
    }
    if (link.replaced !== null) this.#release(link, link.replaced);
    link.replaced = null;
    link.use(active);
    if (current !== null) link.retire(current);
    link.replay(active, pending);
  }

  #closed(link: Link, active: ActiveConnection, code: number, reason: string): void {
    this.#logger.debug({ peer: link.node, code, reason, live: link.conn === active }, 'connection closed');
    const up = this.#membership.isUp(link.node, link.incarnation) && this.#links.get(link.node) === link;
    if (link.conn === active && code === CLOSE.duplicate.code && up) {
      link.conn = null;
      link.replaced = active; // the peer's preferred connection is on its way
      return;
    }
    const events = this.#release(link, active);
    if (link.conn !== active) return; // a duplicate or replaced connection: the live one stays
    link.conn = null;
    if (!up) return;
    // Our own stop closes our connections too: that is not the peer leaving.
    if (this.#halting) this.#declareDown(link, 'stopped');
    else if (code === CLOSE.shuttingDown.code) this.#declareDown(link, 'left');
    else if (events.some((e) => e.type === 'down')) this.#declareDown(link, 'disconnected');
  }

  /** Reports a connection's end to the failure detector, once. */
  #release(link: Link, active: ActiveConnection): readonly FailureDetectorEvent[] {
    active.retireTimer?.cancel();
    active.retireTimer = null;
    if (!active.counted) return [];
    active.counted = false;
    return this.#detect(() => this.#fd.peerDisconnected(link.node, link.incarnation, this.clock.now()));
  }

  // ------------------------------------------------------------------ frames

  #frame(link: Link, cls: FrameClassName, body: unknown): void {
    if (body === undefined) return bump(this.#counters.malformed, `${cls}-body`);
    if (cls === 'control') return this.#control(body);
    if (cls === 'user') return this.#router.receive(link.node, body);
    const handler = this.#handlers.get(cls);
    if (handler === undefined) return bump(this.#counters.malformed, `${cls}-unhandled`);
    try {
      handler(link.node, body);
    } catch (err) {
      bump(this.#counters.malformed, `${cls}-handler-error`);
      this.#logger.error({ peer: link.node, cls, err }, 'frame handler threw');
    }
  }

  #control(body: unknown): void {
    if (!Array.isArray(body) || typeof body[0] !== 'string') return bump(this.#counters.malformed, 'control-shape');
    if (body[0] !== 'members') return bump(this.#counters.malformed, 'control-unknown');
    const list: unknown = body[1];
    if (!Array.isArray(list) || list.length > MAX_MEMBER_LIST) return bump(this.#counters.malformed, 'control-members');
    const learned = this.#membership.learn(list);
    for (let i = 0; i < learned.malformed; i++) bump(this.#counters.malformed, 'control-member');
    for (const address of learned.dial) this.#dialer.dialQuietly(address);
  }

  #sendMembers(to: Link, only?: readonly string[]): void {
    const list = this.#membership.memberList(to.node, only);
    if (list.length > 0) to.enqueue('control', encodeFrame('control', encode(['members', list])), true);
  }

  // ------------------------------------------------------------------ ticks, dials, up and down

  #scheduleTick(): void {
    this.#tick = this.clock.setTimer(this.#heartbeatMs, () => {
      if (this.#halting) return;
      this.#guard(() => this.#onTick());
      this.#scheduleTick();
    });
  }

  #onTick(): void {
    const now = this.clock.now();
    // A late timer means our own event loop stalled: peers' heartbeats may sit unread, so the
    // detector extends their deadlines by the delay instead of blaming them.
    const late = now - this.#lastTick - this.#heartbeatMs;
    this.#lastTick = now;
    if (late > 0) this.#detect(() => this.#fd.eventLoopDelay(late, now));
    for (const e of this.#detect(() => this.#fd.tick(now))) {
      const link = this.#links.get(e.node);
      if (link === undefined || link.incarnation !== e.incarnation) continue;
      if (e.type === 'down') this.#declareDown(link, 'timeout');
      else if (e.type === 'suspect') this.#logger.debug({ peer: e.node, silentMs: e.silentMs }, 'peer suspected');
    }
    const heartbeat = encodeFrame('control', encode(['hb']));
    const up: Link[] = [];
    for (const link of this.#links.values()) {
      if (link.conn !== null && this.#membership.isUp(link.node, link.incarnation)) {
        link.enqueue('control', heartbeat, true);
        up.push(link);
      }
    }
    // Isolated (no live peer): go back to the seeds, in case everyone we knew has forgotten us.
    if (up.length === 0) for (const seed of this.#seeds) this.#dialSeed(seed, false);
    // Anti-entropy for membership: every few ticks, one peer (in turn) gets our whole member
    // list, so a lost or unanswered member exchange heals.
    if (up.length > 0 && ++this.#ticks % MEMBER_GOSSIP_EVERY_TICKS === 0) {
      this.#sendMembers(up[(this.#ticks / MEMBER_GOSSIP_EVERY_TICKS) % up.length]!);
    }
    for (const node of this.#membership.tick(now)) this.#forget(node);
  }

  /** Seeds are dialed until each answered once, with backoff; our own address is dropped. */
  readonly #seedAttempts = new Map<string, number>();

  #dialSeed(address: string, immediately: boolean): void {
    if (address === this.#identity.address) return;
    const seedUp = (): boolean => this.#membership.members().some((m) => m.address === address && m.state === 'up');
    this.#dialer.retry(
      `seed ${address}`,
      {
        next: () => (seedUp() ? undefined : { address, attempt: this.#seedAttempts.get(address) ?? 0 }),
        failed: (err) => {
          if (isSelf(err)) {
            this.#seeds.splice(this.#seeds.indexOf(address), 1); // our own address, under another name
            return false;
          }
          this.#seedAttempts.set(address, (this.#seedAttempts.get(address) ?? 0) + 1);
          return true;
        },
        succeeded: () => this.#seedAttempts.delete(address),
      },
      immediately,
    );
  }

  #redial(link: Link): void {
    const { node, incarnation } = link;
    this.#dialer.retry(node, {
      next: () => (this.#links.get(node) === link ? this.#membership.redial(node, incarnation) : undefined),
      failed: () => {
        this.#membership.redialFailed(node, incarnation);
        return true;
      },
    });
  }

  #up(node: string, incarnation?: number): Link | undefined {
    if (!this.#membership.isUp(node, incarnation)) return undefined;
    return this.#links.get(node);
  }

  #declareDown(link: Link, reason: DownReason): void {
    const event = this.#membership.down(link.node, link.incarnation, reason, this.clock.now());
    if (event === undefined) return;
    this.#wentDown(link, reason);
    if (reason === 'timeout' || reason === 'disconnected') this.#redial(link);
  }

  /** Side effects of a down: connections closed, queues discarded, monitors fired, subscribers told. */
  #wentDown(link: Link, reason: DownReason): void {
    for (const active of [link.conn, link.replaced]) if (active !== null) this.#release(link, active);
    link.closeAll(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    link.queues.discard(new InternodeError('ERR_NO_ROUTE', `node ${link.node} is down`));
    this.#counters.nodeDowns++;
    this.#logger.info({ peer: link.node, incarnation: link.incarnation, reason }, 'node down');
    this.#router.inbound?.nodeDown(link.node);
    this.#emit({ type: 'down', node: link.node, incarnation: link.incarnation, reason });
  }

  /** A member forgotten by the membership core: its link, its retries and its detector state go. */
  #forget(node: string): void {
    const link = this.#links.get(node);
    if (link !== undefined) this.#forgetLink(link);
    this.#fd.forget(node);
  }

  #forgetLink(link: Link): void {
    this.#dialer.cancel(link.node);
    for (const active of [link.conn, link.replaced]) if (active !== null) this.#release(link, active);
    link.closeAll(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    if (this.#links.get(link.node) === link) this.#links.delete(link.node);
    this.#fd.forget(link.node);
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
    for (const link of this.#links.values()) {
      link.pump();
      link.closeAll(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    }
    for (const conn of this.#pending) conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    for (const link of [...this.#links.values()]) this.#declareDown(link, 'stopped');
    const closing = [...this.#links.values()].map((l) => l.settled());
    const pending = [...this.#pending].map((c) => c.closed);
    this.#links.clear();
    this.#pending.clear();
    await this.#listener?.close();
    await Promise.all([...closing, ...pending, this.#dialer.settled()]);
    this.node.detachRemote(this.#router);
    this.#unobserve();
    for (const s of [...this.#streams]) s.end(); // waiting iterators end
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
