// The peer table: one Link per known member, driven by the membership core (who is in, which
// connection stays) and the failure detector (up and down by time). It attaches welcomed
// connections, handles their frames and their closes, and carries out a down: connections
// closed, queues discarded, monitors fired, subscribers told. Nothing here throws into a node:
// a detector that refuses an input is logged and counted.
import type { Logger } from 'pino';
import { encode, type Clock, type RemoteInbound } from '../runtime/index.js';
import type { FrameClassName } from './classes.js';
import { CLOSE, InternodeError, type Refusal } from './errors.js';
import { FailureDetector, type FailureDetectorEvent } from './failure-detector.js';
import { encodeFrame } from './frame.js';
import type { PeerIdentity } from './handshake.js';
import {
  HEARD_EVERY_MS,
  IDENTITY_PROBE_TIMEOUT_MS,
  MAX_MEMBER_LIST,
  MEMBER_GOSSIP_EVERY_TICKS,
  type ClassLimits,
} from './limits.js';
import { Link, type ActiveConnection, type LinkHost } from './link.js';
import { MembershipCore, keepNewConnection, type DownReason, type NodeEvent } from './membership.js';
import { bump, type InternodeCounters } from './stats.js';
import type { Connection } from './transport.js';

/** Frames this layer hands to the subsystems above it. */
export type FrameHandler = (fromNode: string, body: unknown) => void;

export interface PeersOptions {
  readonly self: PeerIdentity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly defer: (fn: () => void) => void;
  readonly counters: InternodeCounters;
  readonly classLimits: Readonly<Record<FrameClassName, ClassLimits>>;
  readonly heartbeatIntervalMs: number;
  readonly downAfterMs: number;
  readonly maxPeers?: number;
  /** User frames go to the router. */
  readonly user: (node: string, body: unknown, bytes: number) => void;
  /** Addresses worth dialing (learned from a member list). */
  readonly dial: (address: string) => void;
  /** A member went down and the core says it is worth redialing. */
  readonly redial: (link: Link) => void;
  /** A member's link is gone (forgotten or replaced): its pending redial is moot. */
  readonly gone: (node: string) => void;
  readonly emit: (event: NodeEvent) => void;
}

export class Peers {
  readonly membership: MembershipCore;
  readonly #fd: FailureDetector;
  readonly #links = new Map<string, Link>();
  readonly #handlers = new Map<FrameClassName, FrameHandler>();
  readonly #o: PeersOptions;
  readonly #linkHost: LinkHost;
  #inbound: RemoteInbound | null = null;
  #ticks = 0;
  /** Our own stop: a connection closing now is not the peer leaving. */
  stopping = false;

