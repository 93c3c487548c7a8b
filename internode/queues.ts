// Per-class bounded outbound queues for one peer, drained by deficit round robin in priority
// order: every class gets its quantum each round (no class starves), control goes first.
import { RingQueue } from '../runtime/index.js';
import { CLASS_POLICY, FRAME_CLASSES, type ClassOverflowPolicy, type FrameClassName } from './classes.js';
import { InternodeError } from './errors.js';
import { CLASS_LIMITS, MAX_ROOM_WAITERS, type ClassLimits } from './limits.js';

export type EnqueueResult = 'queued' | 'dropped-oldest' | 'dropped-newest' | 'rejected';

export type FrameDropReason = 'overflow' | 'discarded';

interface RoomWaiter {
  readonly bytes: number;
  readonly frame: Buffer | undefined;
  resolve(): void;
  reject(e: unknown): void;
}

class ClassQueue {
  readonly limits: ClassLimits;
  readonly policy: ClassOverflowPolicy;
  readonly #items = new RingQueue<Buffer>();
  bytes = 0;
  deficit = 0;
  /** Senders waiting for room, in arrival order; a waiter with a frame is queued when woken. */
  readonly waiters = new RingQueue<RoomWaiter>();

  /** Frames queued in all classes of the peer (shared by its queues, so the total is O(1) to read). */
  readonly #total: { frames: number };

  constructor(limits: ClassLimits, policy: ClassOverflowPolicy, total: { frames: number }) {
    this.limits = limits;
    this.policy = policy;
    this.#total = total;
  }

  get length(): number {
    return this.#items.length;
  }

  hasRoom(bytes: number): boolean {
    return this.#items.length < this.limits.frames && this.bytes + bytes <= this.limits.bytes;
  }

  push(frame: Buffer): void {
    this.#items.push(frame);
    this.bytes += frame.length;
    this.#total.frames++;
  }

  peek(): Buffer | undefined {
    return this.#items.peek();
  }

  shift(): Buffer | undefined {
    const f = this.#items.shift();
    if (f !== undefined) {
      this.bytes -= f.length;
      this.#total.frames--;
    }
    return f;
  }

  clear(): number {
    const n = this.#items.clear();
    this.#total.frames -= n;
    this.bytes = 0;
    this.deficit = 0;
    return n;
  }
}

export interface QueueCounters {
  /** Frames dropped, by class and reason. */
  readonly dropped: Record<FrameClassName, Record<FrameDropReason, number>>;
  /** Enqueue attempts refused (reject policy), by class. */
  readonly rejected: Record<FrameClassName, number>;
}

export function newQueueCounters(): QueueCounters {
  const byClass = <T>(make: () => T): Record<FrameClassName, T> =>
    Object.fromEntries(FRAME_CLASSES.map((c) => [c, make()])) as Record<FrameClassName, T>;
  return { dropped: byClass(() => ({ overflow: 0, discarded: 0 })), rejected: byClass(() => 0) };
}

export class OutboundQueues {
  readonly #queues: Record<FrameClassName, ClassQueue>;
  readonly #counters: QueueCounters;
  readonly #total = { frames: 0 };

