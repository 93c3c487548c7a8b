// The composition root: one object that runs a cluster node. Cluster.start starts every
// subsystem in order (runtime node, internode, process groups, the eventual registry, then
// whatever is attached), stop() stops them in reverse, each within a bound. Later subsystems
// (the Raft host, KV, consistent names, admin) plug in the same way, as parts.
import pino, { type Logger } from 'pino';
import { Node, RealClock, TroupeError, stopInReverse, type Startable, type StopOutcome } from '../runtime/index.js';
import { Internode, type NodeEvent } from '../internode/index.js';
import { ProcessGroups } from '../pg/index.js';
import { EventualRegistry } from '../registry/index.js';
import { RaftHost, type GroupSpec, type RaftGroup, type Tenant } from '../raft/host/index.js';
import { LmdbLogStore } from '../raft/store/index.js';
import { readFounders, writeFounders } from './founders-file.js';
import { EventualKv, KvStore, KV_GROUP, isEventualKvFrame } from '../kv/index.js';
import { adminMetricsFor, startClusterAdmin, type AdminServer } from '../admin/index.js';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './options.js';
import { DEFAULT_READY_TIMEOUT_MS, FOUNDERS_SEARCH_TIMEOUT_MS, MAX_PARTS } from './limits.js';

/** A subsystem a Cluster runs: it stops, and may say when it is ready to serve. */
export interface ClusterPart extends Startable {
  /** Resolves when the part can serve (e.g. a Raft group has a leader); rejects on abort. */
  ready?(options: { readonly signal: AbortSignal }): Promise<void>;
}

export interface ReadyOptions {
  /**
   * Which members must be up: a count of nodes including this one, or node names. Default: this
   * node alone (plus whatever each part waits for).
   */
  readonly nodes?: number | readonly string[];
  /** Bound in ms (default 30 s); past it, ready() rejects with ERR_TIMEOUT naming what is missing. */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

/** ready() timed out: `missing` names the members (or parts) not ready yet. */
export class ClusterNotReadyError extends TroupeError {
  readonly missing: readonly string[];
  constructor(message: string, missing: readonly string[]) {
    super('ERR_TIMEOUT', message);
    this.name = 'ClusterNotReadyError';
    this.missing = missing;
  }
}

function defaultLogger(option: Logger | false | undefined): Logger {
  if (option === false) return pino({ level: 'silent' });
  return option ?? pino({ level: 'warn' }, pino.destination(2));
}

/** A socket error at start (port in use, no such address) becomes ERR_BAD_CONFIG naming `listen`. */
function startError(error: unknown, options: ResolvedClusterOptions): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E(ADDRINUSE|ADDRNOTAVAIL|ACCES|NOTFOUND)$/.test(code)) {
    const what = code === 'EADDRINUSE' ? 'address in use' : code === 'EACCES' ? 'permission denied' : 'no such address';
    return Object.assign(
      new TroupeError('ERR_BAD_CONFIG', `listen ${options.listen ?? ''}: ${what}`, { cause: error }),
      { option: 'listen' },
    );
  }
  return error;
}

export class Cluster implements AsyncDisposable {
  readonly node: Node;
  readonly logger: Logger;
  readonly options: ResolvedClusterOptions;
  readonly #internode: Internode | null;
  readonly #pg: ProcessGroups | null;
  readonly #eventual: EventualRegistry | null;
  readonly #raft: RaftHost | null;
  readonly #kv: KvStore | null;
  /** The founders' search (or names), once started: every addGroup waits on the same one. */
  #founders: Promise<readonly string[]> | null = null;
  /** Everything to stop, in start order (the node itself is stopped last, after all of them). */
  readonly #parts: ClusterPart[] = [];
  #stopping: Promise<StopOutcome[]> | null = null;
  #admin: AdminServer | null = null;

