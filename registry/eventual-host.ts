// The host of the eventual name registry: an EventualRegistryCore wired to the runtime (process
// exits, "you lost the name" messages) and to internode (the `registry` frame class, node
// up/down), with a gossip timer. The core decides; this file moves inputs and outputs.
import { randomInt } from 'node:crypto';
import { metrics, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { Pid, TroupeError, type Node } from '../runtime/index.js';
import type { Internode, NodeEvent } from '../internode/index.js';
import { seededRandom } from '../runtime/base.js';
import { EventualRegistryCore } from './eventual/core.js';
import { GOSSIP_INTERVAL_MS } from './eventual/limits.js';
import {
  zeroCounters,
  type EventualRegistryOptions,
  type RegistryCounters,
  type RegistryOutput,
  type WatchEvent,
} from './eventual/types.js';

/** Events buffered per watcher; a watcher further behind than this is ended with ERR_LIMIT. */
export const MAX_WATCH_BACKLOG = 100_000;
/** Watchers one node may hold. */
export const MAX_WATCHERS = 10_000;

/** Sent to a process whose claim on `name` lost a conflict (its registration is gone). */
export interface NameLostMessage {
  readonly type: 'name-lost';
  readonly name: string;
  readonly winner: Pid;
}

/** Users get plain pids, not the CRDT's claim records (which carry internal fields). */
function plain(pid: Pid): Pid;
function plain(pid: Pid | undefined): Pid | undefined;
function plain(pid: Pid | undefined): Pid | undefined {
  return pid === undefined || pid.constructor === Pid ? pid : new Pid(pid.node, pid.id, pid.incarnation);
}

export const isNameLost = (m: unknown): m is NameLostMessage =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'name-lost';

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
}

interface Watcher {
  readonly backlog: WatchEvent[];
  wake: (() => void) | null;
  failed: TroupeError | null;
}

/** The eventual tier: local reads, no coordination, converges; conflicts resolved the same way everywhere. */
export class EventualRegistry implements AsyncDisposable {
  readonly node: Node;
  readonly #core: EventualRegistryCore;
  readonly #net: Internode | undefined;
  readonly #logger: Logger;
  readonly #watchers = new Set<Watcher>();
  readonly #exitWatches = new Map<string, () => void>();
  readonly #unsubscribe: () => void;
  readonly #gossipMs: number;
  #timer: { cancel(): void } | null = null;
  #stopped = false;
  #unobserve: () => void = () => {};

