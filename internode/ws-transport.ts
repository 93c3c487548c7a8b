// WebSocket transport over `ws`, with optional TLS (wss://) and certificate verification on.
// Before a connection is authenticated it accepts only handshake-sized messages, and a socket
// that has not authenticated within the handshake timeout (including one that never even
// upgrades from HTTP) is destroyed; at most MAX_PENDING_SOCKETS such sockets exist at once (a
// newcomer past it evicts the oldest), so silent sockets cannot exhaust the descriptor table.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { DialError, InternodeError, dialFailureOf } from './errors.js';
import {
  CLOSE_GRACE_MS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_ADDRESS_LENGTH,
  MAX_EARLY_FRAMES_MESSAGES,
  MAX_HANDSHAKE_BYTES,
  MAX_PENDING_SOCKETS,
} from './limits.js';
import {
  EarlyEvents,
  type Connection,
  type ConnectionHandlers,
  type DialOptions,
  type Listener,
  type Transport,
} from './transport.js';

export interface TlsOptions {
  /** PEM: CA certificates peers must chain to. */
  readonly ca?: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Name checked against the peer's certificate when dialing (defaults to the host). */
  readonly servername?: string;
}

export interface WsTransportOptions {
  readonly tls?: TlsOptions;
  /** A socket not authenticated this long after it was accepted is destroyed (tests shorten it). */
  readonly handshakeTimeoutMs?: number;
  /** Sockets accepted and not yet authenticated, at most (the oldest goes past it). */
  readonly maxPendingSockets?: number;
  /** Counts what the transport refuses on its own (sockets dropped, text messages, 1009 closes). */
  readonly onRefusal?: (what: WsRefusal) => void;
  /**
   * The local IP address outgoing connections are made from (a multi-homed host choosing its
   * interface, or a test telling its nodes apart on loopback). Default: the system's choice.
   */
  readonly dialFrom?: string;
}

/** What the transport drops by itself: a silent or evicted socket, a text message, a message over the limit. */
export type WsRefusal = 'silent-socket' | 'evicted-socket' | 'text-message' | 'message-too-big';

