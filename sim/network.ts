// The one fault model of the simulations: per-message delay (uniform between a min and a max, or
// a long tail with a given mean), loss, duplication, replay of old messages, partitions symmetric
// or one-way, nodes that are down, and a bounded path capacity. FaultModel decides the fate of
// each message from a seeded Random (so a run is a function of its seed) and counts every drop by
// cause; SimNetwork carries the copies as events on a Scheduler. Adapters put the same model
// under other carriers: the registry simulation (sim/registry), and internode's in-memory
// transport (sim/memory-faults.ts).
import type { Random } from '../runtime/base.js';
import type { Scheduler } from './scheduler.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  /** Delivery delay is uniform in [minDelay, maxDelay]; a wide range reorders messages. */
  readonly minDelay: number;
  readonly maxDelay: number;
  /**
   * With it, delays are minDelay plus an exponential draw of mean (meanDelay − minDelay), capped
   * at maxDelay: most messages are quick, a few very late (the shape of a real network).
   */
  readonly meanDelay?: number;
  /** Probability that a message is replayed: one more copy arrives up to `replayWindow` later. */
  readonly replayRate?: number;
  /** Latest a replayed copy arrives after the original's delay (default 10 × maxDelay). */
  readonly replayWindow?: number;
  /** Copies one directed path holds in flight at once; a message beyond it is dropped (counted). */
  readonly pathCapacity?: number;
}

export const PERFECT_NETWORK: NetworkFaults = Object.freeze({
  lossRate: 0,
  duplicateRate: 0,
  minDelay: 1,
  maxDelay: 1,
});

export interface NetworkStats {
  sent: number;
  delivered: number;
  duplicated: number;
  replayed: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedDown: number;
  droppedCapacity: number;
}

export interface Delivery<M> {
  readonly kind: 'deliver';
  readonly from: string;
  readonly to: string;
  readonly message: M;
}

export interface RouteOptions {
  /**
   * The carrier is a stream (a TCP-like connection): it neither duplicates nor replays, so only
   * loss and delay apply.
   */
  readonly stream?: boolean;
}

