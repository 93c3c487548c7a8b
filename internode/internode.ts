// Internode: turns a set of troupe nodes into a cluster. It owns the connections (one per pair
// of nodes), the handshake, per-peer per-class bounded queues and the write loop, heartbeats and
// down detection, member-list exchange (full mesh), and it is the runtime's RemoteRouter.
import { metrics, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import {
  TroupeError,
  decode,
  encode,
  validateNodeName,
  type Clock,
  type ExitReason,
  type Node,
  type Pid,
  type Ref,
  type RemoteInbound,
  type RemoteRouter,
} from '../runtime/index.js';
import { CLASS_BY_ID, FRAME_CLASSES, type FrameClassName } from './classes.js';
import { CLOSE, InternodeError } from './errors.js';
import { FailureDetector, type FailureDetectorEvent } from './failure-detector.js';
import { decodeFrames, encodeFrame } from './frame.js';
import {
  acceptorHandshake,
  dialerHandshake,
  HandshakeError,
  secretFrom,
  type LocalIdentity,
  type PeerIdentity,
} from './handshake.js';
import {
  CLASS_LIMITS,
  COALESCE_TARGET_BYTES,
  DEFAULT_DOWN_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  FORGET_MEMBER_AFTER_MS,
  HANDSHAKE_TIMEOUT_MS,
  MEMBER_GOSSIP_EVERY_TICKS,
  HIGH_WATER_MARK_BYTES,
  MAX_ADDRESS_LENGTH,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_DIALS_IN_FLIGHT,
  MAX_EVENT_BACKLOG,
  MAX_MEMBER_LIST,
  MAX_PEERS,
  RECONNECT_BASE_MS,
  RECONNECT_MAX_EXPONENT,
  RECONNECT_MAX_MS,
  type ClassLimits,
} from './limits.js';
import { newQueueCounters, OutboundQueues, type EnqueueResult, type QueueCounters } from './queues.js';
import { signalFromWire, signalToWire, type RemoteSignal, type SignalRejection } from './remote-protocol.js';
import type { Connection, Listener, Transport } from './transport.js';
import { WsTransport, type TlsOptions } from './ws-transport.js';

/** timeout: silent too long; disconnected: its last connection closed; left: it said goodbye. */
export type DownReason = 'timeout' | 'disconnected' | 'left' | 'new-incarnation' | 'stopped';

export type NodeEvent =
  | { readonly type: 'up'; readonly node: string; readonly incarnation: number; readonly address: string }
  | { readonly type: 'down'; readonly node: string; readonly incarnation: number; readonly reason: DownReason };

export interface MemberInfo {
  readonly node: string;
  readonly incarnation: number;
  readonly address: string;
  readonly state: 'up' | 'down';
  readonly connected: boolean;
}

export interface InternodeOptions {
  /** The local runtime node this layer connects. */
  readonly node: Node;
  /** Cluster name: nodes of another cluster are refused. */
  readonly cluster: string;
  /** Shared cluster secret (at least 16 bytes); never sent on the wire. */
  readonly secret: string | Buffer;
  /** `host:port` to accept connections on (port 0 picks a free port). */
  readonly listen?: string;
  /** The address peers should dial; defaults to the bound listen address. */
  readonly advertise?: string;
  /** Addresses of nodes to join through. */
  readonly seeds?: readonly string[];
  /** Defaults to WebSocket (`ws`), with TLS when `tls` is given. */
  readonly transport?: Transport;
  readonly tls?: TlsOptions;
  readonly heartbeatIntervalMs?: number;
  /**
   * A peer silent this long is down (heartbeats keep a live peer from it); losing its last connection
   * is down at once.
   */
  readonly downAfterMs?: number;
  /** Source of jitter for reconnect backoff; the simulation passes a seeded one. */
  readonly random?: () => number;
  /** Runs the write loop soon (default setImmediate); the simulation passes its scheduler. */
  readonly defer?: (fn: () => void) => void;
  readonly logger?: Logger;
  readonly meter?: Meter;
  /** Per-class queue bounds (tests shrink them). */
  readonly classLimits?: Readonly<Record<FrameClassName, ClassLimits>>;
}

/** Frames this layer hands to the subsystems above it. */
export type FrameHandler = (fromNode: string, body: unknown) => void;

interface ActiveConnection {
  readonly conn: Connection;
  /** Name of the node that dialed this connection (the tie-break input). */
  readonly dialer: string;
  inFlight: number;
  /** Reported to the failure detector as connected, and not yet as disconnected. */
  counted: boolean;
  /** We sent `retire` on it: no more frames from us; it closes once the peer retires it too. */
  retiring: boolean;
  /** The peer sent `retire` on it: no more frames will come from the peer on it. */
  peerRetired: boolean;
  retireTimer: { cancel(): void } | null;
}

class Peer {
  readonly node: string;
  readonly incarnation: number;
  address: string;
  state: 'up' | 'down' = 'down';
  conn: ActiveConnection | null = null;
  /**
   * A connection the peer closed as a duplicate: it holds a better one whose handshake has not
   * reached us yet. It stays counted by the failure detector until the replacement attaches, so
   * the race is not a down; if no replacement comes, silence makes it one.
   */
  replaced: ActiveConnection | null = null;
  readonly queues: OutboundQueues;
  downSince = 0;
  pumpScheduled = false;
  dialing = false;
  reconnectAttempt = 0;
  reconnectTimer: { cancel(): void } | null = null;

  constructor(identity: PeerIdentity, counters: QueueCounters, limits: Readonly<Record<FrameClassName, ClassLimits>>) {
    this.node = identity.node;
    this.incarnation = identity.incarnation;
    this.address = identity.address;
    this.queues = new OutboundQueues(counters, limits);
  }
}

export interface InternodeStats {
  readonly peers: number;
  readonly up: number;
  readonly framesSent: Record<FrameClassName, number>;
  readonly framesReceived: Record<FrameClassName, number>;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly queues: QueueCounters;
  readonly handshakeRefusals: Record<string, number>;
  readonly malformed: Record<string, number>;
  readonly noRoute: number;
  readonly nodeUps: number;
  readonly nodeDowns: number;
  /** Dials that failed before a handshake could start (refused, unreachable, TLS verification). */
  readonly dialFailures: number;
  /** Node events dropped because an `events()` iterator fell MAX_EVENT_BACKLOG behind. */
  readonly eventsDropped: number;
}

const byClass = <T>(make: () => T): Record<FrameClassName, T> =>
  Object.fromEntries(FRAME_CLASSES.map((c) => [c, make()])) as Record<FrameClassName, T>;

export class Internode implements RemoteRouter, AsyncDisposable {
  readonly node: Node;
  readonly clock: Clock;
  readonly #identity: LocalIdentity;
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #defer: (fn: () => void) => void;
  readonly #heartbeatMs: number;
  readonly #downAfterMs: number;
  readonly #classLimits: Readonly<Record<FrameClassName, ClassLimits>>;
  readonly #peers = new Map<string, Peer>();
  readonly #fd: FailureDetector;
  readonly #handlers = new Map<FrameClassName, FrameHandler>();
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #seeds: string[];
  readonly #seedTimers = new Map<string, { cancel(): void }>();
  readonly #pendingConnections = new Set<Connection>();
  /** In-flight dials by address: a member heard of twice is dialed once. */
  readonly #dials = new Map<string, Promise<PeerIdentity>>();
  /** Wakes `events()` iterators waiting for the next event (so they also end on stop). */
  readonly #eventWakers = new Set<() => void>();
  #inbound!: RemoteInbound;
  #listener: Listener | null = null;
  #tick: { cancel(): void } | null = null;
  #lastTick = 0;
  #ticks = 0;
  #dialsInFlight = 0;
  #stopping = false;
  #unobserve: () => void = () => {};
  readonly #counters = {
    framesSent: byClass(() => 0),
    framesReceived: byClass(() => 0),
    messagesSent: 0,
    bytesSent: 0,
    queues: newQueueCounters(),
    handshakeRefusals: {} as Record<string, number>,
    malformed: {} as Record<string, number>,
    noRoute: 0,
    nodeUps: 0,
    nodeDowns: 0,
    dialFailures: 0,
    eventsDropped: 0,
  };

  private constructor(opts: InternodeOptions, secret: Buffer) {
    this.node = opts.node;
    this.clock = opts.node.clock;
    this.#transport = opts.transport ?? new WsTransport(opts.tls !== undefined ? { tls: opts.tls } : {});
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'internode', node: opts.node.name });
    this.#random = opts.random ?? Math.random;
    this.#defer = opts.defer ?? ((fn) => void setImmediate(fn));
    this.#heartbeatMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#downAfterMs = opts.downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
    this.#classLimits = opts.classLimits ?? CLASS_LIMITS;
    this.#fd = new FailureDetector({
      heartbeatIntervalMs: this.#heartbeatMs,
      suspectAfterMs: Math.round((this.#heartbeatMs + this.#downAfterMs) / 2),
      downAfterMs: this.#downAfterMs,
    });
    this.#seeds = [...(opts.seeds ?? [])];
    this.#identity = {
      cluster: opts.cluster,
      node: opts.node.name,
      incarnation: opts.node.incarnation,
      address: opts.advertise ?? '',
      secret,
    };
    this.#observe(opts.meter ?? metrics.getMeter('troupe'));
  }

  /** Starts listening (if asked), attaches to the runtime node, and begins joining the seeds. */
  static async start(opts: InternodeOptions): Promise<Internode> {
    if (
      typeof opts.cluster !== 'string' ||
      opts.cluster.length === 0 ||
      opts.cluster.length > MAX_CLUSTER_NAME_LENGTH
    ) {
      throw new InternodeError('ERR_BAD_CONFIG', `cluster name must be 1-${MAX_CLUSTER_NAME_LENGTH} characters`);
    }
    const heartbeat = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const downAfter = opts.downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
    if (!(heartbeat > 0) || !(downAfter >= 2 * heartbeat)) {
      throw new InternodeError(
        'ERR_BAD_CONFIG',
        'need heartbeatIntervalMs > 0 and downAfterMs >= 2 * heartbeatIntervalMs',
      );
    }
    for (const s of opts.seeds ?? []) {
      if (typeof s !== 'string' || s.length === 0 || s.length > MAX_ADDRESS_LENGTH)
        throw new InternodeError('ERR_BAD_CONFIG', `bad seed address ${JSON.stringify(s)}`);
    }
    const self = new Internode(opts, secretFrom(opts.secret));
    if (opts.listen !== undefined) {
      self.#listener = await self.#transport.listen(opts.listen, (conn) => self.#accept(conn));
      if (opts.advertise === undefined) {
        (self.#identity as { address: string }).address = self.#listener.address;
      }
    }
    self.#inbound = opts.node.attachRemote(self);
    self.#lastTick = self.clock.now();
    self.#scheduleTick();
    for (const seed of self.#seeds) if (seed !== self.#identity.address) self.#dialSeed(seed, 0);
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

  /** Node events as an async iterator (bounded backlog), ending when `signal` aborts or the layer stops. */
  async *events(signal?: AbortSignal): AsyncGenerator<NodeEvent> {
    const backlog: NodeEvent[] = [];
    let wake: (() => void) | null = null;
    const waker = (): void => wake?.();
    const unsubscribe = this.subscribe((e) => {
      if (backlog.length >= MAX_EVENT_BACKLOG) {
        backlog.shift();
        this.#counters.eventsDropped++;
      }
      backlog.push(e);
      waker();
    });
    this.#eventWakers.add(waker);
    signal?.addEventListener('abort', waker);
    try {
      for (;;) {
        while (backlog.length > 0) yield backlog.shift()!;
        if (signal?.aborted || this.#stopping) return;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      unsubscribe();
      this.#eventWakers.delete(waker);
      signal?.removeEventListener('abort', waker);
    }
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
    const peer = this.#peers.get(node);
    if (peer === undefined || peer.state !== 'up') return 'no-route';
    return this.#enqueue(peer, cls, encode(body));
  }

  /** Nodes currently up, by name. */
  upNodes(): string[] {
    return [...this.#peers.values()].filter((p) => p.state === 'up').map((p) => p.node);
  }

  members(): MemberInfo[] {
    return [...this.#peers.values()].map((p) => ({
      node: p.node,
      incarnation: p.incarnation,
      address: p.address,
      state: p.state,
      connected: p.conn !== null,
    }));
  }

  /** Queue depth for a peer's class (frames), for tests and introspection. */
  queued(node: string, cls: FrameClassName): number {
    return this.#peers.get(node)?.queues.length(cls) ?? 0;
  }

  stats(): InternodeStats {
    const c = this.#counters;
    return {
      peers: this.#peers.size,
      up: this.upNodes().length,
      framesSent: { ...c.framesSent },
      framesReceived: { ...c.framesReceived },
      messagesSent: c.messagesSent,
      bytesSent: c.bytesSent,
      queues: structuredClone(c.queues),
      handshakeRefusals: { ...c.handshakeRefusals },
      malformed: { ...c.malformed },
      noRoute: c.noRoute,
      nodeUps: c.nodeUps,
      nodeDowns: c.nodeDowns,
      dialFailures: c.dialFailures,
      eventsDropped: c.eventsDropped,
    };
  }

  /**
   * Sends a process message to a remote pid, waiting for room in the peer's `user` queue
   * instead of failing when it is full. Rejects with ERR_NO_ROUTE when the node is not up.
   */
  async sendAwait(from: Pid | undefined, to: Pid, message: unknown, signal?: AbortSignal): Promise<void> {
    const frame = encodeFrame('user', encode(signalToWire({ op: 'send', from, to, message })));
    const peer = this.#routeTo(to);
    if (peer === undefined) throw new TroupeError('ERR_NO_ROUTE', `node ${to.node} is not up`);
    // Queued in arrival order among waiting senders; rejected if the node goes down meanwhile.
    await peer.queues.enqueueWhenRoom('user', frame, signal);
    this.#schedulePump(peer);
  }

  // ------------------------------------------------------------------ RemoteRouter (runtime seam)

  send(from: Pid | undefined, to: Pid, message: unknown): void {
    const peer = this.#routeTo(to);
    if (peer === undefined) return;
    const frame = encodeFrame('user', encode(signalToWire({ op: 'send', from, to, message })));
    if (this.#enqueueFrame(peer, 'user', frame) === 'rejected') {
      throw new TroupeError('ERR_BACKPRESSURE', `the queue to ${to.node} is full; use an awaitable send or retry`);
    }
  }

  sendNamed(from: Pid | undefined, node: string, name: string, message: unknown): void {
    const peer = this.#peers.get(node);
    if (peer === undefined || peer.state !== 'up') {
      this.#counters.noRoute++;
      return;
    }
    const frame = encodeFrame('user', encode(signalToWire({ op: 'send-named', from, name, message })));
    if (this.#enqueueFrame(peer, 'user', frame) === 'rejected') {
      throw new TroupeError('ERR_BACKPRESSURE', `the queue to ${node} is full; use an awaitable send or retry`);
    }
  }

  monitor(watcher: Pid, target: Pid, ref: Ref): void {
    if (!this.#signal(target.node, { op: 'monitor', watcher, target, ref })) {
      queueMicrotask(() => this.#inbound.down(watcher, ref, target, 'noconnection'));
    }
  }

  demonitor(watcher: Pid, target: Pid, ref: Ref): void {
    this.#signal(target.node, { op: 'demonitor', watcher, target, ref });
  }

  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void {
    this.#signal(watcher.node, { op: 'down', watcher, ref, target, reason });
  }

  link(local: Pid, remote: Pid): void {
    if (!this.#signal(remote.node, { op: 'link', from: local, to: remote })) {
      queueMicrotask(() => this.#inbound.exit(remote, local, 'noconnection', true));
    }
  }

  unlink(local: Pid, remote: Pid): void {
    this.#signal(remote.node, { op: 'unlink', from: local, to: remote });
  }

  exit(from: Pid | undefined, to: Pid, reason: ExitReason, link: boolean): void {
    this.#signal(to.node, { op: 'exit', from, to, reason, link });
  }

  /** Signals are never refused for a full queue: they are bounded by the links and monitors behind them. */
  #signal(node: string, s: RemoteSignal): boolean {
    const peer = this.#peers.get(node);
    if (peer === undefined || peer.state !== 'up') return false;
    this.#enqueueFrame(peer, 'user', encodeFrame('user', encode(signalToWire(s))), true);
    return true;
  }

  #routeTo(to: Pid): Peer | undefined {
    const peer = this.#peers.get(to.node);
    if (peer === undefined || peer.state !== 'up' || peer.incarnation !== to.incarnation) {
      this.#counters.noRoute++;
      return undefined;
    }
    return peer;
  }

  // ------------------------------------------------------------------ queues and the write loop

  #enqueue(peer: Peer, cls: FrameClassName, body: Buffer, force = false): EnqueueResult {
    return this.#enqueueFrame(peer, cls, encodeFrame(cls, body), force);
  }

  #enqueueFrame(peer: Peer, cls: FrameClassName, frame: Buffer, force = false): EnqueueResult {
    const result = peer.queues.enqueue(cls, frame, force);
    if (result === 'rejected' || result === 'dropped-newest') return result;
    // An idle link writes at once (latency); while a write is in flight, frames wait and go
    // out together when it flushes (throughput). Nothing is lost either way: the queue holds them.
    const active = peer.conn;
    if (active !== null && active.inFlight === 0 && !peer.pumpScheduled && peer.queues.totalFrames === 1)
      this.#pump(peer);
    else this.#schedulePump(peer);
    return result;
  }

  #schedulePump(peer: Peer): void {
    if (peer.pumpScheduled || peer.conn === null) return;
    peer.pumpScheduled = true;
    this.#defer(() => {
      peer.pumpScheduled = false;
      this.#pump(peer);
    });
  }

  // Drains by priority with fairness into coalesced messages, and stops while the socket holds
  // more than the high-water mark: back-pressure fills our bounded queues, not Node's heap.
  #pump(peer: Peer): void {
    const active = peer.conn;
    if (active === null) return;
    while (active.inFlight + active.conn.bufferedAmount < HIGH_WATER_MARK_BYTES) {
      const frames = peer.queues.drain(COALESCE_TARGET_BYTES);
      if (frames.length === 0) return;
      const message = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
      for (const f of frames) this.#counters.framesSent[classOf(f)]++;
      this.#counters.messagesSent++;
      this.#counters.bytesSent += message.length;
      active.inFlight += message.length;
      active.conn.send(message, () => {
        active.inFlight -= message.length;
        if (peer.conn === active) this.#schedulePump(peer);
      });
    }
  }

  // ------------------------------------------------------------------ connections

  #accept(conn: Connection): void {
    if (this.#stopping) {
      conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
      return;
    }
    this.#pendingConnections.add(conn);
    acceptorHandshake(conn, this.#identity, this.clock).then(
      (r) => {
        this.#pendingConnections.delete(conn);
        this.#established(conn, r.peer, false, r.pending);
      },
      (err: unknown) => {
        this.#pendingConnections.delete(conn);
        this.#refused(err, conn.remoteAddress);
      },
    );
  }

  #dial(address: string): Promise<PeerIdentity> {
    let dial = this.#dials.get(address);
    if (dial === undefined) {
      dial = this.#dialOnce(address).finally(() => this.#dials.delete(address));
      this.#dials.set(address, dial);
    }
    return dial;
  }

  async #dialOnce(address: string): Promise<PeerIdentity> {
    this.#dialsInFlight++;
    try {
      let conn: Connection;
      try {
        conn = await this.#transport.dial(address);
      } catch (err) {
        this.#counters.dialFailures++;
        throw err;
      }
      if (this.#stopping) {
        conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
        throw new InternodeError('ERR_STOPPED', 'stopping');
      }
      this.#pendingConnections.add(conn);
      try {
        const r = await dialerHandshake(conn, this.#identity, this.clock);
        this.#established(conn, r.peer, true, r.pending);
        return r.peer;
      } catch (err) {
        this.#refused(err, address);
        throw err;
      } finally {
        this.#pendingConnections.delete(conn);
      }
    } finally {
      this.#dialsInFlight--;
    }
  }

  #refused(err: unknown, address: string): void {
    const reason = err instanceof HandshakeError ? err.message.split(':')[0]! : 'error';
    this.#counters.handshakeRefusals[reason] = (this.#counters.handshakeRefusals[reason] ?? 0) + 1;
    if (reason !== 'connection to self' && reason !== 'duplicate connection' && !this.#stopping) {
      this.#logger.warn({ address, reason }, 'handshake refused');
    }
  }

  #backoff(attempt: number): number {
    const exp = Math.min(attempt, RECONNECT_MAX_EXPONENT);
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** exp);
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2); // equal jitter: never zero, never above the cap
  }

  #dialSeed(address: string, attempt: number): void {
    if (this.#stopping || this.#seedTimers.has(address)) return;
    const delay = attempt === 0 ? 0 : this.#backoff(attempt);
    const timer = this.clock.setTimer(delay, () => {
      this.#seedTimers.delete(address);
      if (this.#stopping) return;
      if ([...this.#peers.values()].some((p) => p.address === address && p.state === 'up')) return;
      if (this.#dialsInFlight >= MAX_DIALS_IN_FLIGHT) {
        this.#dialSeed(address, attempt + 1);
        return;
      }
      this.#dial(address).then(
        () => {},
        (err: unknown) => {
          if (err instanceof HandshakeError && err.closeCode === CLOSE.selfConnection.code) return; // our own address
          this.#dialSeed(address, attempt + 1);
        },
      );
    });
    this.#seedTimers.set(address, timer);
  }

  /**
   * Who dials a member we just heard of: the smaller name (the other waits, which keeps a mass
   * start from dialing twice). A member we knew and lost is redialed by either side: a node must
   * never wait forever for a peer that forgot it. Duplicates are retired without loss.
   */
  #shouldDial(peer: { node: string; address: string }, known: boolean): boolean {
    if (peer.address === '') return false;
    return known || this.#identity.address === '' || this.#identity.node < peer.node;
  }

  #scheduleReconnect(peer: Peer): void {
    if (this.#stopping || peer.reconnectTimer !== null || peer.dialing || !this.#shouldDial(peer, true)) return;
    // Each attempt captures its own address and incarnation: a later change makes it moot.
    const { address, incarnation } = peer;
    const delay = this.#backoff(peer.reconnectAttempt);
    peer.reconnectTimer = this.clock.setTimer(delay, () => {
      peer.reconnectTimer = null;
      if (
        this.#stopping ||
        this.#peers.get(peer.node) !== peer ||
        peer.incarnation !== incarnation ||
        peer.conn !== null
      )
        return;
      if (peer.state === 'down' && this.clock.now() - peer.downSince > FORGET_MEMBER_AFTER_MS) {
        this.#drop(peer);
        return;
      }
      if (this.#dialsInFlight >= MAX_DIALS_IN_FLIGHT) {
        peer.reconnectAttempt++;
        this.#scheduleReconnect(peer);
        return;
      }
      peer.dialing = true;
      this.#dial(address).then(
        () => {
          peer.dialing = false;
        },
        () => {
          peer.dialing = false;
          peer.reconnectAttempt++;
          if (this.#peers.get(peer.node) === peer && peer.conn === null) this.#scheduleReconnect(peer);
        },
      );
    });
  }

  #established(conn: Connection, id: PeerIdentity, dialedByUs: boolean, pending: Buffer[]): void {
    if (this.#stopping) {
      conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
      return;
    }
    let peer = this.#peers.get(id.node);
    if (peer !== undefined && peer.incarnation !== id.incarnation) {
      if (id.incarnation < peer.incarnation) {
        conn.close(CLOSE.staleIncarnation.code, CLOSE.staleIncarnation.reason);
        return;
      }
      // A new incarnation: the old one is down (its pids are dead), then the new one comes up.
      this.#declareDown(peer, 'new-incarnation');
      this.#drop(peer);
      peer = undefined;
    }
    if (peer === undefined) {
      if (this.#peers.size >= MAX_PEERS) {
        conn.close(CLOSE.tooManyPeers.code, CLOSE.tooManyPeers.reason);
        return;
      }
      peer = new Peer(id, this.#counters.queues, this.#classLimits);
      this.#peers.set(id.node, peer);
    }
    if (id.address !== '') peer.address = id.address;
    const dialer = dialedByUs ? this.#identity.node : id.node;
    this.#logger.debug({ peer: id.node, incarnation: id.incarnation, dialer }, 'connection established');
    const active: ActiveConnection = {
      conn,
      dialer,
      inFlight: 0,
      counted: true,
      retiring: false,
      peerRetired: false,
      retireTimer: null,
    };
    this.#fd.peerConnected(peer.node, peer.incarnation, this.clock.now()); // up/down decided below, by this layer
    const p = peer;
    conn.setHandlers({
      message: (data) => this.#onData(p, active, data),
      close: (code, reason) => this.#onClose(p, active, code, reason),
    });
    let retired: ActiveConnection | null = null;
    if (peer.conn !== null) {
      // Two connections to one peer (a simultaneous connect): both sides keep the one dialed
      // by the smaller name, and retire the other without losing what is in flight on it.
      const preferred = this.#identity.node < id.node ? this.#identity.node : id.node;
      if (dialer !== preferred || peer.conn.dialer === preferred) {
        for (const data of pending) this.#onData(peer, active, data);
        this.#retire(active);
        return;
      }
      retired = peer.conn;
    }
    peer.conn = active;
    if (peer.replaced !== null) {
      this.#release(peer, peer.replaced);
      peer.replaced = null;
    }
    peer.reconnectAttempt = 0;
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = null;
    if (retired !== null) this.#retire(retired);
    if (peer.state !== 'up') {
      peer.state = 'up';
      this.#counters.nodeUps++;
      this.#logger.info({ peer: peer.node, incarnation: peer.incarnation, address: peer.address }, 'node up');
      this.#emit({ type: 'up', node: peer.node, incarnation: peer.incarnation, address: peer.address });
      this.#sendMembers(peer);
      for (const other of this.#peers.values())
        if (other !== peer && other.state === 'up') this.#sendMembers(other, [peer]);
    }
    for (const data of pending) this.#onData(p, active, data);
    this.#schedulePump(peer);
  }

  #onClose(peer: Peer, active: ActiveConnection, code: number, reason: string): void {
    this.#logger.debug({ peer: peer.node, code, reason, live: peer.conn === active }, 'connection closed');
    if (peer.conn === active && code === CLOSE.duplicate.code && peer.state === 'up') {
      peer.conn = null;
      peer.replaced = active; // the peer's preferred connection is on its way
      return;
    }
    const events = this.#release(peer, active);
    if (peer.conn !== active) return; // a duplicate or replaced connection: the live one stays
    peer.conn = null;
    if (peer.state !== 'up') return;
    // Our own stop closes our connections too: that is not the peer leaving.
    if (this.#stopping) this.#declareDown(peer, 'stopped');
    else if (code === CLOSE.shuttingDown.code) this.#declareDown(peer, 'left');
    else if (events.some((e) => e.type === 'down')) this.#declareDown(peer, 'disconnected');
  }

  /**
   * Retires a connection: `retire` is our last frame on it (a connection is FIFO, so the peer
   * reads everything we sent before it); it closes once the peer has retired it too, or after
   * a bound if the peer never does.
   */
  #retire(active: ActiveConnection): void {
    if (active.retiring) return;
    active.retiring = true;
    active.conn.send(encodeFrame('control', encode(['retire'])));
    if (active.peerRetired) {
      active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
      return;
    }
    active.retireTimer = this.clock.setTimer(HANDSHAKE_TIMEOUT_MS, () => {
      active.retireTimer = null;
      active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
    });
  }

  /** Reports a connection's end to the failure detector, once. */
  #release(peer: Peer, active: ActiveConnection): readonly FailureDetectorEvent[] {
    active.retireTimer?.cancel();
    active.retireTimer = null;
    if (!active.counted) return [];
    active.counted = false;
    return this.#fd.peerDisconnected(peer.node, peer.incarnation, this.clock.now());
  }

  #onData(peer: Peer, active: ActiveConnection, data: Buffer): void {
    if (peer.state !== 'up' || this.#peers.get(peer.node) !== peer) return; // late traffic after down
    let frames;
    try {
      frames = decodeFrames(data);
    } catch (err) {
      this.#malformed('frame');
      this.#logger.warn({ peer: peer.node, err: (err as Error).message }, 'malformed frame; closing connection');
      active.conn.close(CLOSE.protocolError.code, `${CLOSE.protocolError.reason}: ${(err as Error).message}`);
      return;
    }
    this.#fd.heartbeatSeen(peer.node, peer.incarnation, this.clock.now()); // any traffic is a sign of life
    for (const f of frames) {
      this.#counters.framesReceived[f.cls]++;
      let body: unknown;
      try {
        body = decode(f.body);
      } catch {
        this.#malformed(`${f.cls}-body`);
        continue;
      }
      switch (f.cls) {
        case 'control':
          this.#onControl(peer, active, body);
          break;
        case 'user':
          this.#onUser(peer, body);
          break;
        default: {
          const handler = this.#handlers.get(f.cls);
          if (handler === undefined) this.#malformed(`${f.cls}-unhandled`);
          else {
            try {
              handler(peer.node, body);
            } catch (err) {
              this.#malformed(`${f.cls}-handler-error`);
              this.#logger.error({ peer: peer.node, cls: f.cls, err }, 'frame handler threw');
            }
          }
        }
      }
    }
  }

  #malformed(what: string | SignalRejection): void {
    this.#counters.malformed[what] = (this.#counters.malformed[what] ?? 0) + 1;
  }

  #onUser(peer: Peer, body: unknown): void {
    const s = signalFromWire(body, peer.node, this.node.name);
    if (typeof s === 'string') {
      this.#malformed(`user-${s}`);
      return;
    }
    const inbound = this.#inbound;
    switch (s.op) {
      case 'send':
        inbound.deliver(s.from, s.to, s.message);
        break;
      case 'send-named':
        inbound.deliverNamed(s.from, s.name, s.message);
        break;
      case 'monitor':
        inbound.monitor(s.watcher, s.target, s.ref);
        break;
      case 'demonitor':
        inbound.demonitor(s.watcher, s.target, s.ref);
        break;
      case 'down':
        inbound.down(s.watcher, s.ref, s.target, s.reason);
        break;
      case 'link':
        inbound.link(s.from, s.to);
        break;
      case 'unlink':
        inbound.unlink(s.from, s.to);
        break;
      case 'exit':
        inbound.exit(s.from, s.to, s.reason, s.link);
        break;
    }
  }

  // ------------------------------------------------------------------ control: heartbeats, members

  #sendControl(peer: Peer, body: unknown): void {
    this.#enqueue(peer, 'control', encode(body), true);
  }

  #sendMembers(to: Peer, only?: Peer[]): void {
    const list = (only ?? [...this.#peers.values()].filter((p) => p.state === 'up' && p !== to))
      .filter((p) => p.address !== '')
      .slice(0, MAX_MEMBER_LIST)
      .map((p) => [p.node, p.address, p.incarnation]);
    if (list.length > 0) this.#sendControl(to, ['members', list]);
  }

  #onControl(peer: Peer, active: ActiveConnection, body: unknown): void {
    if (!Array.isArray(body) || typeof body[0] !== 'string') {
      this.#malformed('control-shape');
      return;
    }
    switch (body[0]) {
      case 'hb':
        return; // its arrival already counted as a sign of life
      case 'retire':
        // The peer sends nothing more on this connection; once we have retired it too, it closes.
        active.peerRetired = true;
        if (active.retiring) active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
        return;
      case 'members': {
        const list = body[1];
        if (!Array.isArray(list) || list.length > MAX_MEMBER_LIST) {
          this.#malformed('control-members');
          return;
        }
        for (const entry of list) this.#learnMember(entry);
        return;
      }
      default:
        this.#malformed('control-unknown');
    }
  }

  #learnMember(entry: unknown): void {
    if (!Array.isArray(entry) || entry.length !== 3) return this.#malformed('control-member');
    const [node, address, incarnation] = entry as unknown[];
    if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ADDRESS_LENGTH)
      return this.#malformed('control-member');
    if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0)
      return this.#malformed('control-member');
    try {
      validateNodeName(node);
    } catch {
      return this.#malformed('control-member');
    }
    const name = node as string;
    if (name === this.#identity.node) return;
    const known = this.#peers.get(name);
    if (
      known !== undefined &&
      (known.incarnation > incarnation || (known.incarnation === incarnation && known.state === 'up'))
    )
      return;
    if (!this.#shouldDial({ node: name, address }, known !== undefined)) return; // the other side dials us
    if (this.#dialsInFlight >= MAX_DIALS_IN_FLIGHT) return; // the next member exchange repeats it
    this.#dial(address).catch(() => {
      // A failed dial of a gossiped member is retried through the next member exchange or seed.
    });
  }

  #scheduleTick(): void {
    this.#tick = this.clock.setTimer(this.#heartbeatMs, () => {
      if (this.#stopping) return;
      this.#onTick();
      this.#scheduleTick();
    });
  }

  #onTick(): void {
    const now = this.clock.now();
    // A late timer means our own event loop stalled: peers' heartbeats may sit unread, so the
    // detector extends their deadlines by the delay instead of blaming them.
    const late = now - this.#lastTick - this.#heartbeatMs;
    this.#lastTick = now;
    if (late > 0) this.#fd.eventLoopDelay(late, now);
    for (const e of this.#fd.tick(now)) {
      const peer = this.#peers.get(e.node);
      if (peer === undefined || peer.incarnation !== e.incarnation) continue;
      if (e.type === 'down') this.#declareDown(peer, 'timeout');
      else if (e.type === 'suspect') this.#logger.debug({ peer: e.node, silentMs: e.silentMs }, 'peer suspected');
    }
    const up: Peer[] = [];
    for (const peer of this.#peers.values()) {
      if (peer.state === 'up' && peer.conn !== null) {
        this.#sendControl(peer, ['hb']);
        up.push(peer);
      }
    }
    // Isolated (no live peer): go back to the seeds, in case everyone we knew has forgotten us.
    if (up.length === 0) for (const seed of this.#seeds) if (seed !== this.#identity.address) this.#dialSeed(seed, 1);
    // Anti-entropy for membership: every few ticks, one peer (in turn) gets our whole member
    // list, so a lost or unanswered member exchange heals.
    if (up.length > 0 && ++this.#ticks % MEMBER_GOSSIP_EVERY_TICKS === 0) {
      this.#sendMembers(up[(this.#ticks / MEMBER_GOSSIP_EVERY_TICKS) % up.length]!);
    }
  }

  // ------------------------------------------------------------------ up / down

  #declareDown(peer: Peer, reason: DownReason): void {
    if (peer.state !== 'up') return;
    peer.state = 'down';
    peer.downSince = this.clock.now();
    const active = peer.conn;
    peer.conn = null;
    if (active !== null) {
      this.#release(peer, active);
      active.conn.close(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    }
    if (peer.replaced !== null) {
      this.#release(peer, peer.replaced);
      peer.replaced = null;
    }
    peer.queues.discard(new TroupeError('ERR_NO_ROUTE', `node ${peer.node} is down`));
    this.#counters.nodeDowns++;
    this.#logger.info({ peer: peer.node, incarnation: peer.incarnation, reason }, 'node down');
    this.#inbound.nodeDown(peer.node);
    this.#emit({ type: 'down', node: peer.node, incarnation: peer.incarnation, reason });
    if (reason === 'timeout' || reason === 'disconnected') this.#scheduleReconnect(peer);
  }

  #drop(peer: Peer): void {
    peer.reconnectTimer?.cancel();
    peer.reconnectTimer = null;
    if (peer.conn !== null) {
      this.#release(peer, peer.conn);
      peer.conn.conn.close(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    }
    if (peer.replaced !== null) this.#release(peer, peer.replaced);
    peer.conn = null;
    peer.replaced = null;
    this.#fd.forget(peer.node);
    if (this.#peers.get(peer.node) === peer) this.#peers.delete(peer.node);
  }

  #emit(event: NodeEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.#logger.error({ err }, 'node event listener threw');
      }
    }
  }

  // ------------------------------------------------------------------ metrics and stopping

  #observe(meter: Meter): void {
    const attrs = { node: this.#identity.node };
    const sent = meter.createObservableCounter('troupe.internode.frames.sent');
    const received = meter.createObservableCounter('troupe.internode.frames.received');
    const dropped = meter.createObservableCounter('troupe.internode.frames.dropped', {
      description: 'Frames dropped, by class and reason',
    });
    const refused = meter.createObservableCounter('troupe.internode.handshakes.refused');
    const up = meter.createObservableGauge('troupe.internode.nodes.up');
    const cb = (r: BatchObservableResult): void => {
      const c = this.#counters;
      for (const cls of FRAME_CLASSES) {
        r.observe(sent, c.framesSent[cls], { ...attrs, class: cls });
        r.observe(received, c.framesReceived[cls], { ...attrs, class: cls });
        r.observe(dropped, c.queues.dropped[cls].overflow, { ...attrs, class: cls, reason: 'overflow' });
        r.observe(dropped, c.queues.dropped[cls].discarded, { ...attrs, class: cls, reason: 'discarded' });
        r.observe(dropped, c.queues.rejected[cls], { ...attrs, class: cls, reason: 'rejected' });
      }
      for (const [reason, n] of Object.entries(c.handshakeRefusals)) r.observe(refused, n, { ...attrs, reason });
      r.observe(up, this.upNodes().length, attrs);
    };
    meter.addBatchObservableCallback(cb, [sent, received, dropped, refused, up]);
    this.#unobserve = () => meter.removeBatchObservableCallback(cb, [sent, received, dropped, refused, up]);
  }

  /** Leaves the cluster: flushes what it can, tells peers it is leaving, closes everything. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#tick?.cancel();
    for (const t of this.#seedTimers.values()) t.cancel();
    this.#seedTimers.clear();
    for (const peer of this.#peers.values()) {
      peer.reconnectTimer?.cancel();
      peer.reconnectTimer = null;
      this.#pump(peer);
      peer.conn?.conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    }
    for (const conn of this.#pendingConnections) conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    for (const peer of [...this.#peers.values()]) {
      if (peer.state === 'up') this.#declareDown(peer, 'stopped');
    }
    this.#peers.clear();
    await this.#listener?.close();
    this.#unobserve();
    for (const wake of this.#eventWakers) wake(); // waiting iterators see #stopping and end
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function classOf(frame: Buffer): FrameClassName {
  return CLASS_BY_ID.get(frame[1]!) ?? 'user';
}
