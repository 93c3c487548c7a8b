// The internode layer's counters: what stats() returns and what OpenTelemetry reads at
// collection time (never on a hot path). Every name exists from the start, at zero; reasons are
// attributes of one instrument, never instruments of their own.
import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import { FRAME_CLASSES, type FrameClassName } from './classes.js';
import type { DialFailure } from './errors.js';
import { byClass, type LinkCounters } from './link.js';
import { newQueueCounters, type QueueCounters } from './queues.js';
import type { WsRefusal } from './ws-transport.js';

export interface InternodeCounters extends LinkCounters {
  /** Handshakes refused, by reason (either side refused; the reason text of CLOSE). */
  readonly handshakeRefusals: Record<string, number>;
  /** Bodies and messages refused as malformed, by what was wrong. */
  readonly malformed: Record<string, number>;
  noRoute: number;
  nodeUps: number;
  nodeDowns: number;
  /** Dials that failed before a handshake could start, by why. */
  readonly dialFailures: Record<DialFailure, number>;
  /** What the transport refused on its own: text messages, 1009 closes, silent or evicted sockets. */
  readonly transportRefusals: Record<WsRefusal, number>;
  eventsDropped: number;
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
  readonly dialFailuresByReason: Record<DialFailure, number>;
  readonly transportRefusals: Record<WsRefusal, number>;
  /** Node events dropped because an `events()` iterator fell MAX_EVENT_BACKLOG behind. */
  readonly eventsDropped: number;
}

const DIAL_FAILURES: readonly DialFailure[] = ['refused', 'unreachable', 'tls', 'timeout', 'closed', 'other'];
const TRANSPORT_REFUSALS: readonly WsRefusal[] = ['text-message', 'message-too-big', 'silent-socket', 'evicted-socket'];

export function newCounters(): InternodeCounters {
  return {
    framesSent: byClass(() => 0),
    framesReceived: byClass(() => 0),
    messagesSent: 0,
    bytesSent: 0,
    queues: newQueueCounters(),
    handshakeRefusals: {},
    malformed: {},
    noRoute: 0,
    nodeUps: 0,
    nodeDowns: 0,
    dialFailures: Object.fromEntries(DIAL_FAILURES.map((f) => [f, 0])) as Record<DialFailure, number>,
    transportRefusals: Object.fromEntries(TRANSPORT_REFUSALS.map((r) => [r, 0])) as Record<WsRefusal, number>,
    eventsDropped: 0,
  };
}

export function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

export function snapshot(c: InternodeCounters, peers: number, up: number): InternodeStats {
  return {
    peers,
    up,
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
    dialFailures: Object.values(c.dialFailures).reduce((a, b) => a + b, 0),
    dialFailuresByReason: { ...c.dialFailures },
    transportRefusals: { ...c.transportRefusals },
    eventsDropped: c.eventsDropped,
  };
}

/** Registers the layer's instruments; returns the function that unregisters them. */
export function observe(meter: Meter, node: string, c: InternodeCounters, upNodes: () => number): () => void {
  const attrs = { node };
  const counter = (name: string, description?: string) =>
    meter.createObservableCounter(`troupe.internode.${name}`, description !== undefined ? { description } : {});
  const sent = counter('frames.sent');
  const received = counter('frames.received');
  const dropped = counter('frames.dropped', 'Frames dropped, by class and reason');
  const malformed = counter('frames.malformed', 'Bodies or messages refused as malformed, by reason');
  const refused = counter('handshakes.refused', 'Handshakes refused, by reason');
  const dials = counter('dials.failed', 'Dials that failed before a handshake, by reason');
  const transport = counter('connections.refused', 'Text messages, 1009 closes, silent or evicted sockets');
  const noRoute = counter('messages.no_route');
  const events = counter('events.dropped');
  const up = meter.createObservableGauge('troupe.internode.nodes.up');
  const all = [sent, received, dropped, malformed, refused, dials, transport, noRoute, events, up];
  const cb = (r: BatchObservableResult): void => {
    for (const cls of FRAME_CLASSES) {
      r.observe(sent, c.framesSent[cls], { ...attrs, class: cls });
      r.observe(received, c.framesReceived[cls], { ...attrs, class: cls });
      r.observe(dropped, c.queues.dropped[cls].overflow, { ...attrs, class: cls, reason: 'overflow' });
      r.observe(dropped, c.queues.dropped[cls].discarded, { ...attrs, class: cls, reason: 'discarded' });
      r.observe(dropped, c.queues.rejected[cls], { ...attrs, class: cls, reason: 'rejected' });
    }
    for (const [reason, n] of Object.entries(c.malformed)) r.observe(malformed, n, { ...attrs, reason });
    for (const [reason, n] of Object.entries(c.handshakeRefusals)) r.observe(refused, n, { ...attrs, reason });
    for (const [reason, n] of Object.entries(c.dialFailures)) r.observe(dials, n, { ...attrs, reason });
    for (const [reason, n] of Object.entries(c.transportRefusals)) r.observe(transport, n, { ...attrs, reason });
    r.observe(noRoute, c.noRoute, attrs);
    r.observe(events, c.eventsDropped, attrs);
    r.observe(up, upNodes(), attrs);
  };
  meter.addBatchObservableCallback(cb, all);
  return () => meter.removeBatchObservableCallback(cb, all);
}