const PATH = '/troupe';
const TEXT_MESSAGE = { code: 4006, reason: 'protocol error: text message' };
const TOO_MANY_EARLY = { code: 4006, reason: 'protocol error: too many early messages' };
/** ws's error code for a message over maxPayload (it closes with 1009). */
const MESSAGE_TOO_BIG = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Parses and validates `host:port` (port 0..65535); ERR_BAD_CONFIG naming the address otherwise. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m =
    typeof address === 'string' && address.length <= MAX_ADDRESS_LENGTH
      ? /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(address)
      : null;
  if (m === null)
    throw new InternodeError('ERR_BAD_CONFIG', `address must be host:port, got ${JSON.stringify(address)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new InternodeError('ERR_BAD_CONFIG', `port out of range in ${address}`);
  return { host: m[1] ?? m[2]!, port };
}

/** The receiver's message size limit; ws reads it for every frame, so raising it takes effect at once. */
function setMaxPayload(ws: WebSocket, bytes: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload: number } })._receiver;
  if (receiver !== undefined) receiver._maxPayload = bytes;
}

class WsConnection implements Connection {
  readonly remoteAddress: string;
  readonly #ws: WebSocket;
  readonly #early = new EarlyEvents(MAX_EARLY_FRAMES_MESSAGES);
  readonly #onAuthenticated: () => void;
  #authenticated = false;

  constructor(ws: WebSocket, remoteAddress: string, onAuthenticated: () => void, onRefusal: (w: WsRefusal) => void) {
    this.#ws = ws;
    this.remoteAddress = remoteAddress;
    this.#onAuthenticated = onAuthenticated;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        onRefusal('text-message');
        this.close(TEXT_MESSAGE.code, TEXT_MESSAGE.reason);
        return;
      }
      if (!this.#early.message(toBuffer(data))) this.close(TOO_MANY_EARLY.code, TOO_MANY_EARLY.reason);
    });
    let tooBig = false;
    // We refused a message over the limit: ws sent 1009, and that is what our side reports too.
    ws.on('close', (code, reason) =>
      tooBig ? this.#early.close(1009, 'message too big') : this.#early.close(code, reason.toString()),
    );
    // Errors are followed by 'close'; listening keeps them from becoming uncaught exceptions.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code !== MESSAGE_TOO_BIG) return;
      tooBig = true;
      onRefusal('message-too-big');
    });
  }

  get closed(): Promise<void> {
    return this.#early.closed;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: Buffer, flushed?: (err?: Error) => void): void {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      flushed?.(new InternodeError('ERR_TRANSPORT', 'connection is not open'));
      return;
    }
    this.#ws.send(data, { binary: true }, flushed);
  }

  close(code: number, reason: string): void {
    this.#early.stop();
    if (this.#ws.readyState === WebSocket.CLOSED || this.#ws.readyState === WebSocket.CLOSING) return;
    this.#ws.close(code, reason.slice(0, 120));
    // Refused before authentication: read nothing more (ws destroys the socket after closeTimeout).
    if (!this.#authenticated) this.#ws.pause();
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.#early.set(handlers);
  }

  authenticated(bytes: number): void {
    this.#authenticated = true;
    setMaxPayload(this.#ws, bytes);
    this.#onAuthenticated();
  }
}

/** Sockets accepted and not yet authenticated, oldest first, each with its deadline. */
class PendingSockets {
  readonly #sockets = new Map<Socket, NodeJS.Timeout>();
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #onRefusal: (w: WsRefusal) => void;

  constructor(max: number, timeoutMs: number, onRefusal: (w: WsRefusal) => void) {
    this.#max = max;
    this.#timeoutMs = timeoutMs;
    this.#onRefusal = onRefusal;
  }

  add(socket: Socket): void {
    if (this.#sockets.size >= this.#max) {
      const [oldest] = this.#sockets.keys();
      this.#onRefusal('evicted-socket');
      this.#drop(oldest!);
    }
    const timer = setTimeout(() => {
      this.#onRefusal('silent-socket');
      this.#drop(socket);
    }, this.#timeoutMs);
    timer.unref();
    this.#sockets.set(socket, timer);
    socket.once('close', () => this.done(socket));
  }

  /** Authenticated (or closed): no longer pending. */
  done(socket: Socket): void {
    const timer = this.#sockets.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#sockets.delete(socket);
  }

  clear(): void {
    for (const socket of [...this.#sockets.keys()]) this.#drop(socket);
  }

  #drop(socket: Socket): void {
    this.done(socket);
    socket.destroy();
  }
}

export class WsTransport implements Transport {
  readonly #tls: TlsOptions | undefined;
  readonly #dialFrom: string | undefined;
  readonly #handshakeTimeoutMs: number;
  readonly #maxPendingSockets: number;
  readonly #onRefusal: (w: WsRefusal) => void;

  constructor(opts: WsTransportOptions = {}) {
    this.#tls = opts.tls;
    this.#dialFrom = opts.dialFrom;
    this.#handshakeTimeoutMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.#maxPendingSockets = opts.maxPendingSockets ?? MAX_PENDING_SOCKETS;
    this.#onRefusal = opts.onRefusal ?? (() => {});
  }

  checkAddress(address: string): void {
    splitHostPort(address);
  }

  async listen(address: string, onConnection: (c: Connection) => void): Promise<Listener> {
    const { host, port } = splitHostPort(address);
    const pending = new PendingSockets(this.#maxPendingSockets, this.#handshakeTimeoutMs, this.#onRefusal);
    const server: HttpServer =
      this.#tls !== undefined
        ? createHttpsServer({
            handshakeTimeout: this.#handshakeTimeoutMs,
            cert: this.#tls.cert,
            key: this.#tls.key,
            ...(this.#tls.ca !== undefined ? { ca: this.#tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          })
        : createHttpServer();
    // Plain HTTP requests get nothing but a close; the upgrade must come within the handshake timeout.
    server.headersTimeout = this.#handshakeTimeoutMs;
    server.requestTimeout = this.#handshakeTimeoutMs;
    server.on('request', (_req, res) => res.writeHead(426).end());
    server.on(this.#tls !== undefined ? 'secureConnection' : 'connection', (socket: Socket) => pending.add(socket));
    // A TLS handshake that fails (a wrong certificate) never reaches 'secureConnection'.
    server.on('tlsClientError', (_err, socket: Socket) => socket.destroy());
    const wss = new WebSocketServer({
      server,
      path: PATH,
      maxPayload: MAX_HANDSHAKE_BYTES,
      perMessageDeflate: false,
      // ws 8.19+ (not yet in its type definitions): how long a closing socket waits for the peer.
      ...({ closeTimeout: CLOSE_GRACE_MS } as object),
    });
    wss.on('error', () => {}); // ws re-emits the server's errors: a listen error is handled below
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    wss.on('connection', (ws, req) => {
      const socket = req.socket;
      onConnection(
        new WsConnection(
          ws,
          `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
          () => pending.done(socket),
          this.#onRefusal,
        ),
      );
    });
    const bound = server.address() as AddressInfo;
    const boundHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return {
      address: `${boundHost}:${bound.port}`,
      close: () =>
        new Promise<void>((resolve) => {
          pending.clear();
          for (const client of wss.clients) client.terminate();
          wss.close(() => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
        }),
    };
  }

  dial(address: string, options: DialOptions = {}): Promise<Connection> {
    const { signal } = options;
    const { host, port } = splitHostPort(address);
    if (signal?.aborted) return Promise.reject(new InternodeError('ERR_ABORTED', 'dial aborted'));
    const scheme = this.#tls !== undefined ? 'wss' : 'ws';
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const ws = new WebSocket(`${scheme}://${hostPart}:${port}${PATH}`, {
      maxPayload: MAX_HANDSHAKE_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.#handshakeTimeoutMs,
      ...({ closeTimeout: CLOSE_GRACE_MS } as object),
      // Frames stay masked as RFC 6455 requires of clients, with an all-zero key: masking exists to
      // protect intermediaries from browser scripts, and both ends here are authenticated troupe
      // nodes. A zero key lets ws skip the XOR pass on both sides (measured ~2x at 4 KiB payloads).
      generateMask: (mask: Buffer) => void mask.fill(0),
      ...(this.#dialFrom !== undefined ? { localAddress: this.#dialFrom } : {}),
      ...(this.#tls !== undefined
        ? {
            cert: this.#tls.cert,
            key: this.#tls.key,
            ...(this.#tls.ca !== undefined ? { ca: this.#tls.ca } : {}),
            ...(this.#tls.servername !== undefined ? { servername: this.#tls.servername } : {}),
            rejectUnauthorized: true,
          }
        : {}),
    });
    return new Promise<Connection>((resolve, reject) => {
      const conn = new WsConnection(ws, address, () => {}, this.#onRefusal);
      const onAbort = (): void => {
        ws.terminate();
        reject(new InternodeError('ERR_ABORTED', 'dial aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('open', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(conn);
      });
      ws.once('error', (err: Error & { code?: string }) => {
        signal?.removeEventListener('abort', onAbort);
        // ws reports a timed-out upgrade and a non-101 answer without a socket code.
        const failure = /timed out/.test(err.message) ? 'timeout' : dialFailureOf(err.code);
        reject(new DialError(address, failure, err.message, { cause: err }));
      });
    });
  }
}
