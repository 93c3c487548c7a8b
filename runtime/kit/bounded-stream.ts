// A bounded, single-consumer async stream: producers push, one consumer iterates. It is the one
// shape behind every stream a host hands out (node events, name watches, pg monitors, KV
// watches). Memory is bounded by `limit`; what happens past it is an explicit rule:
//   'error'        the stream ends with a typed error (the consumer learns it fell behind, and
//                  where from, instead of silently missing items);
//   'drop-oldest'  the oldest buffered item goes, and `dropped` counts it.
// The stream ends (done) when the producer calls end(), when the consumer breaks out of its loop
// or disposes it, or when `signal` aborts.
import { TroupeError } from '../errors.js';
import { RingQueue } from './ring-queue.js';

export type StreamOverflow = 'error' | 'drop-oldest';

export interface BoundedStreamOptions {
  /** Most items buffered for a consumer that is not reading. */
  readonly limit: number;
  readonly overflow: StreamOverflow;
  /** Aborting ends the stream (the consumer sees done, not an error). */
  readonly signal?: AbortSignal;
  /** For 'error': the error the stream ends with (default ERR_STREAM_OVERFLOW naming the limit). */
  readonly overflowError?: () => Error;
  /** For 'drop-oldest': told of every drop, e.g. to bump a host counter. */
  readonly onDrop?: () => void;
  /** Called once when the stream closes for any reason (a host removes it from its set). */
  readonly onClose?: () => void;
}

export class BoundedStream<T> implements AsyncIterableIterator<T>, AsyncDisposable {
  readonly #opts: BoundedStreamOptions;
  readonly #items = new RingQueue<T>();
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  #closed = false;
  /** Set once the stream failed; delivered after the buffered items. */
  #error: unknown = undefined;
  #dropped = 0;
  readonly #onAbort = (): void => this.#close(undefined);

  constructor(opts: BoundedStreamOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1)
      throw new TroupeError('ERR_BAD_ARGUMENT', `a stream limit is an integer >= 1, got ${opts.limit}`);
    this.#opts = opts;
    if (opts.signal?.aborted) this.#closed = true;
    else opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Buffered items not yet taken. */
  get length(): number {
    return this.#items.length;
  }

  /** Items dropped by 'drop-oldest'. */
  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Offers one item. False when the stream is closed (the item is not taken). */
  push(item: T): boolean {
    if (this.#closed) return false;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.#opts.limit) {
      if (this.#opts.overflow === 'drop-oldest') {
        this.#items.shift();
        this.#dropped++;
        this.#opts.onDrop?.();
      } else {
        this.#close(
          this.#opts.overflowError?.() ??
            new TroupeError('ERR_STREAM_OVERFLOW', `the consumer fell ${this.#opts.limit} items behind`),
        );
        return false;
      }
    }
    this.#items.push(item);
    return true;
  }

  /** Ends the stream: buffered items are still delivered, then done (or `error`, if given). */
  end(error?: unknown): void {
    this.#close(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    if (this.#closed) {
      if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter !== null) return Promise.reject(new TroupeError('ERR_BAD_ARGUMENT', 'a stream has one consumer'));
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** The consumer is done (a `break` out of `for await`): drop what is buffered and close. */
  return(): Promise<IteratorResult<T>> {
    this.#items.clear();
    this.#close(undefined);
    this.#error = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  #close(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null) {
      if (error !== undefined) {
        this.#error = undefined;
        waiter.reject(error);
      } else waiter.resolve({ value: undefined, done: true });
    }
    this.#opts.onClose?.();
  }
}
