// A faulty network for simulations: per-message delay (which reorders), loss, duplication,
// symmetric and one-way partitions, and nodes that are down. Deliveries are events on a
// Scheduler, so a run is a function of its seed. Every drop is counted by cause.

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
  droppedLoss: number;
  droppedPartition: number;
  droppedDown: number;
}

export interface Delivery<M> {
  readonly kind: 'deliver';
  readonly from: string;
  readonly to: string;
  readonly message: M;
}

export class SimNetwork<M, E extends { readonly kind: string } = Delivery<M>> {
  faults: NetworkFaults;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedDown: 0,
  };
  /** Directed links that drop everything: "from>to". */
  private readonly blocked = new Set<string>();
  private readonly down = new Set<string>();

  constructor(
    private readonly random: Random,
    private readonly scheduler: Scheduler<E | Delivery<M>>,
    faults: NetworkFaults = PERFECT_NETWORK,
  ) {
    this.faults = faults;
  }

  send(from: string, to: string, message: M): void {
    this.stats.sent++;
    if (this.blocked.has(`${from}>${to}`)) {
      this.stats.droppedPartition++;
      return;
    }
    if (this.faults.lossRate > 0 && this.random.chance(this.faults.lossRate)) {
      this.stats.droppedLoss++;
      return;
    }
    this.scheduler.after(this.delay(), { kind: 'deliver', from, to, message });
    if (this.faults.duplicateRate > 0 && this.random.chance(this.faults.duplicateRate)) {
      this.stats.duplicated++;
      this.scheduler.after(this.delay(), { kind: 'deliver', from, to, message });
    }
  }

  /** Called by the simulation when a delivery event fires: false when it must be dropped. */
  accept(d: Delivery<M>): boolean {
    if (this.down.has(d.to) || this.down.has(d.from)) {
      this.stats.droppedDown++;
      return false;
    }
    this.stats.delivered++;
    return true;
  }

  private delay(): number {
    const { minDelay, maxDelay } = this.faults;
    return maxDelay > minDelay ? minDelay + this.random.int(maxDelay - minDelay + 1) : minDelay;
  }

  /** Split nodes into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly string[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`);
      }
    }
  }

  /** One-way cut: `from` can no longer reach `to` (the other direction still works). */
  cut(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  isolate(node: string, others: readonly string[]): void {
    for (const o of others) {
      if (o === node) continue;
      this.blocked.add(`${node}>${o}`);
      this.blocked.add(`${o}>${node}`);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  setDown(node: string, isDown: boolean): void {
    if (isDown) this.down.add(node);
    else this.down.delete(node);
  }

  isDown(node: string): boolean {
    return this.down.has(node);
  }

  /** The blocked links, sorted (for traces). */
  describeCuts(): string {
    return [...this.blocked].sort().join(' ');
  }
}
