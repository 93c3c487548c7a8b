// The watch hub of one node: the events its KV replica applies, fanned out to the watchers on
// this node, in revision order. It keeps the last MAX_RETAINED_EVENTS events so that a watcher
// can start from a past revision; a watcher that does not read buffers at most
// MAX_WATCHER_BACKLOG events and then ends with ERR_KV_WATCH_BEHIND carrying the revision to
// resume from (never a silent gap). A start point this node no longer holds events for is
// ERR_KV_COMPACTED (read the current state, then watch from its revision). Memory is bounded
// per watcher and per node.
import { TroupeError } from '../runtime/base.js';
import { KvError } from './errors.js';
import { MAX_RETAINED_EVENTS, MAX_WATCHER_BACKLOG, MAX_WATCHERS_PER_NODE } from './limits.js';
import type { KvEvent } from './types.js';
import { RingQueue } from '../runtime/index.js';

export type WatchTarget = { readonly key: string } | { readonly prefix: string };

export interface WatchOptions {
  /** Deliver every event from this revision on (it must still be retained); default: new events. */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/** A watch: an async iterator of events; `close()` (or `Symbol.asyncDispose`) ends it. */
export interface KvWatch extends AsyncIterableIterator<KvEvent>, AsyncDisposable {
  close(): void;
}

export interface WatchCounters {
  watchersStarted: number;
  watchersBehind: number;
  eventsDelivered: number;
}

interface Watcher {
  readonly space: string;
  readonly target: WatchTarget;
  readonly queue: KvEvent[];
  /** Events below this revision are not for this watcher (it starts here). */
  readonly from: number;
  /** Revision of the last event queued for the watcher (0: none yet). */
  last: number;
  ended: Error | null | 'closed';
  wake: (() => void) | null;
}

const matches = (w: Watcher, e: KvEvent): boolean =>
  e.space === w.space && ('key' in w.target ? e.key === w.target.key : e.key.startsWith(w.target.prefix));

export class WatchHub {
  readonly counters: WatchCounters = { watchersStarted: 0, watchersBehind: 0, eventsDelivered: 0 };
  readonly #retained = new RingQueue<KvEvent>();
  /** Per space, the newest revision whose events this hub no longer holds (watches start after it). */
  readonly #floor = new Map<string, number>();
  readonly #watchers = new Set<Watcher>();

  get watchers(): number {
    return this.#watchers.size;
  }

  /** Events the replica just applied, in order. */
  publish(events: readonly KvEvent[]): void {
    for (const e of events) {
      if (this.#retained.length >= MAX_RETAINED_EVENTS) {
        const old = this.#retained.shift()!;
        this.#floor.set(old.space, Math.max(this.#floor.get(old.space) ?? 0, old.revision));
      }
      this.#retained.push(e);
      for (const w of this.#watchers) if (w.ended === null && e.revision >= w.from && matches(w, e)) this.#push(w, e);
    }
  }

  /**
   * The replica was replaced by a snapshot (`revisions`: each space's revision in it): what
   * happened between is not in the event stream, so every watcher ends with
   * ERR_KV_WATCH_BEHIND at the revision after its last event, and no watch starts before them.
   */
  reset(revisions: ReadonlyMap<string, number>): void {
    for (const w of this.#watchers)
      this.#end(w, behind(w, Math.max(w.from, w.last + 1), 'the replica was restored from a snapshot'));
    this.#retained.clear();
    this.#floor.clear();
    for (const [space, revision] of revisions) this.#floor.set(space, revision);
  }

  /** Ends every watcher (the node stops). */
  close(): void {
    for (const w of this.#watchers) this.#end(w, new TroupeError('ERR_STOPPED', 'the KV store stopped'));
  }

  /** A new watch of `space`; `currentRevision` is the replica's revision of that space now. */
  watch(space: string, target: WatchTarget, currentRevision: number, options: WatchOptions = {}): KvWatch {
    if (this.#watchers.size >= MAX_WATCHERS_PER_NODE)
      throw new KvError('ERR_KV_TOO_MANY_WATCHERS', `this node holds ${MAX_WATCHERS_PER_NODE} watchers`);
    options.signal?.throwIfAborted();
    const from = options.fromRevision;
    const w: Watcher = {
      space,
      target,
      queue: [],
      from: from ?? currentRevision + 1,
      last: 0,
      ended: null,
      wake: null,
    };
    // A revision this node has not applied yet is fine: its events come when it does (as etcd).
    if (from !== undefined) {
      if (!Number.isSafeInteger(from) || from < 1)
        throw new KvError('ERR_KV_BAD_COMMAND', `fromRevision is a revision >= 1, got ${String(from)}`);
      const floor = this.#floor.get(space) ?? 0;
      if (from <= floor)
        throw new KvError('ERR_KV_COMPACTED', `this node holds the events of ${space} after revision ${floor} only`, {
          compactRevision: floor,
          currentRevision,
        });
      for (const e of this.#retained) if (e.revision >= from && matches(w, e)) this.#push(w, e);
    }
    this.#watchers.add(w);
    this.counters.watchersStarted++;
    const onAbort = () => this.#end(w, 'closed');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const close = () => {
      options.signal?.removeEventListener('abort', onAbort);
      this.#end(w, 'closed');
    };
    const next = async (): Promise<IteratorResult<KvEvent>> => {
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
    const watch: KvWatch = {
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

  #push(w: Watcher, e: KvEvent): void {
    if (w.queue.length >= MAX_WATCHER_BACKLOG) {
      // Keep whole revisions only: drop the queued part of this one, and resume at it.
      while (w.queue.length > 0 && w.queue[w.queue.length - 1]!.revision === e.revision) w.queue.pop();
      this.counters.watchersBehind++;
      this.#end(w, behind(w, e.revision, `the watcher fell ${MAX_WATCHER_BACKLOG} events behind`));
      return;
    }
    w.queue.push(e);
    w.last = e.revision;
    const wake = w.wake;
    w.wake = null;
    wake?.();
  }

  #end(w: Watcher, why: Error | 'closed'): void {
    if (!this.#watchers.delete(w)) return;
    if (why === 'closed') w.queue.length = 0;
    w.ended = why;
    const wake = w.wake;
    w.wake = null;
    wake?.();
  }
}

/** The error a watcher ends with when it cannot go on without a gap (queued events still come first). */
function behind(_w: Watcher, resumeRevision: number, why: string): KvError {
  return new KvError('ERR_KV_WATCH_BEHIND', why, { resumeRevision });
}
