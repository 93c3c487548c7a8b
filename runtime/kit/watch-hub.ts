// A watch hub: the events a replica applies, fanned out to this node's watchers in revision
// order (the KV store's and the consistent registry's watches are both one). It keeps the last
// `retained` events so that a watcher can start from a past revision; a watcher that does not
// read buffers at most `backlog` events and then ends with the `behind` error carrying the
// revision to resume from (never a silent gap). A start point no longer held is the `compacted`
// error (read the current state, then watch from its revision). Memory is bounded per watcher
// (backlog) and per node (retained events, watchers).
import { TroupeError } from '../errors.js';
import { RingQueue } from './ring-queue.js';

/** An event of a watched stream: revisions grow within a stream (a KV space; one stream for names). */
export interface WatchedEvent {
  readonly revision: number;
}

export interface WatchHubOptions<E, T> {
  readonly retained: number;
  readonly backlog: number;
  readonly maxWatchers: number;
  /** The stream an event belongs to (each has its own revisions). */
  readonly streamOf: (event: E) => string;
  readonly matches: (target: T, event: E) => boolean;
  /** The typed errors a watch ends or fails with. */
  readonly errors: {
    readonly tooMany: () => Error;
    readonly badFrom: (from: unknown) => Error;
    readonly compacted: (floor: number, current: number) => Error;
    readonly behind: (resumeRevision: number, why: string) => Error;
    readonly stopped: () => Error;
  };
}

/** A watch: an async iterator of events; `close()` (or `Symbol.asyncDispose`) ends it. */
export interface HubWatch<E> extends AsyncIterableIterator<E>, AsyncDisposable {
  close(): void;
}

export interface WatchHubCounters {
  watchersStarted: number;
  watchersBehind: number;
  eventsDelivered: number;
}

interface Watcher<E, T> {
  readonly stream: string;
  readonly target: T;
  readonly queue: E[];
  /** Events below this revision are not for this watcher (it starts here). */
  readonly from: number;
  /** Revision of the last event queued for the watcher (0: none yet). */
  last: number;
  ended: Error | null | 'closed';
  wake: (() => void) | null;
}

export class EventWatchHub<E extends WatchedEvent, T> {
  readonly counters: WatchHubCounters = { watchersStarted: 0, watchersBehind: 0, eventsDelivered: 0 };
  readonly #retained = new RingQueue<E>();
  /** Per stream, the newest revision whose events this hub no longer holds (watches start after it). */
  readonly #floor = new Map<string, number>();
  readonly #watchers = new Set<Watcher<E, T>>();

  constructor(private readonly options: WatchHubOptions<E, T>) {
    if (!(options.backlog >= 1 && options.retained >= 1 && options.maxWatchers >= 1))
      throw new TroupeError('ERR_BAD_CONFIG', 'a watch hub holds at least one event and one watcher');
  }

  get watchers(): number {
    return this.#watchers.size;
  }

  /** Events the replica just applied, in order. */
  publish(events: readonly E[]): void {
    for (const e of events) {
      if (this.#retained.length >= this.options.retained) {
        const old = this.#retained.shift()!;
        const stream = this.options.streamOf(old);
        this.#floor.set(stream, Math.max(this.#floor.get(stream) ?? 0, old.revision));
      }
      this.#retained.push(e);
      const stream = this.options.streamOf(e);
      for (const w of this.#watchers)
        if (w.ended === null && stream === w.stream && e.revision >= w.from && this.options.matches(w.target, e))
          this.#push(w, e);
    }
  }

  /**
   * The replica was replaced by a snapshot (`revisions`: each stream's revision in it): what
   * happened between is not in the event stream, so every watcher ends `behind` at the revision
   * after its last event, and no watch starts before them.
   */
  reset(revisions: ReadonlyMap<string, number>): void {
    for (const w of this.#watchers)
      this.#end(
        w,
        this.options.errors.behind(Math.max(w.from, w.last + 1), 'the replica was restored from a snapshot'),
      );
    this.#retained.clear();
    this.#floor.clear();
    for (const [stream, revision] of revisions) this.#floor.set(stream, revision);
  }

  /** Ends every watcher (the node stops). */
  close(): void {
    for (const w of this.#watchers) this.#end(w, this.options.errors.stopped());
  }

  /** A new watch of `stream`; `currentRevision` is the replica's revision of it now. */
  watch(
    stream: string,
    target: T,
    currentRevision: number,
    options: { readonly fromRevision?: number; readonly signal?: AbortSignal } = {},
  ): HubWatch<E> {
    if (this.#watchers.size >= this.options.maxWatchers) throw this.options.errors.tooMany();
    options.signal?.throwIfAborted();
    const from = options.fromRevision;
    const w: Watcher<E, T> = {
      stream,
      target,
      queue: [],
      from: from ?? currentRevision + 1,
      last: 0,
      ended: null,
      wake: null,
    };
    // A revision this node has not applied yet is fine: its events come when it does (as etcd).
    if (from !== undefined) {
      if (!Number.isSafeInteger(from) || from < 1) throw this.options.errors.badFrom(from);
      const floor = this.#floor.get(stream) ?? 0;
      if (from <= floor) throw this.options.errors.compacted(floor, currentRevision);
      for (const e of this.#retained)
        if (this.options.streamOf(e) === stream && e.revision >= from && this.options.matches(target, e))
          this.#push(w, e);
    }
    this.#watchers.add(w);
    this.counters.watchersStarted++;
    const onAbort = () => this.#end(w, 'closed');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const close = () => {
      options.signal?.removeEventListener('abort', onAbort);
      this.#end(w, 'closed');
    };
    const next = async (): Promise<IteratorResult<E>> => {
      for (;;) {
        const e = w.queue.shift();
        if (e !== undefined) {
          this.counters.eventsDelivered++;
          return { value: e, done: false };
        }
        if (w.ended === 'closed') return { value: undefined, done: true };
        if (w.ended !== null) {
          const error = w.ended;
          w.ended = 'closed';
          throw error;
        }
        await new Promise<void>((r) => (w.wake = r));
      }
    };
    const watch: HubWatch<E> = {
      next,
      return: () => {
        close();
        return Promise.resolve({ value: undefined, done: true });
      },
      close,
      [Symbol.asyncIterator]: () => watch,
      [Symbol.asyncDispose]: () => {
        close();
        return Promise.resolve();
      },
    };
    return watch;
  }

  #push(w: Watcher<E, T>, e: E): void {
    if (w.queue.length >= this.options.backlog) {
      // Keep whole revisions only: drop the queued part of this one, and resume at it.
      while (w.queue.length > 0 && w.queue[w.queue.length - 1]!.revision === e.revision) w.queue.pop();
      this.counters.watchersBehind++;
      this.#end(w, this.options.errors.behind(e.revision, `the watcher fell ${this.options.backlog} events behind`));
      return;
    }
    w.queue.push(e);
    w.last = e.revision;
    const wake = w.wake;
    w.wake = null;
    wake?.();
  }

  #end(w: Watcher<E, T>, why: Error | 'closed'): void {
    if (!this.#watchers.delete(w)) return;
    if (why === 'closed') w.queue.length = 0;
    w.ended = why;
    const wake = w.wake;
    w.wake = null;
    wake?.();
  }
}
