// The host's write path to its store: each turn's engine writes go out as one persist (group
// commit). Several persists may be in flight (the store orders them, and a sync overlaps later
// commits); each is reported to the engines only after every earlier one, in write order. A
// turn whose writes only move commit indexes does not touch the store (etcd's MustSync
// rule: it promises nothing): the newest such hard state rides on the group's next write. A
// failed persist is final (fsyncgate): nothing after it is reported, and the host stops.
import type { Clock } from '../../runtime/base.js';
import type { GroupWrite, LogStore } from '../store/index.js';
import type { HardState } from '../types.js';
import { MAX_PERSISTS_IN_FLIGHT } from './limits.js';
import type { PersistInstruments } from './metrics.js';

export interface PersistCounters {
  persists: number;
  persistsUnsynced: number;
  writesPersisted: number;
  entriesPersisted: number;
}

export interface PersisterHost {
  readonly self: string;
  readonly store: LogStore;
  readonly clock: Clock;
  readonly instruments: PersistInstruments;
  readonly counters: PersistCounters;
  /** Every write of `batch` is durable (or promised nothing, when unsynced): tell the engines. */
  persisted(batch: readonly GroupWrite[]): void;
  /** A persist finished: the host takes its next turn. */
  settled(): void;
  failed(error: Error): void;
}

export class Persister {
  #writes: GroupWrite[] = [];
  #mustSync = false;
  #inFlight = 0;
  #last: Promise<void> = Promise.resolve();
  #failure: Error | null = null;
  /** Per group, the newest hard state of an unsynced batch, not yet written. */
  readonly #deferred = new Map<string, HardState>();

  constructor(private readonly host: PersisterHost) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  get failure(): Error | null {
    return this.#failure;
  }

  add(write: GroupWrite, mustSync: boolean): void {
    this.#writes.push(write);
    if (mustSync) this.#mustSync = true;
  }

  /** Starts a persist of what was added, if there is room (a completion calls `settled`). */
  start(): void {
    if (this.#writes.length === 0 || this.#failure !== null || this.#inFlight >= MAX_PERSISTS_IN_FLIGHT) return;
    const { clock, instruments, self } = this.host;
    const batch = this.#writes;
    const sync = this.#mustSync;
    this.#writes = [];
    this.#mustSync = false;
    this.#inFlight++;
    const started = clock.now();
    let written: Promise<void>;
    if (!sync) {
      // Only commit indexes moved: keep the newest hard state for the next write that must
      // reach the disk anyway (a crash before it loses a commit index, which is safe).
      for (const w of batch) if (w.write.hardState !== null) this.#deferred.set(w.group, w.write.hardState);
      written = Promise.resolve();
    } else {
      const merged = this.#withDeferred(batch);
      written = this.host.store.persist(merged).then(() => {
        instruments.duration.record(clock.now() - started, { node: self });
        instruments.entries.record(batch.reduce((n, w) => n + w.write.entries.length, 0));
      });
    }
    const report = Promise.all([this.#last, written]).then(() => this.#report(batch, sync));
    this.#last = report;
    report.then(
      () => {
        this.#inFlight--;
        this.host.settled();
      },
      (error: unknown) => {
        this.#inFlight--;
        if (this.#failure !== null) return; // an earlier persist failed: this one is moot
        this.#failure = error as Error;
        this.host.failed(this.#failure);
      },
    );
  }

  /** The batch, with each group's deferred hard state on its last write that has none. */
  #withDeferred(batch: readonly GroupWrite[]): readonly GroupWrite[] {
    if (this.#deferred.size === 0) return batch;
    const out = [...batch];
    for (let i = out.length - 1; i >= 0; i--) {
      const w = out[i]!;
      const hs = this.#deferred.get(w.group);
      if (hs === undefined) continue;
      this.#deferred.delete(w.group);
      // A later hard state in the batch replaces the deferred one anyway.
      if (w.write.hardState === null) out[i] = { group: w.group, write: { ...w.write, hardState: hs } };
    }
    return out;
  }

  #report(batch: readonly GroupWrite[], sync: boolean): void {
    const c = this.host.counters;
    c.persists++;
    if (!sync) c.persistsUnsynced++;
    c.writesPersisted += batch.length;
    for (const { write } of batch) c.entriesPersisted += write.entries.length;
    this.host.persisted(batch);
  }
}
