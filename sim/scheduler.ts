// Virtual time: a priority queue of events ordered by (time, insertion order), so runs are
// deterministic. The queue is the runtime's MinHeap in the same order as its VirtualClock.
// Nothing here reads a real clock.
import { MinHeap, dueFirst } from '../runtime/index.js';

export class SchedulerOverflowError extends Error {
  readonly code = 'ERR_SIM_SCHEDULER_FULL';
}

interface Slot<E> {
  readonly at: number;
  readonly seq: number;
  readonly event: E;
}

export class Scheduler<E> {
  /** Current virtual time (milliseconds by convention). */
  now = 0;
  private readonly heap = new MinHeap<Slot<E>>(dueFirst);
  private seq = 0;

  /** @param maxPending bound on queued events: a runaway simulation fails loudly. */
  constructor(private readonly maxPending = 1_000_000) {}

  get size(): number {
    return this.heap.size;
  }

  /** Schedule `event` at now + delay (delay >= 0). */
  after(delay: number, event: E): void {
    this.at(this.now + Math.max(0, delay), event);
  }

  at(time: number, event: E): void {
    if (this.heap.size >= this.maxPending)
      throw new SchedulerOverflowError(`more than ${this.maxPending} pending events`);
    this.heap.push({ at: Math.max(time, this.now), seq: this.seq++, event });
  }

  /** Time of the next event, or Infinity. */
  peekTime(): number {
    return this.heap.peek()?.at ?? Infinity;
  }

  /** Pop the next event and advance the clock to it. */
  next(): E | undefined {
    const top = this.heap.pop();
    if (top === undefined) return undefined;
    this.now = top.at;
    return top.event;
  }
}
