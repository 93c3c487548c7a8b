// The admin HTTP server of one node, on node:http: health, Prometheus metrics, the /v1 JSON
// views, KV over HTTP and the dashboard. Bounded in every direction (limits.ts): body bytes,
// header bytes, connections, time per request, event streams. It runs as a part of its Cluster,
// stopped first. Every answer that is not a success is JSON `{ error: { code, message } }`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Cluster, ClusterPart } from '../system/index.js';
import { TroupeError } from '../runtime/index.js';
import { AdminHttpError, answerOf, notFound } from './errors.js';
import { sendJson } from './http.js';
import { HealthSampler, type ExpectedMembers } from './health.js';
import { kvRoute } from './kv-routes.js';
import { EventStreams } from './sse.js';
import type { AdminMetrics } from './metrics.js';
import {
  builtInTiers,
  nameLookup,
  namesView,
  pgView,
  queuesView,
  raftView,
  statusView,
  type NameTierView,
  type RecentEvent,
} from './views.js';
import { DASHBOARD_ASSETS } from './dashboard/assets.js';
import {
  ADMIN_STOP_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_HEADER_BYTES,
  MAX_RECENT_EVENTS,
  REQUEST_TIMEOUT_MS,
} from './limits.js';
import { packageVersion } from './version.js';

export interface AdminServerOptions {
  readonly cluster: Cluster;
  /** `host:port` to listen on (port 0 picks one). */
  readonly listen: string;
  /** The bearer token writes need; without one, every write answers 401. */
  readonly token?: Buffer | null;
  /** The SDK this node's instruments report to (served at /metrics); null serves an empty page. */
  readonly metrics?: AdminMetrics | null;
  /** Which members /readyz waits for (default: this node alone). */
  readonly expect?: ExpectedMembers;
  readonly logger?: Logger;
}

export interface AdminServerCounters {
  requests: number;
  /** Answers 4xx: the client's mistake. */
  clientErrors: number;
  /** Answers 5xx. */
  serverErrors: number;
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown;

export class AdminServer implements ClusterPart {
  readonly name = 'admin';
  readonly counters: AdminServerCounters = { requests: 0, clientErrors: 0, serverErrors: 0 };
  readonly #cluster: Cluster;
  readonly #server: Server;
  readonly #token: Buffer | null;
  readonly #metrics: AdminMetrics | null;
  readonly #logger: Logger | undefined;
  readonly #health: HealthSampler;
  readonly #streams = new EventStreams();
  readonly #tiers: Map<string, NameTierView>;
  readonly #events: RecentEvent[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #startedAt = Date.now();
  readonly #version = packageVersion();
  readonly #unsubscribe: () => void;
  #address = '';
  #stopping: Promise<void> | null = null;