  constructor(o: PeersOptions) {
    this.#o = o;
    this.membership = new MembershipCore(o.self, o.maxPeers !== undefined ? { maxPeers: o.maxPeers } : {});
    this.#fd = new FailureDetector({
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      suspectAfterMs: Math.round((o.heartbeatIntervalMs + o.downAfterMs) / 2),
      downAfterMs: o.downAfterMs,
    });
    this.#linkHost = {
      clock: o.clock,
      defer: o.defer,
      counters: o.counters,
      logger: o.logger,
      live: (link) => this.#links.get(link.node) === link && this.membership.isUp(link.node, link.incarnation),
      heard: (link) => this.#detect(() => this.#fd.heartbeatSeen(link.node, link.incarnation, o.clock.now())),
      heardEveryMs: Math.min(HEARD_EVERY_MS, Math.floor(o.heartbeatIntervalMs / 4)),
      frame: (link, cls, body, bytes) => this.#frame(link, cls, body, bytes),
      malformed: (link, reason) => {
        bump(o.counters.malformed, 'frame');
        o.logger.warn({ peer: link.node, err: reason }, 'malformed frame; closing connection');
      },
      closed: (link, active, code, reason) => this.#closed(link, active, code, reason),
    };
  }

  set inbound(inbound: RemoteInbound) {
    this.#inbound = inbound;
  }

  handle(cls: FrameClassName, handler: FrameHandler): void {
    if (this.#handlers.has(cls))
      throw new InternodeError('ERR_BAD_CONFIG', `a handler for ${cls} is already registered`);
    this.#handlers.set(cls, handler);
  }

  /** The link of a node that is up (of that incarnation, when given). */
  up(node: string, incarnation?: number): Link | undefined {
    return this.membership.isUp(node, incarnation) ? this.#links.get(node) : undefined;
  }

  link(node: string): Link | undefined {
    return this.#links.get(node);
  }

  links(): IterableIterator<Link> {
    return this.#links.values();
  }

  /** Admission of an authenticated peer; a newer incarnation of a connected node probes the old one first. */
  async admit(peer: PeerIdentity): Promise<Refusal | undefined> {
    if (this.stopping) return 'shuttingDown';
    const link = this.#links.get(peer.node);
    let admission = this.membership.admit(peer, { connections: link?.connections ?? 0 });
    if (admission.kind === 'probe' && link !== undefined) {
      const alive = await link.probe(IDENTITY_PROBE_TIMEOUT_MS);
      admission = this.membership.admit(peer, { connections: link.connections, probe: alive ? 'answered' : 'silent' });
    }
    return admission.kind === 'refuse' ? admission.refusal : undefined;
  }

  /** A welcomed connection: a member comes up, or the tie-break decides which connection stays. */
  attach(conn: Connection, id: PeerIdentity, dialer: string, pending: Buffer[]): void {
    const { clock, counters, logger } = this.#o;
    if (this.stopping) return conn.close(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    const old = this.#links.get(id.node);
    const now = clock.now();
    const attached = this.membership.attach(id, now, {
      connections: old?.incarnation === id.incarnation ? old.connections : 0,
    });
    if (attached.kind === 'refuse') {
      bump(counters.handshakeRefusals, CLOSE[attached.refusal].reason);
      return conn.close(CLOSE[attached.refusal].code, CLOSE[attached.refusal].reason);
    }
    logger.debug({ peer: id.node, incarnation: id.incarnation, dialer }, 'connection established');
    if (attached.kind === 'extra') return this.#extra(old!, conn, dialer, pending, now);
    for (const node of attached.forgotten) this.forget(node);
    for (const event of attached.events)
      if (event.type === 'down' && old !== undefined) this.#wentDown(old, event.reason);
    if (attached.replaced !== undefined && old !== undefined) this.#drop(old);
    let link = this.#links.get(id.node);
    if (link === undefined) {
      link = new Link(id.node, id.incarnation, this.#linkHost, this.#o.classLimits);
      this.#links.set(id.node, link);
    }
    this.#o.gone(id.node); // a pending redial is moot
    const active = link.open(conn, dialer);
    this.#detect(() => this.#fd.peerConnected(id.node, id.incarnation, now));
    link.use(active);
    counters.nodeUps++;
    logger.info({ peer: id.node, incarnation: id.incarnation, address: id.address }, 'node up');
    this.#o.emit(attached.events.at(-1)!);
    this.#sendMembers(link);
    for (const other of this.#links.values())
      if (other !== link && this.membership.isUp(other.node)) this.#sendMembers(other, [link.node]);
    link.replay(active, pending);
  }

  /** A second connection to a node that is up: both sides keep the one the smaller name dialed. */
  #extra(link: Link, conn: Connection, dialer: string, pending: Buffer[], now: number): void {
    const active = link.open(conn, dialer);
    this.#detect(() => this.#fd.peerConnected(link.node, link.incarnation, now));
    const current = link.conn;
    if (current !== null && !keepNewConnection(this.#o.self.node, link.node, dialer, current.dialer)) {
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
    this.#o.logger.debug({ peer: link.node, code, reason, live: link.conn === active }, 'connection closed');
    const up = this.membership.isUp(link.node, link.incarnation) && this.#links.get(link.node) === link;
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
    if (this.stopping) this.down(link, 'stopped');
    else if (code === CLOSE.shuttingDown.code) this.down(link, 'left');
    else if (events.some((e) => e.type === 'down')) this.down(link, 'disconnected');
  }

  /** Reports a connection's end to the failure detector, once. */
  #release(link: Link, active: ActiveConnection): readonly FailureDetectorEvent[] {
    active.retireTimer?.cancel();
    active.retireTimer = null;
    if (!active.counted) return [];
    active.counted = false;
    return this.#detect(() => this.#fd.peerDisconnected(link.node, link.incarnation, this.#o.clock.now()));
  }

  #detect(run: () => readonly FailureDetectorEvent[]): readonly FailureDetectorEvent[] {
    try {
      return run();
    } catch (err) {
      bump(this.#o.counters.malformed, 'detector-input');
      this.#o.logger.error({ err }, 'failure detector refused an input');
      return [];
    }
  }

  // ------------------------------------------------------------------ frames

  #frame(link: Link, cls: FrameClassName, body: unknown, bytes: number): void {
    const malformed = this.#o.counters.malformed;
    if (body === undefined) return bump(malformed, `${cls}-body`);
    if (cls === 'control') return this.#control(body);
    if (cls === 'user') return this.#o.user(link.node, body, bytes);
    const handler = this.#handlers.get(cls);
    if (handler === undefined) return bump(malformed, `${cls}-unhandled`);
    try {
      handler(link.node, body);
    } catch (err) {
      bump(malformed, `${cls}-handler-error`);
      this.#o.logger.error({ peer: link.node, cls, err }, 'frame handler threw');
    }
  }

  #control(body: unknown): void {
    const malformed = this.#o.counters.malformed;
    if (!Array.isArray(body) || typeof body[0] !== 'string') return bump(malformed, 'control-shape');
    if (body[0] !== 'members') return bump(malformed, 'control-unknown');
    const list: unknown = body[1];
    if (!Array.isArray(list) || list.length > MAX_MEMBER_LIST) return bump(malformed, 'control-members');
    const learned = this.membership.learn(list);
    for (let i = 0; i < learned.malformed; i++) bump(malformed, 'control-member');
    for (const address of learned.dial) this.#o.dial(address);
  }

  #sendMembers(to: Link, only?: readonly string[]): void {
    const list = this.membership.memberList(to.node, only);
    if (list.length > 0) to.enqueue('control', encodeFrame('control', encode(['members', list])), true);
  }

  // ------------------------------------------------------------------ time, up and down

  /**
   * A heartbeat tick: deadlines judged (a late tick is our own stall, credited to the peers),
   * heartbeats sent, one peer in turn gets the whole member list, long-gone members forgotten.
   * Returns how many peers are up and connected.
   */
  tick(now: number, lateMs: number): number {
    if (lateMs > 0) this.#detect(() => this.#fd.eventLoopDelay(lateMs, now));
    for (const e of this.#detect(() => this.#fd.tick(now))) {
      const link = this.#links.get(e.node);
      if (link === undefined || link.incarnation !== e.incarnation) continue;
      if (e.type === 'down') this.down(link, 'timeout');
      else if (e.type === 'suspect') this.#o.logger.debug({ peer: e.node, silentMs: e.silentMs }, 'peer suspected');
    }
    const heartbeat = encodeFrame('control', encode(['hb']));
    const up: Link[] = [];
    for (const link of this.#links.values()) {
      if (link.conn !== null && this.membership.isUp(link.node, link.incarnation)) {
        link.enqueue('control', heartbeat, true);
        up.push(link);
      }
    }
    // Anti-entropy for membership: a lost or unanswered member exchange heals.
    if (up.length > 0 && ++this.#ticks % MEMBER_GOSSIP_EVERY_TICKS === 0)
      this.#sendMembers(up[(this.#ticks / MEMBER_GOSSIP_EVERY_TICKS) % up.length]!);
    for (const node of this.membership.tick(now)) this.forget(node);
    return up.length;
  }

  down(link: Link, reason: DownReason): void {
    const event = this.membership.down(link.node, link.incarnation, reason, this.#o.clock.now());
    if (event === undefined) return;
    this.#wentDown(link, reason);
    if (reason === 'timeout' || reason === 'disconnected') this.#o.redial(link);
  }

  /** Side effects of a down: connections closed, queues discarded, monitors fired, subscribers told. */
  #wentDown(link: Link, reason: DownReason): void {
    for (const active of [link.conn, link.replaced]) if (active !== null) this.#release(link, active);
    link.closeAll(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    link.queues.discard(new InternodeError('ERR_NO_ROUTE', `node ${link.node} is down`));
    this.#o.counters.nodeDowns++;
    this.#o.logger.info({ peer: link.node, incarnation: link.incarnation, reason }, 'node down');
    this.#inbound?.nodeDown(link.node);
    this.#o.emit({ type: 'down', node: link.node, incarnation: link.incarnation, reason });
  }

  /** A member forgotten by the membership core: its link, its redial and its detector state go. */
  forget(node: string): void {
    const link = this.#links.get(node);
    if (link !== undefined) this.#drop(link);
    this.#fd.forget(node);
  }

  #drop(link: Link): void {
    this.#o.gone(link.node);
    for (const active of [link.conn, link.replaced]) if (active !== null) this.#release(link, active);
    link.closeAll(CLOSE.peerDown.code, CLOSE.peerDown.reason);
    if (this.#links.get(link.node) === link) this.#links.delete(link.node);
    this.#fd.forget(link.node);
  }

  /** Our stop: every link flushed what it could, closed with "shutting down", and seen down. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const link of this.#links.values()) {
      link.pump();
      link.closeAll(CLOSE.shuttingDown.code, CLOSE.shuttingDown.reason);
    }
    for (const link of [...this.#links.values()]) this.down(link, 'stopped');
    const closing = [...this.#links.values()].map((l) => l.settled());
    this.#links.clear();
    await Promise.all(closing);
  }
}
