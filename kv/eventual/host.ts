// The host of every eventual KV space of one node: the pure cores (one per space) wired to the
// clock (gossip and anti-entropy ticks), to internode (the `registry` class, node up events) and
// to watchers, all from the host kit. The cores decide; this file moves inputs and outputs.
import { randomInt } from 'node:crypto';
import { metrics, type Meter } from '@opentelemetry/api';
import {
  BoundedStream,
  TroupeError,
  observeCounters,
  periodic,
  seededRandom,
  type Node,
  type Random,
  type Startable,
} from '../../runtime/index.js';
import { actorOf, CrdtMalformedError } from '../../crdt/index.js';
import type { Internode, NodeEvent } from '../../internode/index.js';
import { KvError } from '../errors.js';
import type { KvValue } from '../types.js';
import { EventualKvCore } from './core.js';
import {
  EVENTUAL_AE_INTERVAL_MS,
  EVENTUAL_GOSSIP_INTERVAL_MS,
  MAX_EVENTUAL_SPACES,
  MAX_EVENTUAL_WATCH_BACKLOG,
  MAX_EVENTUAL_WATCHERS,
} from './limits.js';
import { parseEventualKvMessage, validSpaceName } from './messages.js';
import { EventualKvSpace } from './space.js';
import {
  zeroEventualCounters,
  type EventualKeyValue,
  type EventualKvCounters,
  type EventualKvEvent,
  type EventualKvOutput,
} from './types.js';

export type EventualWatchTarget = { readonly key: string } | { readonly prefix: string };

/** A watch: an async iterator of events; `close()` (or `Symbol.asyncDispose`) ends it. */
export type EventualKvWatch = AsyncIterableIterator<EventualKvEvent> & AsyncDisposable & { close(): void };

export interface EventualKvOptions {
  readonly node: Node;
  /** Without internode, spaces cover this node only. */
  readonly internode?: Internode;
  /**
   * Whether this host registers the `registry` class handler itself (default true). The Cluster
   * passes false when the eventual name registry holds the handler and forwards these frames.
   */
  readonly ownsClass?: boolean;
  readonly seed?: number;
  readonly gossipIntervalMs?: number;
  readonly aeIntervalMs?: number;
  /** An OpenTelemetry meter; the global one by default. Counters are `troupe.kv.eventual.<counter>`. */
  readonly meter?: Meter;
}

interface Watcher {
  readonly space: string;
  readonly target: EventualWatchTarget;
  readonly stream: BoundedStream<EventualKvEvent>;
}

export class EventualKv implements Startable, AsyncDisposable {
  readonly name = 'kv.eventual';
  readonly #node: Node;
  readonly #net: Internode | undefined;
  readonly #random: Random;
  readonly #spaces = new Map<string, EventualKvCore>();
  readonly #watchers = new Set<Watcher>();
  readonly #release: (() => void)[] = [];
  /** Messages for a space this node could not take (MAX_EVENTUAL_SPACES reached). */
  #spacesRefused = 0;
  /** Messages that failed validation before their space was known. */
  #malformed = 0;
  #stopped = false;

