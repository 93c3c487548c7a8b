// The transport seam: WebSocket for real nodes (ws-transport.ts), in memory for tests and the
// simulation (memory-transport.ts). A connection carries whole binary messages. Both transports
// pass one compliance suite (test/internode/transport-compliance.test.ts) that states this
// contract as tests.

export interface ConnectionHandlers {
  message(data: Buffer): void;
  close(code: number, reason: string): void;
}

export interface Connection {
  /** Where the other end connects from (for logs; not an identity). */
  readonly remoteAddress: string;
  /** Bytes handed to send() and not yet flushed to the network. */
  readonly bufferedAmount: number;
  /** Resolves once the connection is closed for good (the close handler ran, or would have). */
  readonly closed: Promise<unknown>;
  /** Sends one message; `flushed` runs once it left our process (or failed). */
  send(data: Buffer, flushed?: (err?: Error) => void): void;
  /**
   * Sends a close with a code and a reason (the peer's close handler gets both). Nothing more is
   * delivered to our handlers after it (our close handler still runs, once). A connection never
   * authenticated reads nothing more at all; either way the transport destroys it if the peer has
   * not closed its side within CLOSE_GRACE_MS.
   */
  close(code: number, reason: string): void;
  /** Messages (and a close) that arrived before handlers were set are delivered to them, in order. */
  setHandlers(handlers: ConnectionHandlers): void;
  /**
   * The handshake authenticated the peer: messages up to `bytes` are accepted from now on. Before
   * it, a message over MAX_HANDSHAKE_BYTES closes the connection (1009), and a connection still not
   * authenticated after the handshake timeout is dropped by the transport.
   */
  authenticated(bytes: number): void;
}

export interface Listener {
  /** The bound address, `host:port` (a port 0 request is resolved to the real port). */
  readonly address: string;
  /** Stops accepting and closes every connection it accepted. */
  close(): Promise<void>;
}

export interface DialOptions {
  /** Aborting gives up the dial (ERR_ABORTED). */
  readonly signal?: AbortSignal;
}

export interface Transport {
  listen(address: string, onConnection: (connection: Connection) => void): Promise<Listener>;
  /** Throws (with a reason) if `address` is not one this transport can listen on or dial. */
  checkAddress?(address: string): void;
  /** Opens a connection; rejects with ERR_TRANSPORT (refused, unreachable, TLS) or ERR_ABORTED. */
  dial(address: string, options?: DialOptions): Promise<Connection>;
}

/** Buffers messages and a close that arrive before handlers are set, and drops what comes after a close. */
export class EarlyEvents {
  #handlers: ConnectionHandlers | null = null;
  #early: Buffer[] = [];
  #closed: { code: number; reason: string } | null = null;
  #done = false;
  readonly #maxEarly: number;
  readonly #resolveClosed: () => void;
  readonly closed: Promise<void>;

  constructor(maxEarly: number) {
    this.#maxEarly = maxEarly;
    let resolve!: () => void;
    this.closed = new Promise<void>((r) => (resolve = r));
    this.#resolveClosed = resolve;
  }

  /** Nothing more is delivered from now on (we closed the connection). */
  stop(): void {
    this.#done = true;
    this.#early = [];
  }

  /** Returns false when too many messages arrived before anyone listened (the caller closes). */
  message(data: Buffer): boolean {
    if (this.#done) return true;
    if (this.#handlers !== null) {
      this.#handlers.message(data);
      return true;
    }
    if (this.#early.length >= this.#maxEarly) return false;
    this.#early.push(data);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#closed !== null) return;
    this.#closed = { code, reason };
    this.#done = true;
    this.#early = this.#handlers === null ? this.#early : [];
    if (this.#handlers !== null) this.#handlers.close(code, reason);
    this.#resolveClosed();
  }

  set(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const m of early) handlers.message(m);
    if (this.#closed !== null) handlers.close(this.#closed.code, this.#closed.reason);
  }
}
