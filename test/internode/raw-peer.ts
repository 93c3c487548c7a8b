// A hand-driven peer for hostile-input tests: a raw `ws` client (or server) wrapped as an
// internode Connection, so a test can speak the handshake by hand or run the real dialer or
// acceptor handshake over it, and then send anything at all — text, garbage, broken frames.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Connection, ConnectionHandlers, LocalIdentity } from '../../internode/index.js';
import { SECRET, type Member } from './helpers.js';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A raw WebSocket seen as a Connection; everything it receives is also kept in `received`. */
export class RawPeer implements Connection {
  readonly ws: WebSocket;
  readonly remoteAddress: string;
  /** Every binary message received, in order (also those given to handlers). */
  readonly received: Buffer[] = [];
  /** Text messages received (internode never sends any). */
  readonly texts: string[] = [];
  readonly closed: Promise<Closed>;
  #handlers: ConnectionHandlers | null = null;
  #early: Buffer[] = [];
  #closedWith: Closed | null = null;

  constructor(ws: WebSocket, remoteAddress: string) {
    this.ws = ws;
    this.remoteAddress = remoteAddress;
    ws.binaryType = 'nodebuffer';
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.texts.push(toBuffer(data).toString());
        return;
      }
      const b = toBuffer(data);
      this.received.push(b);
      if (this.#handlers !== null) this.#handlers.message(b);
      else this.#early.push(b);
    });
    this.closed = new Promise<Closed>((resolve) => {
      ws.on('close', (code, reason) => {
        const c = { code, reason: reason.toString() };
        this.#closedWith = c;
        this.#handlers?.close(c.code, c.reason);
        resolve(c);
      });
    });
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: Buffer, flushed?: (err?: Error) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      flushed?.(new Error('not open'));
      return;
    }
    this.ws.send(data, { binary: true }, flushed);
  }

  sendText(text: string): void {
    this.ws.send(text, { binary: false });
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const m of early) handlers.message(m);
    if (this.#closedWith !== null) handlers.close(this.#closedWith.code, this.#closedWith.reason);
  }

  /** A raw peer enforces no size limit: it is the hostile side. */
  authenticated(): void {}

  /** Stops handing messages to anyone (they are still recorded in `received`). */
  detach(): void {
    this.#handlers = { message: () => {}, close: () => {} };
  }
}

/** Opens a raw WebSocket to an internode listener. */
export function rawConnect(address: string): Promise<RawPeer> {
  const ws = new WebSocket(`ws://${address}/troupe`, { perMessageDeflate: false });
  const peer = new RawPeer(ws, address);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('error', reject);
  });
}

/** A raw WebSocket server: each accepted socket is handed over as a RawPeer. */
export async function rawServer(onPeer: (peer: RawPeer) => void): Promise<{ address: string; close(): Promise<void> }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, path: '/troupe', perMessageDeflate: false });
  wss.on('connection', (ws, req) => onPeer(new RawPeer(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`)));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => http.close(() => resolve()));
      }),
  };
}

/** The identity a hand-driven peer presents (right cluster and secret unless told otherwise). */
export function identity(node: string, over: Partial<LocalIdentity> = {}): LocalIdentity {
  return { cluster: 'test', node, incarnation: 1, address: '', secret: Buffer.from(SECRET), ...over };
}

/** Records every uncaught exception and unhandled rejection while `run` runs. */
export async function noEscapes<T>(run: () => Promise<T>): Promise<{ result: T; escaped: unknown[] }> {
  const escaped: unknown[] = [];
  const onError = (err: unknown): void => void escaped.push(err);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    const result = await run();
    await new Promise((r) => setImmediate(r));
    return { result, escaped };
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
}

let token = 0;

/** Proves a process message still crosses from one member to another (within `ms` of real time). */
export async function crosses(from: Member, to: Member, ms = 5_000): Promise<void> {
  const expected = `ping-${++token}`;
  let got!: (v: unknown) => void;
  const received = new Promise<unknown>((r) => (got = r));
  const inbox = to.node.spawn(async (ctx) => got(await ctx.receive()));
  from.node.send(inbox, expected);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message from ${from.node.name} to ${to.node.name} in ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([received, timeout]);
    if (value !== expected) throw new Error(`expected ${expected}, got ${String(value)}`);
  } finally {
    clearTimeout(timer);
  }
}
