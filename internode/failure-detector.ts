// A pure failure detector: it decides node up / suspect / down from handshakes, heartbeats,
// disconnections and the passage of time. No timers, no clock reads, no I/O: the host passes
// `now` (milliseconds from a monotonic clock) into every input and acts on the events returned.
//
// Rules (see docs/readiness.md for the host contract, lessons.md "Transport" for the why):
// - Only a handshake (`peerConnected`) brings a node up. Heartbeats keep it up.
// - Silence first makes a node *suspect*; only a longer silence, or the loss of its last
//   connection, or a newer incarnation makes it *down*. Suspicion alone never fails work.
// - Deadlines are evaluated by `tick` only. A heartbeat that arrives before the tick that would
//   have passed its deadline wins: if no tick ran, our own event loop was probably busy.
// - If the host measured that our event loop was delayed, `eventLoopDelay` pushes every
//   deadline out by that delay instead of blaming the peers for our stall.
// - Per node, events follow up → (suspect → unsuspect)* → down → up …: never two downs without
//   an up between, never an event for a stale incarnation, a newer incarnation is a down of the
//   old one (if it was not down already) before any up of the new one.
// - Time going backwards is a typed error and changes nothing.
import { TroupeError, validateNodeName } from '../runtime/base.js';
import {
  DEFAULT_DOWN_AFTER_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_SUSPECT_AFTER_MS,
  MAX_CONNECTIONS_PER_PEER,
  MAX_DETECTOR_INTERVAL_MS,
  MAX_TRACKED_PEERS,
  MIN_DETECTOR_INTERVAL_MS,
} from './limits.js';
import type { DownReason } from './membership.js';

export type FailureDetectorErrorKind =
  'bad-config' | 'bad-input' | 'time-backwards' | 'too-many-peers' | 'too-many-connections';

/** Every error the detector raises on purpose. Nothing changed when one is thrown. */
export class FailureDetectorError extends TroupeError {
  readonly kind: FailureDetectorErrorKind;
  constructor(kind: FailureDetectorErrorKind, message: string) {
    super(
      kind === 'too-many-peers' || kind === 'too-many-connections' ? 'ERR_LIMIT' : 'ERR_BAD_ARGUMENT',
      `failure detector: ${message}`,
    );
    this.name = 'FailureDetectorError';
    this.kind = kind;
  }
}

export interface FailureDetectorOptions {
  /** How often the host sends heartbeats; the detector only validates it against the others. */
  readonly heartbeatIntervalMs?: number;
  /** Silence (ms) after which a node is suspect. Must exceed heartbeatIntervalMs. */
  readonly suspectAfterMs?: number;
  /** Silence (ms) after which a node is down. Must exceed suspectAfterMs. */
  readonly downAfterMs?: number;
  /** Nodes tracked at once, at most MAX_TRACKED_PEERS. */
  readonly maxPeers?: number;
}

export interface FailureDetectorConfig {
  readonly heartbeatIntervalMs: number;
  readonly suspectAfterMs: number;
  readonly downAfterMs: number;
  readonly maxPeers: number;
}

/** The down reasons the detector itself decides (the host adds 'left' and 'stopped'). */
export type DetectedDownReason = Extract<DownReason, 'timeout' | 'disconnected' | 'new-incarnation'>;

export type FailureDetectorEvent =
  | { readonly type: 'up'; readonly node: string; readonly incarnation: number; readonly at: number }
  | {
      readonly type: 'suspect';
      readonly node: string;
      readonly incarnation: number;
      readonly at: number;
      readonly silentMs: number;
    }
  | { readonly type: 'unsuspect'; readonly node: string; readonly incarnation: number; readonly at: number }
  | {
      readonly type: 'down';
      readonly node: string;
      readonly incarnation: number;
      readonly at: number;
      readonly reason: DetectedDownReason;
    };

export type PeerStatus = 'up' | 'suspect' | 'down';

/** A read-only view of one tracked node. */
export interface PeerView {
  readonly node: string;
  readonly incarnation: number;
  readonly status: PeerStatus;
  /** Connections of this incarnation reported connected and not yet disconnected. */
  readonly connections: number;
  /** Last sign of life, shifted forward by credited event-loop delay. */
  readonly lastHeardAt: number;
  /** When the status last changed. */
  readonly since: number;
}