  constructor(counters: QueueCounters, limits: Readonly<Record<FrameClassName, ClassLimits>> = CLASS_LIMITS) {
    this.#counters = counters;
    this.#queues = Object.fromEntries(
      FRAME_CLASSES.map((c) => [c, new ClassQueue(limits[c], CLASS_POLICY[c], this.#total)]),
    ) as Record<FrameClassName, ClassQueue>;
  }

  /**
   * Queues a frame under its class's policy. `force` admits a frame past the bound (for runtime
   * signals such as DOWN and EXIT, bounded by the links and monitors that cause them).
   */
  enqueue(cls: FrameClassName, frame: Buffer, force = false): EnqueueResult {
    const q = this.#queues[cls];
    // While senders wait for room, a newcomer does not overtake them: the queue counts as full.
    if (force || (q.waiters.length === 0 && q.hasRoom(frame.length))) {
      q.push(frame);
      return 'queued';
    }
    switch (q.policy) {
      case 'drop-newest':
        this.#counters.dropped[cls].overflow++;
        return 'dropped-newest';
      case 'drop-oldest':
        if (frame.length > q.limits.bytes) {
          // It could never fit: evicting the queued frames for it would lose them for nothing.
          this.#counters.dropped[cls].overflow++;
          return 'dropped-newest';
        }
        while (q.length > 0 && !q.hasRoom(frame.length)) {
          q.shift();
          this.#counters.dropped[cls].overflow++;
        }
        if (!q.hasRoom(frame.length)) {
          this.#counters.dropped[cls].overflow++;
          return 'dropped-newest';
        }
        q.push(frame);
        return 'dropped-oldest';
      case 'reject':
        this.#counters.rejected[cls]++;
        return 'rejected';
    }
  }

  /** Whether a frame of `bytes` would be queued now (room, and nobody waiting ahead of it). */
  hasRoom(cls: FrameClassName, bytes: number): boolean {
    const q = this.#queues[cls];
    return q.waiters.length === 0 && q.hasRoom(bytes);
  }

  /** Resolves when `bytes` fit in the class's queue (FIFO among waiters). */
  waitForRoom(cls: FrameClassName, bytes: number, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.#waitFor(cls, bytes, undefined, options.signal);
  }

  /**
   * Queues `frame` as soon as it fits, after every sender already waiting (so awaitable sends
   * keep their order). Rejects on abort, or when the peer's queues are discarded.
   */
  enqueueWhenRoom(cls: FrameClassName, frame: Buffer, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.#waitFor(cls, frame.length, frame, options.signal);
  }

  #waitFor(cls: FrameClassName, bytes: number, frame: Buffer | undefined, signal?: AbortSignal): Promise<void> {
    const q = this.#queues[cls];
    if (q.waiters.length === 0 && q.hasRoom(bytes)) {
      if (frame !== undefined) q.push(frame);
      return Promise.resolve();
    }
    if (q.waiters.length >= MAX_ROOM_WAITERS) {
      return Promise.reject(
        new InternodeError('ERR_LIMIT', `${MAX_ROOM_WAITERS} senders already wait for room in ${cls}`),
      );
    }
    if (signal?.aborted)
      return Promise.reject(new InternodeError('ERR_ABORTED', 'send aborted', { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        bytes,
        frame,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        const i = q.waiters.findIndex((w) => w === waiter);
        if (i >= 0) q.waiters.removeAt(i);
        reject(new InternodeError('ERR_ABORTED', 'send aborted', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      q.waiters.push(waiter);
    });
  }

  get totalFrames(): number {
    return this.#total.frames;
  }

  get totalBytes(): number {
    let n = 0;
    for (const c of FRAME_CLASSES) n += this.#queues[c].bytes;
    return n;
  }

  length(cls: FrameClassName): number {
    return this.#queues[cls].length;
  }

  /** The class whose turn it is (an index into FRAME_CLASSES), kept across drains. */
  #turn = 0;
  /** Whether the class whose turn it is already got its quantum for this turn. */
  #turnFunded = false;

  /**
   * Takes frames for one write, up to about `budget` bytes (a single larger frame goes alone).
   * Deficit round robin in priority order: each class in turn adds its quantum to its deficit
   * and sends while the head frame fits the deficit. The turn is kept across calls, so a class
   * whose quantum exceeds one write's budget cannot keep the classes after it waiting forever.
   */
  drain(budget: number): Buffer[] {
    const out: Buffer[] = [];
    let taken = 0;
    while (taken < budget && this.totalFrames > 0) {
      const q = this.#queues[FRAME_CLASSES[this.#turn]!];
      if (q.length > 0) {
        if (!this.#turnFunded) {
          q.deficit += q.limits.quantum;
          this.#turnFunded = true;
        }
        for (let f = q.peek(); f !== undefined && f.length <= q.deficit; f = q.peek()) {
          if (taken >= budget || (taken > 0 && taken + f.length > budget)) {
            this.#wake(q);
            return out; // the budget is spent; this class's turn goes on in the next drain
          }
          q.shift();
          q.deficit -= f.length;
          out.push(f);
          taken += f.length;
        }
        this.#wake(q);
      }
      // Only frames larger than every deficit may remain: the deficits grow each round until one fits.
      if (q.length === 0) q.deficit = 0;
      this.#turnFunded = false;
      this.#turn = (this.#turn + 1) % FRAME_CLASSES.length;
    }
    return out;
  }

  #wake(q: ClassQueue): void {
    for (let w = q.waiters.peek(); w !== undefined && q.hasRoom(w.bytes); w = q.waiters.peek()) {
      q.waiters.shift();
      if (w.frame !== undefined) q.push(w.frame);
      w.resolve();
    }
  }

  /** Discards every queued frame (the peer departed); waiters are rejected. Returns frames dropped. */
  discard(reason: unknown): number {
    let n = 0;
    for (const cls of FRAME_CLASSES) {
      const q = this.#queues[cls];
      const dropped = q.clear();
      this.#counters.dropped[cls].discarded += dropped;
      n += dropped;
      const waiting = [...q.waiters];
      q.waiters.clear();
      for (const w of waiting) w.reject(reason);
    }
    return n;
  }
}
