// The link to one peer incarnation: its per-class bounded queues, the write loop that drains them
// into the live connection, the receive path that splits messages into frames, and the retiring
// of a duplicate connection without loss. Up, down and membership are the facade's business.
import type { Logger } from 'pino';
import { decode, encode, type Clock } from '../runtime/index.js';
import { CLASS_BY_ID, FRAME_CLASSES, type FrameClassName } from './classes.js';
import { CLOSE } from './errors.js';
import { decodeFrames, encodeFrame } from './frame.js';
import { COALESCE_TARGET_BYTES, HANDSHAKE_TIMEOUT_MS, HIGH_WATER_MARK_BYTES, type ClassLimits } from './limits.js';
import { OutboundQueues, type EnqueueResult, type QueueCounters } from './queues.js';
import type { Connection } from './transport.js';

export interface LinkCounters {
  readonly framesSent: Record<FrameClassName, number>;
  readonly framesReceived: Record<FrameClassName, number>;
  messagesSent: number;
  bytesSent: number;
  readonly queues: QueueCounters;
}

/** What a link needs from the layer that owns it. */
export interface LinkHost {
  readonly clock: Clock;
  /** Runs the write loop soon (setImmediate, or the simulation's scheduler). */
  readonly defer: (fn: () => void) => void;
  readonly counters: LinkCounters;
  readonly logger: Logger;
  /** Whether frames from this link still count (it is up and current). */
  live(link: Link): boolean;
  /** A sign of life arrived (any frame); told at most every `heardEveryMs` per link. */
  heard(link: Link): void;
  readonly heardEveryMs: number;
  /** A decoded frame body of a class other than the link's own control messages (or undefined: undecodable). */
  frame(link: Link, cls: FrameClassName, body: unknown, bytes: number): void;
  /** A message that is not a sequence of frames arrived; the link has closed that connection. */
  malformed(link: Link, reason: string): void;
  /** A connection of this link closed. */
  closed(link: Link, active: ActiveConnection, code: number, reason: string): void;
}

/** One connection of a link. */
export class ActiveConnection {
  readonly conn: Connection;
  /** Name of the node that dialed this connection (the tie-break input). */
  readonly dialer: string;
  inFlight = 0;
  /** Reported to the failure detector as connected, and not yet as disconnected. */
  counted = true;
  /** We sent `retire` on it: no more frames from us; it closes once the peer retires it too. */
  retiring = false;
  /** The peer sent `retire` on it: no more frames will come from the peer on it. */
  peerRetired = false;
  retireTimer: { cancel(): void } | null = null;

  constructor(conn: Connection, dialer: string) {
    this.conn = conn;
    this.dialer = dialer;
  }
}

const RETIRE = encodeFrame('control', encode(['retire']));
const PROBE = encodeFrame('control', encode(['probe']));
const ANSWER = encodeFrame('control', encode(['hb']));

export class Link {
  readonly node: string;
  readonly incarnation: number;
  readonly queues: OutboundQueues;
  /** The connection the write loop uses. */
  conn: ActiveConnection | null = null;
  /**
   * A connection the peer closed as a duplicate: it holds a better one whose handshake has not
   * reached us yet. It stays counted by the failure detector until the replacement attaches, so
   * the race is not a down; if no replacement comes, silence makes it one.
   */
  replaced: ActiveConnection | null = null;
  /** Every connection not yet closed (live, retiring, replaced). */
  readonly #open = new Set<ActiveConnection>();
  readonly #host: LinkHost;
  #pumpScheduled = false;
  /** When the host was last told of a sign of life (it is a validated lookup: not once per message). */
  #heardAt = Number.NEGATIVE_INFINITY;
  #probes: ((alive: boolean) => void)[] = [];

  constructor(
    node: string,
    incarnation: number,
    host: LinkHost,
    limits: Readonly<Record<FrameClassName, ClassLimits>>,
  ) {
    this.node = node;
    this.incarnation = incarnation;
    this.#host = host;
    this.queues = new OutboundQueues(host.counters.queues, limits);
  }

  /** Connections open on this link (what the admission counts). */
  get connections(): number {
    return this.#open.size;
  }