/** Inputs that were accepted but changed nothing, counted so a host can report them. */
export interface FailureDetectorStats {
  /** Heartbeat or disconnect from a node never connected (or forgotten). */
  unknownPeer: number;
  /** Input carrying an incarnation older than the one known. */
  staleIncarnation: number;
  /** Heartbeat of the current incarnation while the node is down (needs a handshake first). */
  heartbeatWhileDown: number;
  /** Disconnect with no matching connect (count already zero, or an unseen newer incarnation). */
  unmatchedDisconnect: number;
  /** Down nodes evicted to make room for a new one. */
  evicted: number;
  /** Sum of the event-loop delays reported through eventLoopDelay (ms). */
  loopDelayObservedMs: number;
}

interface PeerRecord {
  readonly node: string;
  incarnation: number;
  status: PeerStatus;
  connections: number;
  lastHeardAt: number;
  since: number;
}

function checkInterval(name: string, value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_DETECTOR_INTERVAL_MS ||
    value > MAX_DETECTOR_INTERVAL_MS
  ) {
    throw new FailureDetectorError(
      'bad-config',
      `${name} must be an integer in ${MIN_DETECTOR_INTERVAL_MS}..${MAX_DETECTOR_INTERVAL_MS}, got ${String(value)}`,
    );
  }
  return value;
}

/** Resolve and validate options; throws FailureDetectorError('bad-config') on any bad value. */
export function resolveFailureDetectorConfig(options: FailureDetectorOptions = {}): FailureDetectorConfig {
  if (typeof options !== 'object' || options === null)
    throw new FailureDetectorError('bad-config', 'options must be an object');
  const heartbeatIntervalMs = checkInterval(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs === undefined ? DEFAULT_HEARTBEAT_INTERVAL_MS : options.heartbeatIntervalMs,
  );
  const suspectAfterMs = checkInterval(
    'suspectAfterMs',
    options.suspectAfterMs === undefined ? DEFAULT_SUSPECT_AFTER_MS : options.suspectAfterMs,
  );
  const downAfterMs = checkInterval(
    'downAfterMs',
    options.downAfterMs === undefined ? DEFAULT_DOWN_AFTER_MS : options.downAfterMs,
  );
  if (suspectAfterMs <= heartbeatIntervalMs) {
    throw new FailureDetectorError(
      'bad-config',
      `suspectAfterMs (${suspectAfterMs}) must exceed heartbeatIntervalMs (${heartbeatIntervalMs}), ` +
        'or every node is suspect between two heartbeats',
    );
  }
  if (downAfterMs <= suspectAfterMs) {
    throw new FailureDetectorError(
      'bad-config',
      `downAfterMs (${downAfterMs}) must exceed suspectAfterMs (${suspectAfterMs}): suspect comes before down`,
    );
  }
  const maxPeers = options.maxPeers === undefined ? MAX_TRACKED_PEERS : options.maxPeers;
  if (typeof maxPeers !== 'number' || !Number.isInteger(maxPeers) || maxPeers < 1 || maxPeers > MAX_TRACKED_PEERS) {
    throw new FailureDetectorError(
      'bad-config',
      `maxPeers must be an integer in 1..${MAX_TRACKED_PEERS}, got ${String(maxPeers)}`,
    );
  }
  return Object.freeze({ heartbeatIntervalMs, suspectAfterMs, downAfterMs, maxPeers });
}

function checkIncarnation(incarnation: unknown): number {
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) {
    throw new FailureDetectorError('bad-input', `incarnation must be a safe integer >= 0, got ${String(incarnation)}`);
  }
  return incarnation;
}

const NO_EVENTS: readonly FailureDetectorEvent[] = Object.freeze([]);

