// An in-memory transport for tests and the simulation: listeners by address, connections as
// pairs of endpoints, delivery through an injected scheduler, with hooks to lose, delay or
// cut traffic between two addresses.
import { DialError, InternodeError } from './errors.js';
import { MAX_HANDSHAKE_BYTES } from './limits.js';
import { EarlyEvents, type Connection, type ConnectionHandlers, type Listener, type Transport } from './transport.js';

export type Schedule = (fn: () => void, delayMs: number) => void;

export interface MemoryFaults {
  /** Called for every message; return 'deliver', 'drop', or a delay in ms. */
  decide?(from: string, to: string, bytes: number): 'deliver' | 'drop' | number;
  /** Addresses that cannot reach each other (checked at dial and at delivery). */
  blocked?(from: string, to: string): boolean;
}

const MAX_EARLY = 64;

class MemoryEndpoint implements Connection {
  readonly remoteAddress: string;
  readonly local: string;
  peer!: MemoryEndpoint;
  readonly #net: MemoryNetwork;
  readonly #early = new EarlyEvents(MAX_EARLY);
  isClosed = false;
  /** It was accepted by a listener (a listener's close closes it). */
  accepted = false;
  /** Largest message this endpoint accepts (handshake-sized until authenticated). */
  maxMessageBytes = MAX_HANDSHAKE_BYTES;
  /** What this endpoint sent and its peer has not received yet, in order (a connection is FIFO). */
  readonly inFlight: (() => void)[] = [];

  constructor(net: MemoryNetwork, local: string, remote: string) {
    this.#net = net;
    this.local = local;
    this.remoteAddress = remote;
  }

  get bufferedAmount(): number {
    return 0;
  }

  get closed(): Promise<void> {
    return this.#early.closed;
  }

  authenticated(bytes: number): void {
    this.maxMessageBytes = bytes;
  }

  send(data: Buffer, flushed?: (err?: Error) => void): void {
    if (this.isClosed) {
      flushed?.(new InternodeError('ERR_TRANSPORT', 'connection closed'));
      return;
    }
    const copy = Buffer.from(data); // the wire copies; a later mutation by the sender must not show
    this.#net.carry(this, () => this.peer.receive(copy));
    flushed?.();
  }

  receive(data: Buffer): void {
    if (this.isClosed) return;
    if (data.length > this.maxMessageBytes) {
      this.#net.refused('message-too-big');
      this.close(1009, 'message too big');
      return;
    }
    if (!this.#early.message(data)) this.close(4006, 'protocol error: too many early messages');
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#net.released(this);
    this.#early.stop();
    this.#early.close(code, reason);
    this.#net.carry(this, () => this.peer.remoteClosed(code, reason), true);
  }

  remoteClosed(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#net.released(this);
    this.#early.close(code, reason);
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.#early.set(handlers);
  }
}

export class MemoryNetwork {
  readonly #listeners = new Map<string, (c: Connection) => void>();
  readonly #endpoints = new Set<MemoryEndpoint>();
  readonly #schedule: Schedule;
  faults: MemoryFaults = {};
  /** Messages refused for their size, like the WebSocket transport's 1009 closes. */
  tooBig = 0;
  #nextClientPort = 1;

  constructor(schedule: Schedule = (fn, delay) => void setTimeout(fn, delay)) {
    this.#schedule = schedule;
  }

  /** A closed endpoint is no longer tracked. */
  released(endpoint: MemoryEndpoint): void {
    this.#endpoints.delete(endpoint);
  }

  refused(_what: 'message-too-big'): void {
    this.tooBig++;
  }

  transport(ownAddress?: string): Transport {
    return {
      listen: async (address, onConnection): Promise<Listener> => {
        if (this.#listeners.has(address)) throw new InternodeError('ERR_TRANSPORT', `address ${address} in use`);
        this.#listeners.set(address, onConnection);
        return {
          address,
          close: async () => {
            this.#listeners.delete(address);
            for (const e of this.#endpoints) if (e.local === address && e.accepted) e.close(1001, 'listener closed');
          },
        };
      },
      dial: async (address, options = {}) => {
        if (options.signal?.aborted) throw new InternodeError('ERR_ABORTED', 'dial aborted');
        const from = ownAddress ?? `client-${this.#nextClientPort++}`;
        const accept = this.#listeners.get(address);
        if (accept === undefined || this.faults.blocked?.(from, address) === true) {
          throw new DialError(address, 'refused', 'connection refused');
        }
        const client = new MemoryEndpoint(this, from, address);
        const server = new MemoryEndpoint(this, address, from);
        server.accepted = true;
        client.peer = server;
        server.peer = client;
        this.#endpoints.add(client);
        this.#endpoints.add(server);
        accept(server);
        return client;
      },
    };
  }

  /**
   * Moves one message (or a close) from `from` to its peer, honouring faults. Delays vary per
   * message, but a connection stays FIFO: each scheduled delivery hands over the oldest message
   * still in flight on that endpoint, as a TCP stream would.
   */
  carry(from: MemoryEndpoint, deliver: () => void, isClose = false): void {
    const to = from.peer.local;
    // A blocked link loses everything, closes included: the other side learns only by silence.
    if (this.faults.blocked?.(from.local, to) === true) return;
    const decision = isClose ? 'deliver' : (this.faults.decide?.(from.local, to, 0) ?? 'deliver');
    if (decision === 'drop') return;
    from.inFlight.push(deliver);
    this.#schedule(() => from.inFlight.shift()?.(), decision === 'deliver' ? 0 : decision);
  }

  /** Closes every connection touching `address` (a crash of that node, or a cut cable). */
  cut(address: string): void {
    for (const e of this.#endpoints) {
      if (e.local === address || e.remoteAddress === address) {
        e.remoteClosed(1006, 'connection lost');
        this.#endpoints.delete(e);
      }
    }
  }
}