  constructor(options: EventualKvOptions) {
    this.#node = options.node;
    this.#net = options.internode;
    this.#random = seededRandom(options.seed ?? randomInt(2 ** 31));
    if (this.#net !== undefined && options.ownsClass !== false)
      this.#net.handle('registry', (from, body) => this.receive(from, body));
    if (this.#net !== undefined) this.#release.push(this.#net.subscribe((e) => this.#onNodeEvent(e)));
    const clock = this.#node.clock;
    const gossip = periodic(clock, options.gossipIntervalMs ?? EVENTUAL_GOSSIP_INTERVAL_MS, () => this.#gossip());
    const ae = periodic(clock, options.aeIntervalMs ?? EVENTUAL_AE_INTERVAL_MS, () => this.#antiEntropy());
    const unobserve = observeCounters(
      options.meter ?? metrics.getMeter('troupe'),
      'troupe.kv.eventual',
      { node: this.#node.name },
      Object.keys(zeroEventualCounters()),
      () => ({ ...this.counters() }),
    );
    this.#release.push(
      () => gossip.cancel(),
      () => ae.cancel(),
      unobserve,
    );
  }

  /** The handle of a space (created empty here on first use, or when a peer first gossips it). */
  space(name: string): EventualKvSpace {
    this.#check();
    this.core(name);
    return new EventualKvSpace(name, this);
  }

  /** The core of a space, created on first use; ERR_KV_SPACE_FULL past MAX_EVENTUAL_SPACES. */
  core(name: string): EventualKvCore {
    this.#check();
    const known = this.#spaces.get(name);
    if (known !== undefined) return known;
    if (!validSpaceName(name)) throw new KvError('ERR_KV_BAD_COMMAND', 'a space name is 1..128 characters');
    if (this.#spaces.size >= MAX_EVENTUAL_SPACES)
      throw new KvError('ERR_KV_SPACE_FULL', `this node holds ${MAX_EVENTUAL_SPACES} eventual spaces`);
    const core = new EventualKvCore({
      space: name,
      actor: actorOf(this.#node.name, this.#node.incarnation),
      random: this.#random.fork(),
    });
    this.#spaces.set(name, core);
    return core;
  }

  put(space: string, key: string, value: KvValue): EventualKeyValue {
    const core = this.core(space);
    this.#apply(core.put(key, value, Date.now()));
    return core.get(key) as EventualKeyValue;
  }

  delete(space: string, what: string | { readonly prefix: string }): number {
    const r = this.core(space).delete(what);
    this.#apply(r.outputs);
    return r.deleted;
  }

  watch(space: string, target: EventualWatchTarget, options: { readonly signal?: AbortSignal } = {}): EventualKvWatch {
    this.core(space);
    if (this.#watchers.size >= MAX_EVENTUAL_WATCHERS)
      throw new KvError('ERR_KV_TOO_MANY_WATCHERS', `this node holds ${MAX_EVENTUAL_WATCHERS} eventual watchers`);
    const watcher: Watcher = {
      space,
      target,
      stream: new BoundedStream<EventualKvEvent>({
        limit: MAX_EVENTUAL_WATCH_BACKLOG,
        overflow: 'error',
        overflowError: () =>
          new KvError(
            'ERR_KV_WATCH_BEHIND',
            `a watcher fell ${MAX_EVENTUAL_WATCH_BACKLOG} events behind; scan to catch up and watch again`,
          ),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        onClose: () => this.#watchers.delete(watcher),
      }),
    };
    if (!watcher.stream.closed) this.#watchers.add(watcher);
    const stream = watcher.stream;
    return Object.assign(stream, { close: () => stream.end() });
  }

  /** A frame of the `registry` class that carries an eventual KV message (see isEventualKvFrame). */
  receive(from: string, body: unknown): void {
    if (this.#stopped) return;
    let space: string;
    let parsed;
    try {
      parsed = parseEventualKvMessage(body, from);
      space = parsed.space;
    } catch (error) {
      if (!(error instanceof CrdtMalformedError)) throw error;
      this.#malformed++;
      return;
    }
    let core: EventualKvCore;
    try {
      core = this.core(space);
    } catch {
      this.#spacesRefused++;
      return;
    }
    this.#apply(core.apply(from, parsed));
  }

  /** Every space's counters summed, plus the spaces refused. */
  counters(): EventualKvCounters & { spacesRefused: number; spaces: number; watchers: number } {
    const sum = zeroEventualCounters();
    for (const core of this.#spaces.values())
      for (const k of Object.keys(sum) as (keyof EventualKvCounters)[]) sum[k] += core.counters[k];
    sum.malformedDropped += this.#malformed;
    return { ...sum, spacesRefused: this.#spacesRefused, spaces: this.#spaces.size, watchers: this.#watchers.size };
  }

  #gossip(): void {
    if (this.#stopped) return;
    const peers = this.#net?.upNodes() ?? [];
    for (const core of this.#spaces.values()) if (core.outboxSize > 0) this.#apply(core.flush(peers));
  }

  #antiEntropy(): void {
    const peers = this.#net?.upNodes() ?? [];
    if (this.#stopped || peers.length === 0) return;
    const peer = this.#random.pick(peers);
    for (const core of this.#spaces.values()) this.#apply([core.digestTo(peer)]);
  }

  #onNodeEvent(e: NodeEvent): void {
    if (this.#stopped || e.type !== 'up') return;
    // Sync on up: a node back from a partition (or new) is repaired at once, not at the next round.
    for (const core of this.#spaces.values()) this.#apply([core.digestTo(e.node)]);
  }

  #apply(outputs: readonly EventualKvOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'send':
          // A full registry queue drops the frame (counted by internode); anti-entropy repairs it.
          this.#net?.sendFrame(o.to, 'registry', o.message);
          break;
        case 'broadcast':
          for (const to of o.to) this.#net?.sendFrame(to, 'registry', o.message);
          break;
        case 'event':
          for (const w of this.#watchers)
            if (w.space === o.event.space && matches(w.target, o.event.key)) w.stream.push(o.event);
          break;
      }
    }
  }

  #check(): void {
    if (this.#stopped) throw new TroupeError('ERR_STOPPED', 'the eventual KV spaces are stopped');
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const release of this.#release.splice(0).reverse()) release();
    for (const w of [...this.#watchers]) w.stream.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function matches(target: EventualWatchTarget, key: string): boolean {
  return 'key' in target ? key === target.key : key.startsWith(target.prefix);
}
