// A fault-injecting TCP proxy in front of each node's listener. Every node dials its peers from a
// loopback address of its own (`--dial-from 127.0.0.N`), so the proxy in front of node B knows by
// a connection's source address which node dialed it. One FaultMatrix, shared by every proxy, says
// which directions are cut: bytes from A to B stop flowing (the proxy stops reading them, so TCP
// holds them as a real partition would, and nothing is buffered here) and flow again on heal.
// A one-way partition cuts one direction only; a "reset" closes every connection between two nodes.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Which directions between nodes are cut. Nodes are named by their dial-from address's owner. */
export class FaultMatrix {
  readonly #cut = new Set<string>();
  readonly #listeners = new Set<() => void>();

  static key(from: string, to: string): string {
    return `${from}\u0000${to}`;
  }

  /** Cuts bytes from `from` to `to` (one direction). */
  cut(from: string, to: string): void {
    this.#cut.add(FaultMatrix.key(from, to));
    this.#changed();
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a)
      for (const y of b) {
        this.#cut.add(FaultMatrix.key(x, y));
        this.#cut.add(FaultMatrix.key(y, x));
      }
    this.#changed();
  }

  healAll(): void {
    this.#cut.clear();
    this.#changed();
  }

  isCut(from: string, to: string): boolean {
    return this.#cut.has(FaultMatrix.key(from, to));
  }

  /** The cut directions, as `from->to` strings (for reports). */
  cuts(): string[] {
    return [...this.#cut].map((k) => k.replace('\u0000', '->')).sort();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}

export interface FaultProxyOptions {
  /** The node this proxy stands in front of. */
  readonly node: string;
  /** Where the proxy listens (the node's advertised address). */
  readonly host: string;
  readonly port?: number;
  readonly matrix: FaultMatrix;
  /** Which node a source IP belongs to (undefined: an outside client, never cut). */
  readonly sourceOf: (address: string) => string | undefined;
}

interface Pair {
  readonly from: string | undefined;
  readonly client: Socket;
  readonly upstream: Socket;
}

export class FaultProxy implements AsyncDisposable {
  readonly node: string;
  readonly #server: Server;
  readonly #matrix: FaultMatrix;
  readonly #sourceOf: (address: string) => string | undefined;
  readonly #pairs = new Set<Pair>();
  readonly #unsubscribe: () => void;
  #target: { host: string; port: number } | null = null;
  /** Connections accepted, and byte counts forwarded each way, for reports. */
  readonly counters = { accepted: 0, refusedNoTarget: 0, bytesIn: 0, bytesOut: 0 };

  private constructor(options: FaultProxyOptions, server: Server) {
    this.node = options.node;
    this.#server = server;
    this.#matrix = options.matrix;
    this.#sourceOf = options.sourceOf;
    this.#unsubscribe = options.matrix.onChange(() => this.#apply());
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host, () => resolve());
    });
    return new FaultProxy(options, server);
  }

  get address(): string {
    const a = this.#server.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  /** Where connections go (the node's real listener); unset, connections are refused. */
  target(address: string | null): void {
    if (address === null) {
      this.#target = null;
      return;
    }
    const i = address.lastIndexOf(':');
    this.#target = { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
  }

  /** Closes every connection between `a` and this proxy's node (both directions). */
  reset(from: string): void {
    for (const p of this.#pairs) if (p.from === from) this.#close(p);
  }

  #accept(client: Socket): void {
    if (this.#target === null) {
      this.counters.refusedNoTarget++;
      client.destroy();
      return;
    }
    this.counters.accepted++;
    const from = this.#sourceOf(client.remoteAddress ?? '');
    const upstream = createConnection({ host: this.#target.host, port: this.#target.port });
    upstream.pause();
    const pair: Pair = { from, client, upstream };
    this.#pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      this.counters.bytesIn += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.counters.bytesOut += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => this.#apply(pair));
    upstream.on('drain', () => this.#apply(pair));
    const close = (): void => this.#close(pair);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.once('connect', () => this.#apply(pair));
  }

  /** Reads from a side only while its direction is not cut and the other side has room. */
  #apply(only?: Pair): void {
    for (const p of only !== undefined ? [only] : this.#pairs) {
      if (p.client.destroyed || p.upstream.destroyed || p.upstream.connecting) continue;
      const inCut = p.from !== undefined && this.#matrix.isCut(p.from, this.node);
      const outCut = p.from !== undefined && this.#matrix.isCut(this.node, p.from);
      if (inCut || p.upstream.writableNeedDrain) p.client.pause();
      else p.client.resume();
      if (outCut || p.client.writableNeedDrain) p.upstream.pause();
      else p.upstream.resume();
    }
  }

  #close(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const p of [...this.#pairs]) this.#close(p);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
