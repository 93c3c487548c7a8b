// The host's write path to its store: each turn's engine writes go out as one persist (group
// commit). Several persists may be in flight (the store orders them, and a sync overlaps later
// commits); each is reported to the engines only after every earlier one, in write order. A
// write that only moves commit indexes does not wait for the disk (etcd's MustSync rule). A
// failed persist is final (fsyncgate): nothing after it is reported, and the host stops.
import type { Clock } from '../../runtime/base.js';
import type { GroupWrite, LogStore } from '../store/index.js';
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
  /** Every write of `batch` is durable (or ordered, when unsynced): tell the engines. */
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
    const written = this.host.store.persist(batch, { sync }).then(() => {
      instruments.duration.record(clock.now() - started, { node: self, sync });
      if (sync) instruments.entries.record(batch.reduce((n, w) => n + w.write.entries.length, 0));
    });
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

  #report(batch: readonly GroupWrite[], sync: boolean): void {
    const c = this.host.counters;
    c.persists++;
    if (!sync) c.persistsUnsynced++;
    c.writesPersisted += batch.length;
    for (const { write } of batch) c.entriesPersisted += write.entries.length;
    this.host.persisted(batch);
  }
}
