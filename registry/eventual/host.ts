// The host of the eventual name registry: an EventualRegistryCore wired to the runtime (process
// exits, "you lost the name" messages), to internode (the `registry` class, node up/down) and to
// OpenTelemetry, with a gossip tick, all from the host kit. The core decides; this file moves
// inputs and outputs.
import { randomInt } from 'node:crypto';
import { metrics, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import {
  BoundedStream,
  Pid,
  TroupeError,
  assertLimitBelow,
  encode,
  observeCounters,
  periodic,
  seededRandom,
  type Node,
  type Startable,
} from '../../runtime/index.js';
import { limits as internodeLimits, type Internode, type NodeEvent } from '../../internode/index.js';
import { EventualRegistryCore } from './core.js';
import {
  GOSSIP_INTERVAL_MS,
  MAX_AE_MESSAGE_BYTES,
  MAX_DELTA_BATCH_BYTES,
  MAX_WATCHERS,
  MAX_WATCH_BACKLOG,
  VIEW_BATCH_NAMES,
} from './limits.js';
import { zeroCounters, type EventualRegistryOptions, type RegistryCounters, type RegistryOutput } from './types.js';
import type { WatchEvent } from './types.js';

/** Sent to a process whose claim on `name` lost a conflict (its registration is gone). */
export interface NameLostMessage {
  readonly type: 'name-lost';
  readonly name: string;
  readonly winner: Pid;
}

export const isNameLost = (m: unknown): m is NameLostMessage =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'name-lost';

/** Users get plain pids, not the CRDT's claim records (which carry internal fields). */
function plain(pid: Pid): Pid;
function plain(pid: Pid | undefined): Pid | undefined;
function plain(pid: Pid | undefined): Pid | undefined {
  return pid === undefined || pid.constructor === Pid ? pid : new Pid(pid.node, pid.id, pid.incarnation);
}

export interface EventualRegistryHostOptions extends Partial<
  Omit<EventualRegistryOptions, 'node' | 'incarnation' | 'random'>
> {
  readonly node: Node;
  /** Without internode, the registry covers this node only. */
  readonly internode?: Internode;
  readonly logger?: Logger;
  /** Seed of the core's random source (anti-entropy peer choice); random by default. */
  readonly seed?: number;
  readonly gossipIntervalMs?: number;
  /** An OpenTelemetry meter; the global one by default. Counters are `troupe.registry.eventual.<counter>`. */
  readonly meter?: Meter;
  /**
   * Another user of the `registry` (gossip) class, e.g. eventual KV spaces: frames it `accepts`
   * go to it (internode has one handler per class). The registry's own frames are bytes.
   */
  readonly sharedFrames?: { accepts(body: unknown): boolean; receive(from: string, body: unknown): void };
}

/** Options of a stream the registry hands out. */
export interface RegistryStreamOptions {
  /** Aborting ends the stream (the consumer sees done). */
  readonly signal?: AbortSignal;
}

/**
 * Registry messages must fit a frame, and an anti-entropy message an empty `registry` queue twice
 * over (against the Internode's class limits when it exposes them, internode's defaults otherwise).
 */
export function checkRegistryFitsTransport(
  budgets: { maxAeMessageBytes: number; maxDeltaBatchBytes: number },
  transport: { frameBodyBytes: number; registryClassBytes: number },
): void {
  const frame = { name: 'internode MAX_FRAME_BODY_BYTES', value: transport.frameBodyBytes };
  assertLimitBelow({ name: 'registry maxDeltaBatchBytes', value: budgets.maxDeltaBatchBytes }, frame);
  assertLimitBelow({ name: 'registry maxAeMessageBytes', value: budgets.maxAeMessageBytes }, frame);
  assertLimitBelow(
    { name: 'registry maxAeMessageBytes', value: budgets.maxAeMessageBytes },
    { name: 'half the internode registry class bytes', value: Math.floor(transport.registryClassBytes / 2) },
    { orEqual: true },
  );
}

function registryClassBytesOf(net: Internode): number {
  const exposed = (net as unknown as { classLimits?: { registry?: { bytes?: number } } }).classLimits;
  return exposed?.registry?.bytes ?? internodeLimits.CLASS_LIMITS.registry.bytes;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The eventual tier: local reads, no coordination, converges; conflicts resolved the same way everywhere. */
export class EventualRegistry implements Startable, AsyncDisposable {
  readonly name = 'registry.eventual';
  readonly node: Node;
  readonly #core: EventualRegistryCore;
  readonly #net: Internode | undefined;
  readonly #logger: Logger;
  readonly #watchers = new Set<BoundedStream<WatchEvent>>();
  readonly #exitWatches = new Map<string, () => void>();
  /** Released by stop(), newest first: the gossip tick, counters, node events, then exit watches. */
  readonly #release: (() => void)[] = [];
  #stopped = false;

  private constructor(opts: EventualRegistryHostOptions) {
    this.node = opts.node;
    this.#net = opts.internode;
    const { node: _n, internode: _i, logger: _l, seed, gossipIntervalMs, meter, sharedFrames, ...limits } = opts;
    if (opts.internode !== undefined)
      checkRegistryFitsTransport(
        {
          maxAeMessageBytes: limits.maxAeMessageBytes ?? MAX_AE_MESSAGE_BYTES,
          maxDeltaBatchBytes: limits.maxDeltaBatchBytes ?? MAX_DELTA_BATCH_BYTES,
        },
        {
          frameBodyBytes: internodeLimits.MAX_FRAME_BODY_BYTES,
          registryClassBytes: registryClassBytesOf(opts.internode),
        },
      );
    this.#core = new EventualRegistryCore({
      ...limits,
      node: opts.node.name,
      incarnation: opts.node.incarnation,
      random: seededRandom(seed ?? randomInt(2 ** 31)),
    });
    this.#core.watchEvents = false; // until someone watches
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'registry', node: opts.node.name });
    this.#net?.handle('registry', (from, body) => {
      if (sharedFrames?.accepts(body) === true) sharedFrames.receive(from, body);
      else if (!this.#stopped) this.#apply(this.#core.receive(from, body));
    });
    if (this.#net !== undefined) this.#release.push(this.#net.subscribe((e) => this.#onNodeEvent(e)));
    for (const m of this.#net?.members() ?? [])
      if (m.state === 'up') this.#apply(this.#core.nodeUp(m.node, m.incarnation, this.node.clock.now()));
    const unobserve = observeCounters(
      meter ?? metrics.getMeter('troupe'),
      'troupe.registry.eventual',
      { node: this.node.name },
      Object.keys(zeroCounters()),
      () => ({ ...this.#core.counters }),
    );
    const gossip = periodic(this.node.clock, gossipIntervalMs ?? GOSSIP_INTERVAL_MS, () =>
      this.#apply(this.#core.tick(this.node.clock.now())),
    );
    this.#release.push(unobserve, () => gossip.cancel());
  }

  static start(opts: EventualRegistryHostOptions): EventualRegistry {
    return new EventualRegistry(opts);
  }

  /**
   * Registers `name` for a live local process. Throws NameTakenError (code ERR_NAME_TAKEN) when
   * this node already sees another owner; a conflict found later (a concurrent claim elsewhere)
   * is resolved the same way on every node, and the loser gets a `NameLostMessage`.
   */
  register(name: string, pid: Pid): void {
    this.#check();
    if (!this.node.isAlive(pid))
      throw new TroupeError('ERR_NOPROC', `cannot register ${name}: ${pid.toString()} is not a live local process`);
    this.#apply(this.#core.register(name, pid));
    const key = pid.toString();
    if (this.#exitWatches.has(key)) return;
    const cancel = this.node.onExit(pid, () => {
      this.#exitWatches.delete(key);
      if (!this.#stopped) this.#apply(this.#core.processExited(pid));
    });
    this.#exitWatches.set(key, cancel);
  }

  /** Unregisters a name held by a local process (optionally checking it is `pid`). */
  unregister(name: string, pid?: Pid): void {
    this.#check();
    this.#apply(this.#core.unregister(name, pid));
  }

  /** The owner of `name` as this node sees it now (a local read). */
  whereis(name: string): Pid | undefined {
    this.#check();
    return plain(this.#core.whereis(name));
  }

  /** Names with an owner as this node sees them (O(1)). */
  get size(): number {
    this.#check();
    return this.#core.size;
  }

  /**
   * Every name and its owner as this node sees them, streamed: a batch of names at a time with a
   * yield to the event loop between batches, so a large registry never blocks the node. Not a
   * point-in-time snapshot: a name changed during the walk shows as it is when reached.
   */
  view(opts: RegistryStreamOptions & { readonly batch?: number } = {}): AsyncGenerator<readonly [string, Pid]> {
    this.#check();
    return this.#stream(opts);
  }

  async *#stream(opts: RegistryStreamOptions & { readonly batch?: number }): AsyncGenerator<readonly [string, Pid]> {
    const batch = Math.max(1, Math.floor(opts.batch ?? VIEW_BATCH_NAMES));
    let inBatch = 0;
    for (const [name, pid] of this.#core.owners()) {
      if (opts.signal?.aborted || this.#stopped) return;
      yield [name, plain(pid)];
      if (++inBatch >= batch) {
        inBatch = 0;
        await yieldToEventLoop();
      }
    }
  }

  /** Sends to the owner of `name`; ERR_NO_SUCH_NAME if it has none here. */
  send(name: string, message: unknown): void {
    this.#check();
    const pid = this.#core.whereis(name);
    if (pid === undefined)
      throw new TroupeError('ERR_NO_SUCH_NAME', `no owner of ${JSON.stringify(name)} in the eventual registry`);
    this.node.send(pid, message);
  }

  /**
   * Register/unregister events as this node sees them, in order, from now on. A watcher that
   * falls MAX_WATCH_BACKLOG events behind ends with ERR_LIMIT (skipping events would let it go
   * back in time); it ends (done) when `signal` aborts or the registry stops.
   */
  watch(opts: RegistryStreamOptions = {}): AsyncIterableIterator<WatchEvent> & AsyncDisposable {
    this.#check();
    if (this.#watchers.size >= MAX_WATCHERS) throw new TroupeError('ERR_LIMIT', `at most ${MAX_WATCHERS} watchers`);
    const stream: BoundedStream<WatchEvent> = new BoundedStream<WatchEvent>({
      limit: MAX_WATCH_BACKLOG,
      overflow: 'error',
      overflowError: () => new TroupeError('ERR_LIMIT', `a watcher fell ${MAX_WATCH_BACKLOG} events behind`),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      onClose: () => {
        this.#watchers.delete(stream);
        this.#core.watchEvents = this.#watchers.size > 0;
      },
    });
    if (!stream.closed) this.#watchers.add(stream);
    this.#core.watchEvents = this.#watchers.size > 0;
    return stream;
  }

  /** The core's counters (readable after stop too, for a last look). */
  counters(): Readonly<RegistryCounters> {
    return { ...this.#core.counters };
  }

  #check(): void {
    if (this.#stopped) throw new TroupeError('ERR_STOPPED', 'the eventual registry is stopped');
  }

  #onNodeEvent(e: NodeEvent): void {
    if (this.#stopped) return;
    const now = this.node.clock.now();
    this.#apply(e.type === 'up' ? this.#core.nodeUp(e.node, e.incarnation, now) : this.#core.nodeDown(e.node, now));
  }

  #apply(outputs: readonly RegistryOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'broadcast': {
          // Encoded once for every peer (the core decodes the bytes on arrival). A full registry
          // queue drops the newest (counted by internode); anti-entropy repairs it.
          if (this.#net === undefined || o.to.length === 0) break;
          const bytes = encode(o.message);
          for (const to of o.to) this.#net.sendFrame(to, 'registry', bytes);
          break;
        }
        case 'send':
          this.#net?.sendFrame(o.to, 'registry', encode(o.message));
          break;
        case 'watch': {
          const event = { ...o.event, pid: plain(o.event.pid) };
          for (const w of this.#watchers) w.push(event);
          break;
        }
        case 'lost':
          this.#logger.info(
            { name: o.name, loser: o.pid.toString(), winner: o.winner.toString() },
            'name conflict resolved',
          );
          this.node.send(o.pid, { type: 'name-lost', name: o.name, winner: plain(o.winner) } satisfies NameLostMessage);
          break;
      }
    }
  }

  /** Stops the registry: later calls throw ERR_STOPPED; gossip, node events, exit watches and watchers end. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const release of this.#release.splice(0).reverse()) release();
    for (const cancel of this.#exitWatches.values()) cancel();
    this.#exitWatches.clear();
    for (const w of [...this.#watchers]) w.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