/** Decides the fate of each message and keeps the network's state: cuts, down nodes, paths in use. */
export class FaultModel {
  faults: NetworkFaults;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    replayed: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedDown: 0,
    droppedCapacity: 0,
  };
  readonly #random: Random;
  /** Directed links that drop everything: "from>to". */
  readonly #blocked = new Set<string>();
  readonly #down = new Set<string>();
  /** Copies in flight per directed path (only counted when pathCapacity is set). */
  readonly #inFlight = new Map<string, number>();

  constructor(random: Random, faults: NetworkFaults = PERFECT_NETWORK) {
    this.#random = random;
    this.faults = faults;
  }

  /**
   * One message from `from` to `to`: the delays of the copies to deliver (empty when it is lost,
   * cut, or over the path's capacity; each cause counted). The draws come in a fixed order, and
   * only for the faults that are on, so a run replays from its seed.
   */
  route(from: string, to: string, opts: RouteOptions = {}): number[] {
    this.stats.sent++;
    if (this.blocks(from, to)) {
      this.stats.droppedPartition++;
      return [];
    }
    const path = `${from}>${to}`;
    const capacity = this.faults.pathCapacity;
    if (capacity !== undefined && (this.#inFlight.get(path) ?? 0) >= capacity) {
      this.stats.droppedCapacity++;
      return [];
    }
    if (this.faults.lossRate > 0 && this.#random.chance(this.faults.lossRate)) {
      this.stats.droppedLoss++;
      return [];
    }
    const first = this.#delay();
    const copies = [first];
    if (opts.stream !== true) {
      if (this.faults.duplicateRate > 0 && this.#random.chance(this.faults.duplicateRate)) {
        this.stats.duplicated++;
        copies.push(this.#delay());
      }
      const replayRate = this.faults.replayRate ?? 0;
      if (replayRate > 0 && this.#random.chance(replayRate)) {
        this.stats.replayed++;
        const window = this.faults.replayWindow ?? 10 * Math.max(1, this.faults.maxDelay);
        copies.push(first + 1 + this.#random.int(Math.max(1, Math.floor(window))));
      }
    }
    if (capacity !== undefined) this.#inFlight.set(path, (this.#inFlight.get(path) ?? 0) + copies.length);
    return copies;
  }

  /** A copy routed from `from` to `to` arrives: false when it must be dropped (an end is down). */
  arrive(from: string, to: string): boolean {
    if (this.faults.pathCapacity !== undefined) {
      const path = `${from}>${to}`;
      const n = (this.#inFlight.get(path) ?? 1) - 1;
      if (n > 0) this.#inFlight.set(path, n);
      else this.#inFlight.delete(path);
    }
    if (this.#down.has(to) || this.#down.has(from)) {
      this.stats.droppedDown++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  /** Whether `from` cannot reach `to` now (a cut in that direction). */
  blocks(from: string, to: string): boolean {
    return this.#blocked.has(`${from}>${to}`);
  }

  #delay(): number {
    const { minDelay, maxDelay, meanDelay } = this.faults;
    if (meanDelay !== undefined && meanDelay > minDelay) {
      const tail = -Math.log(1 - this.#random.next()) * (meanDelay - minDelay);
      return Math.min(maxDelay, minDelay + Math.round(tail));
    }
    return maxDelay > minDelay ? minDelay + this.#random.int(maxDelay - minDelay + 1) : minDelay;
  }

  /** Split nodes into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly string[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.#blocked.add(`${x}>${y}`);
      }
    }
  }

  /** One-way cut: `from` can no longer reach `to` (the other direction still works). */
  cut(from: string, to: string): void {
    this.#blocked.add(`${from}>${to}`);
  }

  /** Restores one direction cut by `cut`, `partition` or `isolate`. */
  restore(from: string, to: string): void {
    this.#blocked.delete(`${from}>${to}`);
  }

  isolate(node: string, others: readonly string[]): void {
    for (const o of others) {
      if (o === node) continue;
      this.#blocked.add(`${node}>${o}`);
      this.#blocked.add(`${o}>${node}`);
    }
  }

  heal(): void {
    this.#blocked.clear();
  }

  setDown(node: string, isDown: boolean): void {
    if (isDown) this.#down.add(node);
    else this.#down.delete(node);
  }

  isDown(node: string): boolean {
    return this.#down.has(node);
  }

  /** The blocked links, sorted (for traces). */
  describeCuts(): string {
    return [...this.#blocked].sort().join(' ');
  }
}

/** The fault model carried by a Scheduler: each copy of a message is a `deliver` event. */
export class SimNetwork<M, E extends { readonly kind: string } = Delivery<M>> {
  readonly model: FaultModel;
  readonly #scheduler: Scheduler<E | Delivery<M>>;

  constructor(random: Random, scheduler: Scheduler<E | Delivery<M>>, faults: NetworkFaults = PERFECT_NETWORK) {
    this.model = new FaultModel(random, faults);
    this.#scheduler = scheduler;
  }

  get faults(): NetworkFaults {
    return this.model.faults;
  }

  set faults(faults: NetworkFaults) {
    this.model.faults = faults;
  }

  get stats(): NetworkStats {
    return this.model.stats;
  }

  send(from: string, to: string, message: M): void {
    for (const delay of this.model.route(from, to))
      this.#scheduler.after(delay, { kind: 'deliver', from, to, message });
  }

  /** Called by the simulation when a delivery event fires: false when it must be dropped. */
  accept(d: Delivery<M>): boolean {
    return this.model.arrive(d.from, d.to);
  }

  partition(groups: readonly (readonly string[])[]): void {
    this.model.partition(groups);
  }

  cut(from: string, to: string): void {
    this.model.cut(from, to);
  }

  isolate(node: string, others: readonly string[]): void {
    this.model.isolate(node, others);
  }

  heal(): void {
    this.model.heal();
  }

  setDown(node: string, isDown: boolean): void {
    this.model.setDown(node, isDown);
  }

  isDown(node: string): boolean {
    return this.model.isDown(node);
  }

  describeCuts(): string {
    return this.model.describeCuts();
  }
}