  private constructor(options: AdminServerOptions) {
    this.#cluster = options.cluster;
    this.#token = options.token ?? null;
    this.#metrics = options.metrics ?? null;
    this.#logger = options.logger;
    this.#health = new HealthSampler(options.cluster, options.expect ?? 1);
    this.#tiers = builtInTiers(options.cluster);
    this.#server = createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.maxConnections = MAX_CONNECTIONS;
    this.#server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // A malformed request line or head: node:http answers 400/431 itself when it can.
    this.#server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
      if (!socket.writable) return void socket.destroy();
      socket.end(clientErrorAnswer(error.code));
    });
    this.#unsubscribe = options.cluster.subscribe((e) => {
      this.#events.push({
        at: Date.now(),
        type: e.type,
        node: e.node,
        incarnation: e.incarnation,
        ...(e.type === 'down' ? { reason: String(e.reason) } : {}),
      });
      if (this.#events.length > MAX_RECENT_EVENTS) this.#events.shift();
    });
  }

  /** Starts listening; rejects (nothing left open) when the address cannot be bound. */
  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const admin = new AdminServer(options);
    const { host, port } = splitListen(options.listen);
    try {
      await new Promise<void>((resolve, reject) => {
        admin.#server.once('error', reject);
        admin.#server.listen(port, host, () => {
          admin.#server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      admin.#unsubscribe();
      const code = (error as { code?: string }).code ?? 'unknown';
      throw Object.assign(
        new TroupeError('ERR_BAD_CONFIG', `admin.listen ${options.listen}: ${code}`, { cause: error }),
        {
          option: 'admin.listen',
        },
      );
    }
    const bound = admin.#server.address();
    admin.#address = typeof bound === 'object' && bound !== null ? `${host}:${bound.port}` : options.listen;
    admin.#health.start();
    return admin;
  }

  /** `host:port` the server listens on. */
  get address(): string {
    return this.#address;
  }

  /** `http://host:port` */
  get url(): string {
    const { host, port } = splitListen(this.#address);
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Adds a tier to /v1/names (the consistent registry plugs in here when it runs). */
  addNameTier(tier: string, view: NameTierView): void {
    if (this.#tiers.has(tier)) throw new TroupeError('ERR_BAD_ARGUMENT', `a name tier ${tier} is already shown`);
    this.#tiers.set(tier, view);
  }

  readonly #routes: Record<string, Route> = {
    '/livez': (_req, res) => this.#healthAnswer(res, this.#health.livez()),
    '/readyz': (_req, res) => this.#healthAnswer(res, this.#health.readyz()),
    '/metrics': async (_req, res) => {
      const text = this.#metrics === null ? '# no metrics SDK on this node\n' : await this.#metrics.render();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    },
    '/v1/status': (_req, res) =>
      sendJson(
        res,
        200,
        statusView(this.#cluster, { version: this.#version, startedAt: this.#startedAt, events: this.#events }),
      ),
    '/v1/raft': (_req, res) => sendJson(res, 200, raftView(this.#cluster)),
    '/v1/pg': (_req, res) => sendJson(res, 200, pgView(this.#cluster)),
    '/v1/names': (_req, res) => sendJson(res, 200, namesView(this.#cluster, this.#tiers)),
    '/v1/queues': (_req, res) => sendJson(res, 200, queuesView(this.#cluster)),
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    this.counters.requests++;
    let route = 'unknown';
    try {
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (path.startsWith('/v1/kv/')) {
        route = '/v1/kv';
        await kvRoute(
          { cluster: this.#cluster, token: this.#token, streams: this.#streams },
          req,
          res,
          url,
          path.slice(7),
        );
      } else if (path.startsWith('/v1/names/')) {
        route = '/v1/names/{name}';
        this.#readOnly(method);
        let name: string;
        try {
          name = decodeURIComponent(path.slice(10));
        } catch {
          throw new AdminHttpError('ERR_ADMIN_BAD_REQUEST', 400, 'the name is not percent-encoded UTF-8');
        }
        sendJson(res, 200, nameLookup(name, this.#tiers));
      } else if (Object.hasOwn(this.#routes, path)) {
        route = path;
        this.#readOnly(method);
        await this.#routes[path]!(req, res, url);
      } else {
        const asset = DASHBOARD_ASSETS[path === '/' ? '/index.html' : path];
        if (asset === undefined) throw notFound(`no such path: ${path}`);
        route = '/dashboard';
        this.#readOnly(method);
        res.writeHead(200, {
          'content-type': asset.type,
          'content-length': Buffer.byteLength(asset.body),
          'cache-control': 'no-cache',
          'content-security-policy': "default-src 'self'; img-src 'self' data:",
          'x-content-type-options': 'nosniff',
        });
        res.end(asset.body);
      }
    } catch (error) {
      this.#answerError(req, res, error);
    } finally {
      this.#record(route, res, started);
    }
  }

  #readOnly(method: string): void {
    if (method !== 'GET' && method !== 'HEAD')
      throw new AdminHttpError('ERR_ADMIN_METHOD', 405, `${method} is not allowed here (GET)`, { allow: 'GET' });
  }

  #healthAnswer(res: ServerResponse, answer: { ok: boolean; checks: unknown }): void {
    sendJson(res, answer.ok ? 200 : 503, { status: answer.ok ? 'ok' : 'failing', checks: answer.checks });
  }

  #answerError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const answer = answerOf(error);
    if (answer.unexpected)
      this.#logger?.error({ err: error, url: req.url, method: req.method }, 'admin request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const allow = (answer.body.error as { allow?: unknown }).allow;
    const headers: Record<string, string> = {
      ...(typeof allow === 'string' ? { allow } : {}),
      ...(answer.status === 401 ? { 'www-authenticate': 'Bearer realm="troupe"' } : {}),
      // A body left unread (a refused upload) must not be parsed as the next request.
      ...(answer.status === 413 || !req.complete ? { connection: 'close' } : {}),
    };
    sendJson(res, answer.status, answer.body, headers);
  }

  #record(route: string, res: ServerResponse, started: number): void {
    const status = res.statusCode;
    if (status >= 500) this.counters.serverErrors++;
    else if (status >= 400) this.counters.clientErrors++;
    if (this.#metrics === null) return;
    const attrs = { route, status: String(status) };
    this.#metrics.instruments.duration.record((performance.now() - started) / 1000, attrs);
    const length = Number(res.getHeader('content-length') ?? NaN);
    if (Number.isFinite(length)) this.#metrics.instruments.size.record(length, { route });
  }

  /** Stops listening, ends event streams, closes idle sockets, and cuts busy ones past ADMIN_STOP_TIMEOUT_MS. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#health.stop();
      this.#unsubscribe();
      this.#streams.closeAll();
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const s of this.#sockets) s.destroy();
      }, ADMIN_STOP_TIMEOUT_MS);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await this.#metrics?.shutdown();
    })();
    return this.#stopping;
  }
}

/** The raw answer to a request node:http could not parse: 431 (head too large), 408 (too slow) or 400. */
function clientErrorAnswer(code: string | undefined): string {
  const [status, text, message] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `the request head is over ${MAX_HEADER_BYTES} bytes`]
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', `the request took over ${REQUEST_TIMEOUT_MS} ms`]
        : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code: 'ERR_ADMIN_BAD_REQUEST', message } });
  return (
    `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** `host:port` → its parts (`[::1]:80` too). Validated by resolveAdminOptions before this runs. */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(listen.slice(i + 1)) };
}
