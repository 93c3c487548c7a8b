// Every timer in the runtime goes through a Clock, so tests and the simulation control time.
// `now()` is monotonic milliseconds (not wall-clock time).
import { MinHeap, dueFirst } from './kit/min-heap.js';

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
  readonly #heap = new MinHeap<VirtualTimer>(dueFirst);

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#heap.count((t) => !t.cancelled);
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const timer: VirtualTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fire, cancelled: false };
    this.#heap.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#peek();
      if (next === undefined || next.at > target) break;
      this.#heap.pop();
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
      this.#heap.pop();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await settle();
    }
  }

  #peek(): VirtualTimer | undefined {
    while (this.#heap.peek()?.cancelled === true) this.#heap.pop();
    return this.#heap.peek();
  }
}
