// A FIFO queue on a growable ring buffer: O(1) push and shift, O(1) indexed reads, and removal
// at an offset (for selective receive) that moves only the shorter side. The mailbox and the
// internode class queues both sit on this one structure.

const MIN_CAPACITY = 16;

export class RingQueue<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** The oldest item, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns the oldest item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    this.#maybeShrink();
    return item;
  }

  /** The item `offset` places from the oldest (0 = oldest); `undefined` out of range. */
  at(offset: number): T | undefined {
    if (offset < 0 || offset >= this.#length) return undefined;
    return this.#items[(this.#head + offset) & (this.#items.length - 1)];
  }

  /** Index (from the oldest) of the first item `match` accepts, or -1. */
  findIndex(match: (item: T) => boolean): number {
    for (let i = 0; i < this.#length; i++)
      if (match(this.#items[(this.#head + i) & (this.#items.length - 1)] as T)) return i;
    return -1;
  }

  /** Removes and returns the item at `offset`, keeping the others in order. */
  removeAt(offset: number): T | undefined {
    if (offset < 0 || offset >= this.#length) return undefined;
    if (offset === 0) return this.shift();
    const mask = this.#items.length - 1;
    const item = this.#items[(this.#head + offset) & mask];
    if (offset < this.#length / 2) {
      for (let i = offset; i > 0; i--) this.#items[(this.#head + i) & mask] = this.#items[(this.#head + i - 1) & mask];
      this.#items[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
    } else {
      for (let i = offset; i < this.#length - 1; i++)
        this.#items[(this.#head + i) & mask] = this.#items[(this.#head + i + 1) & mask];
      this.#items[(this.#head + this.#length - 1) & mask] = undefined;
    }
    this.#length--;
    this.#maybeShrink();
    return item;
  }

  /** Removes every item `match` accepts, keeping the rest in order; returns how many went. */
  removeAll(match: (item: T) => boolean): number {
    const kept: T[] = [];
    for (let i = 0; i < this.#length; i++) {
      const item = this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
      if (!match(item)) kept.push(item);
    }
    const removed = this.#length - kept.length;
    if (removed > 0) {
      this.clear();
      for (const item of kept) this.push(item);
    }
    return removed;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const n = this.#length;
    this.#items = new Array<T | undefined>(MIN_CAPACITY);
    this.#head = 0;
    this.#length = 0;
    return n;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
  }

  // Capacity stays a power of two so an index wraps with a mask.
  #grow(): void {
    this.#resize(this.#items.length * 2);
  }

  #maybeShrink(): void {
    if (this.#items.length > MIN_CAPACITY && this.#length * 4 <= this.#items.length)
      this.#resize(this.#items.length / 2);
  }

  #resize(capacity: number): void {
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#length; i++) next[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