export class FailureDetector {
  readonly config: FailureDetectorConfig;
  readonly #peers = new Map<string, PeerRecord>();
  #now = Number.NEGATIVE_INFINITY;
  readonly #stats: FailureDetectorStats = {
    unknownPeer: 0,
    staleIncarnation: 0,
    heartbeatWhileDown: 0,
    unmatchedDisconnect: 0,
    evicted: 0,
    loopDelayObservedMs: 0,
  };

  constructor(options: FailureDetectorOptions = {}) {
    this.config = resolveFailureDetectorConfig(options);
  }

  /** A handshake with `node` (of `incarnation`) completed: the node is up. */
  peerConnected(node: string, incarnation: number, now: number): readonly FailureDetectorEvent[] {
    validateNodeName(node);
    checkIncarnation(incarnation);
    this.#checkTime(now);
    const rec = this.#peers.get(node);
    if (rec === undefined) {
      const victim = this.#roomFor(node);
      this.#now = now;
      if (victim !== undefined) {
        this.#peers.delete(victim);
        this.#stats.evicted++;
      }
      this.#peers.set(node, { node, incarnation, status: 'up', connections: 1, lastHeardAt: now, since: now });
      return [{ type: 'up', node, incarnation, at: now }];
    }
    if (incarnation < rec.incarnation) {
      this.#now = now;
      this.#stats.staleIncarnation++;
      return NO_EVENTS;
    }
    if (incarnation > rec.incarnation) {
      this.#now = now;
      const events: FailureDetectorEvent[] = [];
      if (rec.status !== 'down') events.push(this.#down(rec, 'new-incarnation', now));
      rec.incarnation = incarnation;
      rec.connections = 1;
      rec.lastHeardAt = now;
      rec.status = 'up';
      rec.since = now;
      events.push({ type: 'up', node, incarnation, at: now });
      return events;
    }
    if (rec.connections >= MAX_CONNECTIONS_PER_PEER) {
      throw new FailureDetectorError(
        'too-many-connections',
        `${node} already has ${rec.connections} connections counted ` +
          `(MAX_CONNECTIONS_PER_PEER = ${MAX_CONNECTIONS_PER_PEER}); is the host reporting disconnects?`,
      );
    }
    this.#now = now;
    rec.connections++;
    // A fresh handshake is a sign of life as good as a heartbeat.
    rec.lastHeardAt = Math.max(rec.lastHeardAt, now);
    if (rec.status === 'down') {
      rec.status = 'up';
      rec.since = now;
      return [{ type: 'up', node, incarnation, at: now }];
    }
    if (rec.status === 'suspect') {
      rec.status = 'up';
      rec.since = now;
      return [{ type: 'unsuspect', node, incarnation, at: now }];
    }
    return NO_EVENTS;
  }

  /**
   * A heartbeat (or any frame the host counts as one) arrived from `node`. It keeps an up node up
   * and clears suspicion; it never brings a down node up (that takes a handshake). A newer
   * incarnation than known marks the old one down and waits for the new one's handshake.
   */
  heartbeatSeen(node: string, incarnation: number, now: number): readonly FailureDetectorEvent[] {
    const rec = this.#known(node, incarnation, now);
    if (rec === undefined) return NO_EVENTS;
    if (incarnation > rec.incarnation) {
      const events: FailureDetectorEvent[] = [];
      if (rec.status !== 'down') events.push(this.#down(rec, 'new-incarnation', now));
      // Remember the new incarnation so the old one's frames are stale from here on; its
      // connections are not ours to count until its handshake reports them.
      rec.incarnation = incarnation;
      rec.connections = 0;
      return events;
    }
    if (rec.status === 'down') {
      this.#stats.heartbeatWhileDown++;
      return NO_EVENTS;
    }
    rec.lastHeardAt = Math.max(rec.lastHeardAt, now);
    if (rec.status === 'suspect') {
      rec.status = 'up';
      rec.since = now;
      return [{ type: 'unsuspect', node, incarnation, at: now }];
    }
    return NO_EVENTS;
  }

  /**
   * Validates an input about `node` and advances time; returns its record, or undefined (counted)
   * when the node is unknown or the input is about an older incarnation.
   */
  #known(node: string, incarnation: number, now: number): PeerRecord | undefined {
    validateNodeName(node);
    checkIncarnation(incarnation);
    this.#checkTime(now);
    this.#now = now;
    const rec = this.#peers.get(node);
    if (rec === undefined) {
      this.#stats.unknownPeer++;
      return undefined;
    }
    if (incarnation < rec.incarnation) {
      this.#stats.staleIncarnation++;
      return undefined;
    }
    return rec;
  }

  /** A connection to `node` (of `incarnation`) closed. The last one closing makes the node down. */
  peerDisconnected(node: string, incarnation: number, now: number): readonly FailureDetectorEvent[] {
    const rec = this.#known(node, incarnation, now);
    if (rec === undefined) return NO_EVENTS;
    if (incarnation > rec.incarnation || rec.connections === 0) {
      this.#stats.unmatchedDisconnect++;
      return NO_EVENTS;
    }
    rec.connections--;
    if (rec.connections === 0 && rec.status !== 'down') return [this.#down(rec, 'disconnected', now)];
    return NO_EVENTS;
  }

  /**
   * Our own event loop was measured late by `delayMs` (ms), ending at `now`: every live node's
   * deadline moves out by that delay (never past `now`), because its heartbeats could not have
   * been read while we were stalled. Call it before the `tick` of the same moment.
   */
  eventLoopDelay(delayMs: number, now: number): readonly FailureDetectorEvent[] {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new FailureDetectorError('bad-input', `delayMs must be a finite number >= 0, got ${String(delayMs)}`);
    }
    this.#checkTime(now);
    this.#now = now;
    this.#stats.loopDelayObservedMs += delayMs;
    for (const rec of this.#peers.values()) {
      if (rec.status !== 'down') rec.lastHeardAt = Math.max(rec.lastHeardAt, Math.min(rec.lastHeardAt + delayMs, now));
    }
    return NO_EVENTS;
  }

  /** Time passed: nodes silent past suspectAfterMs become suspect, past downAfterMs down. */
  tick(now: number): readonly FailureDetectorEvent[] {
    this.#checkTime(now);
    this.#now = now;
    let events: FailureDetectorEvent[] | undefined;
    for (const rec of this.#peers.values()) {
      if (rec.status === 'down') continue;
      const silentMs = now - rec.lastHeardAt;
      if (silentMs < this.config.suspectAfterMs) continue;
      events ??= [];
      if (rec.status === 'up') {
        rec.status = 'suspect';
        rec.since = now;
        events.push({ type: 'suspect', node: rec.node, incarnation: rec.incarnation, at: now, silentMs });
      }
      if (silentMs >= this.config.downAfterMs) events.push(this.#down(rec, 'timeout', now));
    }
    return events ?? NO_EVENTS;
  }

  /**
   * The earliest time at which a `tick` could emit an event, or undefined when no node is live.
   * A host may schedule its next tick there instead of polling.
   */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const rec of this.#peers.values()) {
      if (rec.status === 'down') continue;
      const at = rec.lastHeardAt + (rec.status === 'up' ? this.config.suspectAfterMs : this.config.downAfterMs);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Stop tracking a down node (membership decided it left). A live node is kept: returns false. */
  forget(node: string): boolean {
    const rec = this.#peers.get(node);
    if (rec === undefined || rec.status !== 'down') return false;
    this.#peers.delete(node);
    return true;
  }

  status(node: string): PeerView | undefined {
    const rec = this.#peers.get(node);
    return rec === undefined ? undefined : view(rec);
  }

  /** Every tracked node, sorted by name. */
  peers(): PeerView[] {
    return [...this.#peers.values()].map(view).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  get size(): number {
    return this.#peers.size;
  }

  get stats(): Readonly<FailureDetectorStats> {
    return { ...this.#stats };
  }

  /** The latest `now` seen (NEGATIVE_INFINITY before any input). */
  get now(): number {
    return this.#now;
  }

  #down(rec: PeerRecord, reason: DetectedDownReason, now: number): FailureDetectorEvent {
    rec.status = 'down';
    rec.since = now;
    return { type: 'down', node: rec.node, incarnation: rec.incarnation, at: now, reason };
  }

  #checkTime(now: unknown): asserts now is number {
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new FailureDetectorError('bad-input', `now must be a finite number, got ${String(now)}`);
    }
    if (now < this.#now) {
      throw new FailureDetectorError(
        'time-backwards',
        `now (${now}) is before the latest time seen (${this.#now}); pass a monotonic clock`,
      );
    }
  }

  /** Check that a new node fits; returns the down node to evict for it, or throws. */
  #roomFor(node: string): string | undefined {
    if (this.#peers.size < this.config.maxPeers) return undefined;
    let victim: PeerRecord | undefined;
    for (const rec of this.#peers.values()) {
      if (rec.status !== 'down') continue;
      if (victim === undefined || rec.since < victim.since || (rec.since === victim.since && rec.node < victim.node))
        victim = rec;
    }
    if (victim === undefined) {
      throw new FailureDetectorError(
        'too-many-peers',
        `cannot track ${node}: ${this.#peers.size} live nodes tracked (maxPeers = ${this.config.maxPeers})`,
      );
    }
    return victim.node;
  }
}

function view(rec: PeerRecord): PeerView {
  return {
    node: rec.node,
    incarnation: rec.incarnation,
    status: rec.status,
    connections: rec.connections,
    lastHeardAt: rec.lastHeardAt,
    since: rec.since,
  };
}
