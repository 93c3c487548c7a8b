// The transport seam: WebSocket for real nodes (ws-transport.ts), in memory for tests and the
// simulation (memory-transport.ts). A connection carries whole binary messages.

export interface ConnectionHandlers {
  message(data: Buffer): void;
  close(code: number, reason: string): void;
}

export interface Connection {
  /** Where the other end connects from (for logs; not an identity). */
  readonly remoteAddress: string;
  /** Bytes handed to send() and not yet flushed to the network. */
  readonly bufferedAmount: number;
  /** Sends one message; `flushed` runs once it left our process (or failed). */
  send(data: Buffer, flushed?: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Messages that arrived before handlers were set are delivered to them, in order. */
  setHandlers(handlers: ConnectionHandlers): void;
}

export interface Listener {
  /** The bound address, `host:port` (a port 0 request is resolved to the real port). */
  readonly address: string;
  close(): Promise<void>;
}

export interface Transport {
  listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener>;
  dial(address: string, signal?: AbortSignal): Promise<Connection>;
}

/** Buffers messages and a close that arrive before handlers are set. */
export class EarlyEvents {
  #handlers: ConnectionHandlers | null = null;
  #early: Buffer[] = [];
  #closed: { code: number; reason: string } | null = null;
  readonly #maxEarly: number;

  constructor(maxEarly: number) {
    this.#maxEarly = maxEarly;
  }

  /** Returns false when too many messages arrived before anyone listened (the caller closes). */
  message(data: Buffer): boolean {
    if (this.#handlers !== null) {
      this.#handlers.message(data);
      return true;
    }
    if (this.#early.length >= this.#maxEarly) return false;
    this.#early.push(data);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#handlers !== null) this.#handlers.close(code, reason);
    else this.#closed ??= { code, reason };
  }

  set(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const m of early) handlers.message(m);
    if (this.#closed !== null) handlers.close(this.#closed.code, this.#closed.reason);
  }
}
