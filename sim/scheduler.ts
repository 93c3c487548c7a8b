// Virtual time: a priority queue of events ordered by (time, insertion order), so runs are
// deterministic. Nothing here reads a real clock.

export class SchedulerOverflowError extends Error {
  readonly code = 'ERR_SIM_SCHEDULER_FULL';
}

interface Slot<E> {
  at: number;
  seq: number;
  event: E;
}

export class Scheduler<E> {
  /** Current virtual time (milliseconds by convention). */
  now = 0;
  private heap: Array<Slot<E>> = [];
  private seq = 0;

  /** @param maxPending bound on queued events: a runaway simulation fails loudly. */
  constructor(private readonly maxPending = 1_000_000) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedule `event` at now + delay (delay >= 0). */
  after(delay: number, event: E): void {
    this.at(this.now + Math.max(0, delay), event);
  }

  at(time: number, event: E): void {
    if (this.heap.length >= this.maxPending)
      throw new SchedulerOverflowError(`more than ${this.maxPending} pending events`);
    const slot = { at: Math.max(time, this.now), seq: this.seq++, event };
    const h = this.heap;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i] as Slot<E>, h[p] as Slot<E>)) break;
      [h[i], h[p]] = [h[p] as Slot<E>, h[i] as Slot<E>];
      i = p;
    }
  }

  /** Time of the next event, or Infinity. */
  peekTime(): number {
    return this.heap.length > 0 ? (this.heap[0] as Slot<E>).at : Infinity;
  }

  /** Pop the next event and advance the clock to it. */
  next(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0] as Slot<E>;
    const last = h.pop() as Slot<E>;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l] as Slot<E>, h[m] as Slot<E>)) m = l;
        if (r < h.length && less(h[r] as Slot<E>, h[m] as Slot<E>)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Slot<E>, h[i] as Slot<E>];
        i = m;
      }
    }
    this.now = top.at;
    return top.event;
  }
}

function less<E>(a: Slot<E>, b: Slot<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
