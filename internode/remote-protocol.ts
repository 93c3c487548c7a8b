// Process messages and signals between nodes, carried on the `user` class in one stream per
// pair of nodes, so a message and a later signal from the same process keep their order.
// Decoding validates every field: pids must be pids, a sender must belong to the peer that sent
// the frame, a target must be ours, refs are bounded strings.
import {
  MAX_NODE_NAME_LENGTH,
  Pid,
  reasonFromWire,
  reasonToWire,
  type ExitReason,
  type Ref,
} from '../runtime/index.js';
import { MAX_REF_LENGTH } from './limits.js';

export type RemoteSignal =
  | { readonly op: 'send'; readonly from: Pid | undefined; readonly to: Pid; readonly message: unknown }
  | { readonly op: 'send-named'; readonly from: Pid | undefined; readonly name: string; readonly message: unknown }
  | { readonly op: 'monitor'; readonly watcher: Pid; readonly target: Pid; readonly ref: Ref }
  | { readonly op: 'demonitor'; readonly watcher: Pid; readonly target: Pid; readonly ref: Ref }
  | { readonly op: 'monitor-named'; readonly watcher: Pid; readonly name: string; readonly ref: Ref }
  | { readonly op: 'demonitor-named'; readonly watcher: Pid; readonly name: string; readonly ref: Ref }
  | {
      readonly op: 'down-named';
      readonly watcher: Pid;
      readonly ref: Ref;
      readonly name: string;
      readonly reason: ExitReason;
    }
  | { readonly op: 'down'; readonly watcher: Pid; readonly ref: Ref; readonly target: Pid; readonly reason: ExitReason }
  | { readonly op: 'link'; readonly from: Pid; readonly to: Pid }
  | { readonly op: 'unlink'; readonly from: Pid; readonly to: Pid }
  | {
      readonly op: 'exit';
      readonly from: Pid | undefined;
      readonly to: Pid;
      readonly reason: ExitReason;
      readonly link: boolean;
    };

// Compact arrays on the wire: [opcode, ...fields].
const OP = {
  send: 0,
  'send-named': 1,
  monitor: 2,
  demonitor: 3,
  down: 4,
  link: 5,
  unlink: 6,
  exit: 7,
  'monitor-named': 8,
  'demonitor-named': 9,
  'down-named': 10,
} as const;

export function signalToWire(s: RemoteSignal): unknown[] {
  switch (s.op) {
    case 'send':
      return [OP.send, s.from ?? null, s.to, s.message];
    case 'send-named':
      return [OP['send-named'], s.from ?? null, s.name, s.message];
    case 'monitor':
    case 'demonitor':
      return [OP[s.op], s.watcher, s.target, s.ref];
    case 'down':
      return [OP.down, s.watcher, s.ref, s.target, reasonToWire(s.reason)];
    case 'monitor-named':
    case 'demonitor-named':
      return [OP[s.op], s.watcher, s.name, s.ref];
    case 'down-named':
      return [OP['down-named'], s.watcher, s.ref, s.name, reasonToWire(s.reason)];
    case 'link':
    case 'unlink':
      return [OP[s.op], s.from, s.to];
    case 'exit':
      return [OP.exit, s.from ?? null, s.to, reasonToWire(s.reason), s.link];
  }
}

/** Why a decoded body was refused (counted by the caller, never thrown into the node). */
export type SignalRejection = 'shape' | 'spoofed-sender' | 'not-for-us';

const isRef = (r: unknown): r is Ref => typeof r === 'string' && r.length > 0 && r.length <= MAX_REF_LENGTH;
const isName = (n: unknown): n is string => typeof n === 'string' && n.length > 0 && n.length <= MAX_NODE_NAME_LENGTH;
// Module-level (not closures per frame): this runs for every message received.
const isPidOf = (p: unknown, node: string): p is Pid => p instanceof Pid && p.node === node;
/** A sender field: null (no sender), a pid of the peer, or false when it is neither. */
const senderOf = (p: unknown, peer: string): Pid | undefined | false =>
  p === null ? undefined : isPidOf(p, peer) ? p : false;

/**
 * Validates a decoded body from `peer` (its node name) arriving at node `self`.
 * Returns the signal, or the reason it was refused.
 */
export function signalFromWire(body: unknown, peer: string, self: string): RemoteSignal | SignalRejection {
  if (!Array.isArray(body) || body.length < 3) return 'shape';
  const [op, a, b, c, d] = body as unknown[];
  switch (op) {
    case OP.send: {
      if (body.length !== 4) return 'shape';
      const from = senderOf(a, peer);
      if (from === false) return a instanceof Pid ? 'spoofed-sender' : 'shape';
      if (!(b instanceof Pid)) return 'shape';
      if (!isPidOf(b, self)) return 'not-for-us';
      return { op: 'send', from, to: b, message: c };
    }
    case OP['send-named']: {
      if (body.length !== 4) return 'shape';
      const from = senderOf(a, peer);
      if (from === false) return a instanceof Pid ? 'spoofed-sender' : 'shape';
      if (!isName(b)) return 'shape';
      return { op: 'send-named', from, name: b, message: c };
    }
    case OP.monitor:
    case OP.demonitor: {
      if (body.length !== 4 || !(a instanceof Pid) || !(b instanceof Pid) || !isRef(c)) return 'shape';
      if (!isPidOf(a, peer)) return 'spoofed-sender';
      if (!isPidOf(b, self)) return 'not-for-us';
      return { op: op === OP.monitor ? 'monitor' : 'demonitor', watcher: a, target: b, ref: c };
    }
    case OP.down: {
      if (body.length !== 5 || !(a instanceof Pid) || !isRef(b) || !(c instanceof Pid)) return 'shape';
      if (!isPidOf(c, peer)) return 'spoofed-sender';
      if (!isPidOf(a, self)) return 'not-for-us';
      return { op: 'down', watcher: a, ref: b, target: c, reason: reasonFromWire(d) };
    }
    case OP['monitor-named']:
    case OP['demonitor-named']: {
      if (body.length !== 4 || !(a instanceof Pid) || !isName(b) || !isRef(c)) return 'shape';
      if (!isPidOf(a, peer)) return 'spoofed-sender';
      return { op: op === OP['monitor-named'] ? 'monitor-named' : 'demonitor-named', watcher: a, name: b, ref: c };
    }
    case OP['down-named']: {
      if (body.length !== 5 || !(a instanceof Pid) || !isRef(b) || !isName(c)) return 'shape';
      if (!isPidOf(a, self)) return 'not-for-us';
      return { op: 'down-named', watcher: a, ref: b, name: c, reason: reasonFromWire(d) };
    }
    case OP.link:
    case OP.unlink: {
      if (body.length !== 3 || !(a instanceof Pid) || !(b instanceof Pid)) return 'shape';
      if (!isPidOf(a, peer)) return 'spoofed-sender';
      if (!isPidOf(b, self)) return 'not-for-us';
      return { op: op === OP.link ? 'link' : 'unlink', from: a, to: b };
    }
    case OP.exit: {
      if (body.length !== 5 || typeof d !== 'boolean') return 'shape';
      const e = body[4] as boolean;
      const from = senderOf(a, peer);
      if (from === false) return a instanceof Pid ? 'spoofed-sender' : 'shape';
      if (!(b instanceof Pid)) return 'shape';
      if (!isPidOf(b, self)) return 'not-for-us';
      return { op: 'exit', from, to: b, reason: reasonFromWire(c), link: e };
    }
    default:
      return 'shape';
  }
}