  /** Takes over a connection after its handshake; `pending` are frames that arrived meanwhile. */
  open(conn: Connection, dialer: string): ActiveConnection {
    const active = new ActiveConnection(conn, dialer);
    this.#open.add(active);
    conn.setHandlers({
      message: (data) => this.#onData(active, data),
      close: (code, reason) => {
        this.#open.delete(active);
        active.retireTimer?.cancel();
        active.retireTimer = null;
        if (this.#open.size === 0) this.#answerProbes(false);
        this.#host.closed(this, active, code, reason);
      },
    });
    return active;
  }

  /** Reads frames that arrived during the handshake, in order. */
  replay(active: ActiveConnection, pending: readonly Buffer[]): void {
    for (const data of pending) this.#onData(active, data);
  }

  /** Makes `active` the connection the write loop uses. */
  use(active: ActiveConnection): void {
    this.conn = active;
    this.schedulePump();
  }

  /**
   * Retires a connection: `retire` is our last frame on it (a connection is FIFO, so the peer
   * reads everything we sent before it); it closes once the peer has retired it too, or after
   * a bound if the peer never does.
   */
  retire(active: ActiveConnection): void {
    if (active.retiring) return;
    active.retiring = true;
    active.conn.send(RETIRE);
    if (active.peerRetired) {
      active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
      return;
    }
    active.retireTimer = this.#host.clock.setTimer(HANDSHAKE_TIMEOUT_MS, () => {
      active.retireTimer = null;
      active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
    });
  }

  /**
   * Whether the peer answers on the live connection within `timeoutMs`: any frame counts. Used
   * when a newer incarnation of this node knocks: if this one answers, two nodes share one name.
   */
  probe(timeoutMs: number): Promise<boolean> {
    const active = this.conn ?? this.replaced;
    if (active === null) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = this.#host.clock.setTimer(timeoutMs, () => {
        this.#probes = this.#probes.filter((p) => p !== answer);
        resolve(false);
      });
      const answer = (alive: boolean): void => {
        timer.cancel();
        resolve(alive);
      };
      this.#probes.push(answer);
      active.conn.send(PROBE);
    });
  }

  #answerProbes(alive: boolean): void {
    if (this.#probes.length === 0) return;
    const probes = this.#probes;
    this.#probes = [];
    for (const p of probes) p(alive);
  }

  /** Closes every connection of this link (the node went down, or we stop). */
  closeAll(code: number, reason: string): void {
    for (const active of [...this.#open]) active.conn.close(code, reason);
    this.conn = null;
    this.replaced = null;
    this.#answerProbes(false);
  }

  /** Resolves once every connection of this link has closed (each within the transport's grace). */
  async settled(): Promise<void> {
    await Promise.all([...this.#open].map((a) => a.conn.closed));
  }

  // ------------------------------------------------------------------ the write loop

  enqueue(cls: FrameClassName, frame: Buffer, force = false): EnqueueResult {
    // An idle link writes at once (latency): nothing queued, nothing in flight, room for the frame.
    // While a write is in flight, frames wait and go out together when it flushes (throughput).
    const active = this.conn;
    if (
      active !== null &&
      active.inFlight === 0 &&
      !this.#pumpScheduled &&
      this.queues.totalFrames === 0 &&
      this.queues.hasRoom(cls, frame.length) &&
      active.conn.bufferedAmount < HIGH_WATER_MARK_BYTES
    ) {
      this.#write(active, frame);
      this.#host.counters.framesSent[cls]++;
      return 'queued';
    }
    const result = this.queues.enqueue(cls, frame, force);
    if (result !== 'rejected' && result !== 'dropped-newest') this.schedulePump();
    return result;
  }

  schedulePump(): void {
    if (this.#pumpScheduled || this.conn === null) return;
    this.#pumpScheduled = true;
    this.#host.defer(() => {
      this.#pumpScheduled = false;
      this.pump();
    });
  }

  // Drains by priority with fairness into coalesced messages, and stops while the socket holds
  // more than the high-water mark: back-pressure fills our bounded queues, not Node's heap.
  pump(): void {
    const active = this.conn;
    if (active === null) return;
    const counters = this.#host.counters;
    while (active.inFlight + active.conn.bufferedAmount < HIGH_WATER_MARK_BYTES) {
      const frames = this.queues.drain(COALESCE_TARGET_BYTES);
      if (frames.length === 0) return;
      for (const f of frames) counters.framesSent[CLASS_BY_ID.get(f[1]!) ?? 'user']++;
      this.#write(active, frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    }
  }

  #write(active: ActiveConnection, message: Buffer): void {
    const counters = this.#host.counters;
    counters.messagesSent++;
    counters.bytesSent += message.length;
    active.inFlight += message.length;
    active.conn.send(message, () => {
      active.inFlight -= message.length;
      if (this.conn === active && this.queues.totalFrames > 0) this.schedulePump();
    });
  }

  // ------------------------------------------------------------------ the receive path

  #onData(active: ActiveConnection, data: Buffer): void {
    const host = this.#host;
    if (!host.live(this)) return; // late traffic after down
    let frames;
    try {
      frames = decodeFrames(data);
    } catch (err) {
      const reason = (err as Error).message;
      active.conn.close(CLOSE.protocolError.code, `${CLOSE.protocolError.reason}: ${reason}`);
      host.malformed(this, reason);
      return;
    }
    // Any traffic on the live connection is a sign of life. Not on one being retired: a peer that
    // keeps writing to a connection we retire while its own live one is dead to us (a close lost in
    // a partition) must time out, or both sides would keep a link that only one of them can hear.
    if (active === this.conn) {
      const now = host.clock.now();
      if (now - this.#heardAt >= host.heardEveryMs) {
        this.#heardAt = now;
        host.heard(this);
      }
    }
    this.#answerProbes(true);
    const received = host.counters.framesReceived;
    for (const f of frames) {
      received[f.cls]++;
      let body: unknown;
      try {
        body = decode(f.body);
      } catch {
        host.frame(this, f.cls, undefined, f.body.length);
        continue;
      }
      if (f.cls === 'control' && this.#linkControl(active, body)) continue;
      host.frame(this, f.cls, body, f.body.length);
      if (!host.live(this)) return; // a handler took the link down
    }
  }

  /** Control messages about the connection itself; returns false for the others (members, unknown). */
  #linkControl(active: ActiveConnection, body: unknown): boolean {
    if (!Array.isArray(body) || body.length !== 1) return false;
    switch (body[0]) {
      case 'hb':
        return true; // its arrival already counted as a sign of life
      case 'probe':
        active.conn.send(ANSWER); // on the connection it came on, at once: we are alive
        return true;
      case 'retire':
        // The peer sends nothing more on this connection; once we have retired it too, it closes.
        active.peerRetired = true;
        if (active.retiring) active.conn.close(CLOSE.duplicate.code, CLOSE.duplicate.reason);
        return true;
      default:
        return false;
    }
  }
}

export const byClass = <T>(make: () => T): Record<FrameClassName, T> =>
  Object.fromEntries(FRAME_CLASSES.map((c) => [c, make()])) as Record<FrameClassName, T>;