  private constructor(opts: EventualRegistryHostOptions) {
    this.node = opts.node;
    this.#net = opts.internode;
    this.#logger = (opts.logger ?? pino({ level: 'silent' })).child({ subsystem: 'registry', node: opts.node.name });
    this.#gossipMs = opts.gossipIntervalMs ?? GOSSIP_INTERVAL_MS;
    const { node: _n, internode: _i, logger: _l, seed, gossipIntervalMs: _g, meter, ...limits } = opts;
    this.#core = new EventualRegistryCore({
      ...limits,
      node: opts.node.name,
      incarnation: opts.node.incarnation,
      random: seededRandom(seed ?? randomInt(2 ** 31)),
    });
    this.#net?.handle('registry', (from, body) => this.#apply(this.#core.receive(from, body)));
    this.#unsubscribe = this.#net?.subscribe((e) => this.#onNodeEvent(e)) ?? (() => {});
    const now = this.node.clock.now();
    for (const m of this.#net?.members() ?? [])
      if (m.state === 'up') this.#apply(this.#core.nodeUp(m.node, m.incarnation, now));
    this.#observe(meter ?? metrics.getMeter('troupe'));
    this.#scheduleTick();
  }

  // Counters are read when a metrics reader collects, never on the hot path.
  #observe(meter: Meter): void {
    const names = Object.keys(zeroCounters()) as (keyof RegistryCounters)[];
    const observables = names.map((n) => meter.createObservableCounter(`troupe.registry.eventual.${n}`));
    const cb = (r: BatchObservableResult): void => {
      names.forEach((n, i) => r.observe(observables[i]!, this.#core.counters[n], { node: this.node.name }));
    };
    meter.addBatchObservableCallback(cb, observables);
    this.#unobserve = () => meter.removeBatchObservableCallback(cb, observables);
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
    if (!this.node.isAlive(pid))
      throw new TroupeError('ERR_NOPROC', `cannot register ${name}: ${pid.toString()} is not a live local process`);
    this.#apply(this.#core.register(name, pid));
    const key = pid.toString();
    if (!this.#exitWatches.has(key)) {
      this.#exitWatches.set(
        key,
        this.node.onExit(pid, () => {
          this.#exitWatches.delete(key);
          if (!this.#stopped) this.#apply(this.#core.processExited(pid));
        }),
      );
    }
  }

  /** Unregisters a name held by a local process (optionally checking it is `pid`). */
  unregister(name: string, pid?: Pid): void {
    this.#apply(this.#core.unregister(name, pid));
  }

  /** The owner of `name` as this node sees it now (a local read). */
  whereis(name: string): Pid | undefined {
    return plain(this.#core.whereis(name));
  }

  /** Every name and its owner, as this node sees them. */
  view(): Map<string, Pid> {
    return new Map([...this.#core.view()].map(([name, pid]) => [name, plain(pid)]));
  }

  /** Sends to the owner of `name`; ERR_NO_SUCH_NAME if it has none here. */
  send(name: string, message: unknown): void {
    const pid = this.#core.whereis(name);
    if (pid === undefined)
      throw new TroupeError('ERR_NO_SUCH_NAME', `no owner of ${JSON.stringify(name)} in the eventual registry`);
    this.node.send(pid, message);
  }

  /** Register/unregister events as this node sees them, in order, from now on. */
  async *watch(signal?: AbortSignal): AsyncGenerator<WatchEvent> {
    if (this.#watchers.size >= MAX_WATCHERS) throw new TroupeError('ERR_LIMIT', `at most ${MAX_WATCHERS} watchers`);
    const w: Watcher = { backlog: [], wake: null, failed: null };
    this.#watchers.add(w);
    const onAbort = (): void => w.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (w.backlog.length > 0) yield w.backlog.shift()!;
        if (w.failed !== null) throw w.failed;
        if (signal?.aborted || this.#stopped) return;
        await new Promise<void>((r) => (w.wake = r));
        w.wake = null;
      }
    } finally {
      this.#watchers.delete(w);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  counters(): Readonly<RegistryCounters> {
    return { ...this.#core.counters };
  }

  #onNodeEvent(e: NodeEvent): void {
    const now = this.node.clock.now();
    this.#apply(e.type === 'up' ? this.#core.nodeUp(e.node, e.incarnation, now) : this.#core.nodeDown(e.node, now));
  }

  #scheduleTick(): void {
    this.#timer = this.node.clock.setTimer(this.#gossipMs, () => {
      if (this.#stopped) return;
      this.#apply(this.#core.tick(this.node.clock.now()));
      this.#scheduleTick();
    });
  }

  #apply(outputs: readonly RegistryOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'broadcast':
          // A full registry queue drops the newest (counted by internode); anti-entropy repairs it.
          for (const to of o.to) this.#net?.sendFrame(to, 'registry', o.message);
          break;
        case 'send':
          this.#net?.sendFrame(o.to, 'registry', o.message);
          break;
        case 'watch':
          for (const w of this.#watchers) {
            if (w.failed !== null) continue;
            if (w.backlog.length >= MAX_WATCH_BACKLOG) {
              // Ending the watch is honest; silently skipping events would let it go back in time.
              w.failed = new TroupeError('ERR_LIMIT', `a watcher fell ${MAX_WATCH_BACKLOG} events behind`);
            } else w.backlog.push({ ...o.event, pid: plain(o.event.pid) });
            w.wake?.();
          }
          break;
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

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#unsubscribe();
    this.#unobserve();
    for (const cancel of this.#exitWatches.values()) cancel();
    this.#exitWatches.clear();
    for (const w of this.#watchers) w.wake?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
