// Every timer in the runtime goes through a Clock, so tests and the simulation control time.
// `now()` is monotonic milliseconds (not wall-clock time).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(delayMs: number, fire: () => void): TimerHandle;
}

/** The real clock: performance.now() and setTimeout. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const t = setTimeout(fire, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

/** Waits until every queued microtask and immediate has run (no wall-clock time passes). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in time order (ties in
 * the order they were set), letting the promises they wake run between timers.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: VirtualTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#heap.filter((t) => !t.cancelled).length;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const timer: VirtualTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fire, cancelled: false };
    this.#push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#peek();
      if (next === undefined || next.at > target) break;
      this.#pop();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await settle();
    }
    this.#now = Math.max(this.#now, target);
    await settle();
  }

  /** Fires timers until none is left (or `maxTimers` fired, against runaway periodic timers). */
  async runAll(maxTimers = 10_000): Promise<void> {
    await settle();
    for (let fired = 0; fired < maxTimers; fired++) {
      const next = this.#peek();
      if (next === undefined) return;
      this.#pop();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await settle();
    }
  }

  #peek(): VirtualTimer | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    return this.#heap[0];
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): VirtualTimer | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
