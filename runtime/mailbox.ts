// A process's mailbox: a FIFO array queue with a moving head (O(1) push and shift) and a
// selective take that removes the first matching message, leaving the rest in their order.

export type Match = (message: unknown) => boolean;

const COMPACT_AT = 1024;

export class Mailbox {
  #items: unknown[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(message: unknown): void {
    this.#items.push(message);
  }

  /** Removes and returns the oldest message; `undefined` only when empty (callers check length). */
  shift(): unknown {
    if (this.#head >= this.#items.length) return undefined;
    const m = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return m;
  }

  /** Index (from the head) of the first message matching, or -1. */
  find(match: Match): number {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) if (match(items[i])) return i - this.#head;
    return -1;
  }

  /** Removes and returns the message at `offset` from the head. */
  takeAt(offset: number): unknown {
    if (offset === 0) return this.shift();
    const [m] = this.#items.splice(this.#head + offset, 1);
    return m;
  }

  /** Removes every message matching; returns how many. */
  removeAll(match: Match): number {
    const before = this.length;
    const kept: unknown[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const m = this.#items[i];
      if (!match(m)) kept.push(m);
    }
    this.#items = kept;
    this.#head = 0;
    return before - kept.length;
  }

  clear(): void {
    if (this.#items.length > 0) this.#items = [];
    this.#head = 0;
  }

  /** Messages in order, for introspection. */
  peekAll(): unknown[] {
    return this.#items.slice(this.#head);
  }
}
