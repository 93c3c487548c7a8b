// The remote router: the runtime's seam to other nodes. Outbound, it encodes process messages
// and signals into the `user` class of the target node's link (one stream per pair of nodes, so
// a message and a later signal from the same process keep their order). Inbound, it validates
// what a peer sent and hands it to the node.
import {
  Pid,
  TroupeError,
  encode,
  validateMessage,
  type ExitReason,
  type Ref,
  type RemoteName,
  type RemoteInbound,
  type RemoteRouter,
} from '../runtime/index.js';
import { encodeFrame } from './frame.js';
import type { Link } from './link.js';
import { signalFromWire, signalToWire, type RemoteSignal, type SignalRejection } from './remote-protocol.js';

export interface RouterHost {
  /** The link of a node that is up (of that incarnation, when given), or undefined. */
  up(node: string, incarnation?: number): Link | undefined;
  /** A body the router refused (counted by reason). */
  rejected(reason: SignalRejection): void;
  readonly counters: { noRoute: number };
}

export class Router implements RemoteRouter {
  readonly #host: RouterHost;
  readonly #self: string;
  /** Set once attached to the node. */
  inbound: RemoteInbound | null = null;

  constructor(self: string, host: RouterHost) {
    this.#self = self;
    this.#host = host;
  }

  send(from: Pid | undefined, to: Pid, message: unknown): void {
    const link = this.#route(to);
    if (link === undefined) return;
    const frame = encodeFrame('user', encode(signalToWire({ op: 'send', from, to, message })));
    if (link.enqueue('user', frame) === 'rejected') {
      throw new TroupeError('ERR_BACKPRESSURE', `the queue to ${to.node} is full; use an awaitable send or retry`);
    }
  }

  sendNamed(from: Pid | undefined, node: string, name: string, message: unknown): void {
    const link = this.#host.up(node);
    if (link === undefined) {
      this.#host.counters.noRoute++;
      return;
    }
    const frame = encodeFrame('user', encode(signalToWire({ op: 'send-named', from, name, message })));
    if (link.enqueue('user', frame) === 'rejected') {
      throw new TroupeError('ERR_BACKPRESSURE', `the queue to ${node} is full; use an awaitable send or retry`);
    }
  }

  /**
   * Sends a process message, waiting for room in the peer's `user` queue instead of failing when
   * it is full. Rejects with ERR_NO_ROUTE when the node is not up (or goes down meanwhile), and
   * ERR_ABORTED when `signal` aborts.
   */
  async sendAwait(
    from: Pid | undefined,
    to: Pid | RemoteName,
    message: unknown,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    validateMessage(message); // the same contract (and error path) as Node.send
    const s: RemoteSignal =
      to instanceof Pid ? { op: 'send', from, to, message } : { op: 'send-named', from, name: to.name, message };
    const frame = encodeFrame('user', encode(signalToWire(s)));
    const link = to instanceof Pid ? this.#route(to) : this.#host.up(to.node);
    if (link === undefined && !(to instanceof Pid)) this.#host.counters.noRoute++;
    if (link === undefined) throw new TroupeError('ERR_NO_ROUTE', `node ${to.node} is not up`);
    // Queued in arrival order among waiting senders; rejected if the node goes down meanwhile.
    await link.queues.enqueueWhenRoom('user', frame, options);
    link.schedulePump();
  }

  monitor(watcher: Pid, target: Pid, ref: Ref): void {
    if (!this.#signal(target.node, { op: 'monitor', watcher, target, ref })) {
      queueMicrotask(() => this.inbound?.down(watcher, ref, target, 'noconnection'));
    }
  }

  demonitor(watcher: Pid, target: Pid, ref: Ref): void {
    this.#signal(target.node, { op: 'demonitor', watcher, target, ref });
  }

  monitorNamed(watcher: Pid, node: string, name: string, ref: Ref): void {
    if (!this.#signal(node, { op: 'monitor-named', watcher, name, ref })) {
      queueMicrotask(() => this.inbound?.downNamed(watcher, ref, node, name, 'noconnection'));
    }
  }

  demonitorNamed(watcher: Pid, node: string, name: string, ref: Ref): void {
    this.#signal(node, { op: 'demonitor-named', watcher, name, ref });
  }

  downNamed(watcher: Pid, ref: Ref, name: string, reason: ExitReason): void {
    this.#signal(watcher.node, { op: 'down-named', watcher, ref, name, reason });
  }

  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void {
    this.#signal(watcher.node, { op: 'down', watcher, ref, target, reason });
  }

  link(local: Pid, remote: Pid): void {
    if (!this.#signal(remote.node, { op: 'link', from: local, to: remote })) {
      queueMicrotask(() => this.inbound?.exit(remote, local, 'noconnection', true));
    }
  }

  unlink(local: Pid, remote: Pid): void {
    this.#signal(remote.node, { op: 'unlink', from: local, to: remote });
  }

  exit(from: Pid | undefined, to: Pid, reason: ExitReason, link: boolean): void {
    this.#signal(to.node, { op: 'exit', from, to, reason, link });
  }

  /** A `user` body from `peer` (`bytes` long on the wire): validated, then handed to the node. */
  receive(peer: string, body: unknown, bytes: number): void {
    const inbound = this.inbound;
    if (inbound === null) return;
    const s = signalFromWire(body, peer, this.#self);
    if (typeof s === 'string') {
      this.#host.rejected(s);
      return;
    }
    switch (s.op) {
      case 'send':
        inbound.deliver(s.from, s.to, s.message, bytes);
        break;
      case 'send-named':
        inbound.deliverNamed(s.from, s.name, s.message, bytes);
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
      case 'monitor-named':
        inbound.monitorNamed(s.watcher, s.name, s.ref);
        break;
      case 'demonitor-named':
        inbound.demonitorNamed(s.watcher, s.name, s.ref);
        break;
      case 'down-named':
        inbound.downNamed(s.watcher, s.ref, peer, s.name, s.reason);
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

  /** Signals are never refused for a full queue: they are bounded by the links and monitors behind them. */
  #signal(node: string, s: RemoteSignal): boolean {
    const link = this.#host.up(node);
    if (link === undefined) return false;
    link.enqueue('user', encodeFrame('user', encode(signalToWire(s))), true);
    return true;
  }

  #route(to: Pid): Link | undefined {
    const link = this.#host.up(to.node, to.incarnation);
    if (link === undefined) this.#host.counters.noRoute++;
    return link;
  }
}
