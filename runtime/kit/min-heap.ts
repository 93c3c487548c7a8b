// A binary min-heap ordered by a caller's `less`: O(log n) push and pop, O(1) peek. The one
// priority queue behind virtual time (the runtime's VirtualClock and the simulation's Scheduler),
// so both fire events in exactly the same order rule.

export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The least item, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const h = this.#items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i] as T, h[parent] as T)) break;
      [h[i], h[parent]] = [h[parent] as T, h[i] as T];
      i = parent;
    }
  }

  /** Removes and returns the least item; `undefined` when empty. */
  pop(): T | undefined {
    const h = this.#items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l] as T, h[m] as T)) m = l;
        if (r < h.length && this.#less(h[r] as T, h[m] as T)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as T, h[i] as T];
        i = m;
      }
    }
    return top;
  }

  /** How many items `match` accepts (O(n), for introspection). */
  count(match: (item: T) => boolean): number {
    let n = 0;
    for (const item of this.#items) if (match(item)) n++;
    return n;
  }
}

/** Something due at a time; `seq` (insertion order) breaks ties, so runs are deterministic. */
export interface Timed {
  readonly at: number;
  readonly seq: number;
}

/** The order of virtual time: earlier first, and at the same time, first set first. */
export function dueFirst(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