  private constructor(
    options: ResolvedClusterOptions,
    logger: Logger,
    node: Node,
    internode: Internode | null,
    pg: ProcessGroups | null,
    eventual: EventualRegistry | null,
    raft: RaftHost | null,
    parts: ClusterPart[],
    eventualKv: EventualKv,
  ) {
    this.#raft = raft;
    this.options = options;
    this.logger = logger;
    this.node = node;
    this.#internode = internode;
    this.#pg = pg;
    this.#eventual = eventual;
    this.#parts = parts;
    if (raft !== null && options.kv !== false) {
      const kv = new KvStore({
        clock: node.clock,
        logger,
        eventual: eventualKv,
        addGroup: (tenant) => this.addGroup({ id: KV_GROUP, tenant }, { timeout: FOUNDERS_SEARCH_TIMEOUT_MS }),
      });
      this.#kv = kv;
      this.#parts.push({
        name: 'kv',
        stop: () => kv.stop(),
        ready: ({ signal }) => kv.ready({ signal }),
      });
    } else {
      // Eventual spaces need no Raft: `cluster.kv.eventual(name)` works; Raft spaces refuse at use.
      const off = new TroupeError('ERR_BAD_CONFIG', 'the Raft KV is off: start with raft: { dataDir, expect }');
      this.#kv = new KvStore({ clock: node.clock, eventual: eventualKv, addGroup: () => Promise.reject(off) });
    }
    // With `raft.expect`, look for the founders at once: peers searching too need our answers.
    if (raft !== null && raft.founders === null && this.#founders === null) {
      this.#founders = this.#findFounders(raft, { timeout: FOUNDERS_SEARCH_TIMEOUT_MS });
      this.#founders.catch((error: unknown) => {
        this.#founders = null; // the next addGroup searches again
        if (!this.stopped) logger.warn({ err: error }, 'raft founders not found yet');
      });
    }
  }

  /** Resolves with the founding voters of this cluster's groups, once known. */
  founders(): Promise<readonly string[]> {
    const host = this.raft;
    this.#founders ??= this.#findFounders(host, {});
    return this.#founders;
  }

  /**
   * Starts a node and its subsystems. If any of them fails to start, the ones already started are
   * stopped (in reverse) and the error is thrown: nothing is left listening or ticking.
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const given = resolveClusterOptions(options);
    // With an admin server and no meter of the caller's, every subsystem reports to its SDK.
    const metrics = given.admin !== undefined && given.meter === undefined ? await adminMetricsFor(given.name) : null;
    const resolved = metrics === null ? given : { ...given, meter: metrics.meter };
    const logger = defaultLogger(options.logger);
    const parts: ClusterPart[] = [];
    const node = await Node.start({
      name: resolved.name,
      logger,
      ...(resolved.clock !== undefined ? { clock: resolved.clock } : {}),
      ...(resolved.meter !== undefined ? { meter: resolved.meter } : {}),
    });
    let cluster: Cluster;
    try {
      let internode: Internode | null = null;
      if (resolved.networked) {
        internode = await Internode.start({
          node,
          cluster: resolved.cluster,
          secret: resolved.secret!,
          logger,
          ...(resolved.listen !== undefined ? { listen: resolved.listen } : {}),
          ...(resolved.seeds !== undefined ? { seeds: resolved.seeds } : {}),
          ...(resolved.advertise !== undefined ? { advertise: resolved.advertise } : {}),
          ...(resolved.tls !== undefined ? { tls: resolved.tls } : {}),
          ...(resolved.dialFrom !== undefined ? { dialFrom: resolved.dialFrom } : {}),
          ...(resolved.transport !== undefined ? { transport: resolved.transport } : {}),
          ...(resolved.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: resolved.heartbeatIntervalMs } : {}),
          ...(resolved.downAfterMs !== undefined ? { downAfterMs: resolved.downAfterMs } : {}),
          ...(resolved.meter !== undefined ? { meter: resolved.meter } : {}),
        });
        const net = internode;
        parts.push({ name: 'internode', stop: () => net.stop() });
      }
      const net = internode ?? undefined;
      const common = {
        node,
        logger,
        ...(net !== undefined ? { internode: net } : {}),
        ...(resolved.meter !== undefined ? { meter: resolved.meter } : {}),
      };
      let pg: ProcessGroups | null = null;
      if (resolved.pg !== false) {
        pg = ProcessGroups.start({ ...(resolved.pg ?? {}), ...common });
        const groups = pg;
        parts.push({ name: 'pg', stop: () => groups.stop() });
      }
      // Eventual KV spaces gossip on the registry class: the registry forwards their frames.
      const eventualKv = new EventualKv({
        node,
        ...(net !== undefined ? { internode: net } : {}),
        ...(resolved.meter !== undefined ? { meter: resolved.meter } : {}),
        ownsClass: resolved.eventual === false,
      });
      parts.push({ name: 'kv.eventual', stop: () => eventualKv.stop() });
      let eventual: EventualRegistry | null = null;
      if (resolved.eventual !== false) {
        const sharedFrames = { accepts: isEventualKvFrame, receive: eventualKv.receive.bind(eventualKv) };
        eventual = EventualRegistry.start({ ...(resolved.eventual ?? {}), ...common, sharedFrames });
        const registry = eventual;
        parts.push({ name: 'eventual', stop: () => registry.stop() });
      }
      let raft: RaftHost | null = null;
      if (resolved.raft !== undefined) {
        // Read before anything opens: a bad file must leave nothing running.
        const known = resolved.raft.voters ?? readFounders(resolved.raft.dataDir);
        const store = LmdbLogStore.open({
          dir: resolved.raft.dataDir,
          nodeId: resolved.name,
          cluster: resolved.cluster,
        });
        const host = new RaftHost({
          self: resolved.name,
          store,
          clock: node.clock,
          logger,
          ...(net !== undefined ? { transport: net } : {}),
          ...(resolved.meter !== undefined ? { meter: resolved.meter } : {}),
          voters: {
            ...(resolved.raft.maxVoters !== undefined ? { maxVoters: resolved.raft.maxVoters } : {}),
            ...(resolved.raft.voterGraceMs !== undefined ? { graceMs: resolved.raft.voterGraceMs } : {}),
          },
        });
        if (known !== null) host.founders = known;
        raft = host;
        parts.push({
          name: 'raft',
          stop: async () => {
            await host.stop();
            await store.close();
          },
        });
      }
      cluster = new Cluster(resolved, logger, node, internode, pg, eventual, raft, parts, eventualKv);
    } catch (error) {
      await metrics?.shutdown();
      await stopInReverse(parts, resolved.stopTimeoutMs, (ms, fire) => new RealClock().setTimer(ms, fire));
      await node.stop();
      throw startError(error, resolved);
    }
    // Last, once the Cluster exists: the admin server reads it. If it cannot listen, all stops.
    if (resolved.admin !== undefined)
      try {
        cluster.#admin = await startClusterAdmin(cluster, resolved.admin, metrics);
        cluster.attach(cluster.#admin);
      } catch (error) {
        await cluster.stop();
        await metrics?.shutdown();
        throw error;
      }
    return cluster;
  }

  get name(): string {
    return this.node.name;
  }

  get stopped(): boolean {
    return this.#stopping !== null;
  }

  /** The internode layer; ERR_BAD_CONFIG on a node started without `listen` or `seeds`. */
  get internode(): Internode {
    if (this.#internode === null)
      throw new TroupeError('ERR_BAD_CONFIG', 'this node runs alone: start it with listen or seeds to talk to peers');
    return this.#internode;
  }

  /** The address peers dial, or null on a node that runs alone. */
  get address(): string | null {
    return this.#internode?.address ?? null;
  }

  /** Process groups (Erlang pg semantics). */
  get pg(): ProcessGroups {
    if (this.#pg === null) throw new TroupeError('ERR_BAD_CONFIG', 'process groups are off (pg: false)');
    return this.#pg;
  }

  /** The eventual name registry (ORSWOT CRDT: local reads, converges). */
  get eventual(): EventualRegistry {
    if (this.#eventual === null)
      throw new TroupeError('ERR_BAD_CONFIG', 'the eventual registry is off (eventual: false)');
    return this.#eventual;
  }

  /** The Raft host; ERR_BAD_CONFIG on a node started without the `raft` option. */
  /**
   * The replicated KV store (etcd's model: revisions, cas, txn, scan, watch, leases) and its
   * eventual spaces (`kv.eventual(name)`, which work without `raft` too).
   */
  get kv(): KvStore {
    if (this.#kv === null)
      throw new TroupeError(
        'ERR_BAD_CONFIG',
        'the KV store is off: start with raft: { dataDir, expect } (and not kv: false)',
      );
    return this.#kv;
  }

  /** The admin HTTP server; ERR_BAD_CONFIG on a node started without the `admin` option. */
  get admin(): AdminServer {
    if (this.#admin === null)
      throw new TroupeError('ERR_BAD_CONFIG', 'the admin server is off: start with admin: { listen }');
    return this.#admin;
  }

  get raft(): RaftHost {
    if (this.#raft === null)
      throw new TroupeError('ERR_BAD_CONFIG', 'the raft host is off: start with raft: { dataDir, voters }');
    return this.#raft;
  }

  /**
   * Starts a Raft group (a tenant) on this node; a new group is founded by the `raft.voters`
   * (or, with `raft.expect`, by the founders found when enough nodes met: this waits for them).
   * Every node that should hold a replica adds the same group; the others join it as learners.
   */
  async addGroup<T extends Tenant>(
    spec: Omit<GroupSpec<T>, 'bootstrap'>,
    options: { readonly timeout?: number; readonly signal?: AbortSignal } = {},
  ): Promise<RaftGroup<T>> {
    const host = this.raft;
    this.#founders ??= this.#findFounders(host, options);
    let voters: readonly string[];
    try {
      voters = await this.#founders;
    } catch (error) {
      this.#founders = null; // the next addGroup searches again
      throw error;
    }
    return host.addGroup({ ...spec, bootstrap: { voters, learners: [] } });
  }

  async #findFounders(
    host: RaftHost,
    options: { readonly timeout?: number; readonly signal?: AbortSignal },
  ): Promise<readonly string[]> {
    if (host.founders !== null) return host.founders;
    const raft = this.options.raft!;
    const voters = await host.findFounders(raft.expect!, options);
    writeFounders(raft.dataDir, voters);
    return voters;
  }

  /** Node names that are up (this one included). */
  upNodes(): string[] {
    return [this.node.name, ...(this.#internode?.upNodes() ?? [])];
  }

  /** Membership events (up, down with its reason), in order. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    return this.#internode?.subscribe(listener) ?? (() => {});
  }

  /**
   * Runs another subsystem in this cluster: it is stopped before the built-in ones, in reverse
   * order of attachment, and ready() waits for it if it has a ready().
   */
  attach(part: ClusterPart): void {
    if (this.#stopping !== null) throw new TroupeError('ERR_STOPPED', 'the cluster is stopped');
    if (this.#parts.length >= MAX_PARTS)
      throw new TroupeError('ERR_LIMIT', `a cluster runs at most ${MAX_PARTS} parts`);
    if (this.#parts.some((p) => p.name === part.name))
      throw new TroupeError('ERR_BAD_ARGUMENT', `a part named ${part.name} is already attached`);
    this.#parts.push(part);
  }

  /**
   * Resolves when the expected members are up and every part is ready (Akka's
   * registerOnMemberUp). Rejects with ClusterNotReadyError (ERR_TIMEOUT, naming what is missing)
   * past `timeout`, ERR_ABORTED on abort, ERR_STOPPED if the cluster stops meanwhile.
   */
  async ready(options: ReadyOptions = {}): Promise<void> {
    if (this.#stopping !== null) throw new TroupeError('ERR_STOPPED', 'the cluster is stopped');
    const timeoutMs = options.timeout ?? DEFAULT_READY_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new TroupeError('ERR_BAD_ARGUMENT', `ready timeout must be above 0 ms, got ${timeoutMs}`);
    const expected = options.nodes ?? 1;
    if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 1))
      throw new TroupeError('ERR_BAD_ARGUMENT', `ready({ nodes }) is a count >= 1 or a list of names, got ${expected}`);
    const missing = (): string[] => {
      const up = this.upNodes();
      if (typeof expected === 'number')
        return up.length >= expected ? [] : [`${expected - up.length} more node(s) (up: ${up.join(', ')})`];
      return expected.filter((n) => !up.includes(n));
    };
    const controller = new AbortController();
    const abort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abort, { once: true });
    let unsubscribe = (): void => {};
    let timer: { cancel(): void } | null = null;
    const readyParts = new Set<string>();
    try {
      const members = new Promise<void>((resolve) => {
        const check = (): void => {
          if (missing().length === 0) resolve();
        };
        unsubscribe = this.subscribe(check);
        check();
      });
      const parts = Promise.all(
        this.#parts
          .filter((p) => p.ready !== undefined)
          .map((p) => p.ready!({ signal: controller.signal }).then(() => void readyParts.add(p.name))),
      );
      const limit = new Promise<never>((_, reject) => {
        timer = this.node.clock.setTimer(timeoutMs, () => {
          const notReady = this.#parts
            .filter((p) => p.ready !== undefined && !readyParts.has(p.name))
            .map((p) => p.name);
          const all = [...missing(), ...notReady];
          reject(new ClusterNotReadyError(`not ready after ${timeoutMs} ms: waiting for ${all.join('; ')}`, all));
        });
        controller.signal.addEventListener('abort', () =>
          reject(
            options.signal?.aborted
              ? new TroupeError('ERR_ABORTED', 'ready() was aborted', { cause: options.signal.reason })
              : new TroupeError('ERR_STOPPED', 'the cluster stopped before it was ready'),
          ),
        );
      });
      await Promise.race([Promise.all([members, parts]), limit]);
    } finally {
      unsubscribe();
      (timer as { cancel(): void } | null)?.cancel();
      options.signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }

  /**
   * Stops every part in reverse order (each within `stopTimeoutMs`), then the node. Idempotent:
   * a second call waits for the first. Returns what happened to each part.
   */
  stop(): Promise<StopOutcome[]> {
    this.#stopping ??= (async () => {
      const outcomes = await stopInReverse(this.#parts, this.options.stopTimeoutMs, (ms, fire) =>
        new RealClock().setTimer(ms, fire),
      );
      for (const o of outcomes)
        if (o.outcome !== 'stopped') this.logger.warn({ part: o.name, outcome: o.outcome, err: o.error }, 'stop');
      await this.node.stop();
      return outcomes;
    })();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
