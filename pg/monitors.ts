// Monitors of one scope: who watches what, and each monitor's bounded queue of events not yet
// taken by the host. Keeping the queue here makes demonitor synchronous and exact: it drops the
// monitor and whatever was still queued for it in one step.
import type { Group, MonitorRef, PgEvent, PgMembershipEvent } from './types.js';

interface Monitor {
  readonly ref: MonitorRef;
  /** Key (`Pid.toString()`) of the owning local process, if any. */
  readonly owner: string | undefined;
  /** The watched group, or undefined for a scope monitor. */
  readonly group: Group | undefined;
  queue: PgEvent[];
  /** Ended by overflow: only its final `overflow` event is left to take. */
  ended: boolean;
}

const OVERFLOW: PgEvent = Object.freeze({ kind: 'overflow' as const });

export class MonitorTable {
  readonly #all = new Map<MonitorRef, Monitor>();
  readonly #scopeWide = new Set<Monitor>();
  readonly #byGroup = new Map<Group, Set<Monitor>>();
  readonly #byOwner = new Map<string, Set<MonitorRef>>();
  readonly #ready = new Set<MonitorRef>();
  readonly #maxQueued: number;
  #nextRef: MonitorRef = 1;
  /** Monitors ended by overflow (a counter for the scope's stats). */
  overflows = 0;

  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  get size(): number {
    return this.#all.size;
  }

  add(group: Group | undefined, owner: string | undefined): MonitorRef {
    const ref = this.#nextRef++;
    const monitor: Monitor = { ref, owner, group, queue: [], ended: false };
    this.#all.set(ref, monitor);
    if (group === undefined) this.#scopeWide.add(monitor);
    else {
      let set = this.#byGroup.get(group);
      if (set === undefined) this.#byGroup.set(group, (set = new Set()));
      set.add(monitor);
    }
    if (owner !== undefined) {
      let refs = this.#byOwner.get(owner);
      if (refs === undefined) this.#byOwner.set(owner, (refs = new Set()));
      refs.add(ref);
    }
    return ref;
  }

  /** Removes the monitor and its queued events; false if unknown or already removed. */
  remove(ref: MonitorRef): boolean {
    const monitor = this.#all.get(ref);
    if (monitor === undefined) return false;
    this.#all.delete(ref);
    this.#ready.delete(ref);
    this.#detach(monitor);
    if (monitor.owner !== undefined) {
      const refs = this.#byOwner.get(monitor.owner);
      refs?.delete(ref);
      if (refs?.size === 0) this.#byOwner.delete(monitor.owner);
    }
    return true;
  }

  /** Removes every monitor owned by `owner` (its process exited). */
  removeOwnedBy(owner: string): void {
    const refs = this.#byOwner.get(owner);
    if (refs === undefined) return;
    for (const ref of [...refs]) this.remove(ref);
  }

  /** True when someone watches `group` (or the whole scope): events are worth building. */
  watching(group: Group): boolean {
    return this.#scopeWide.size > 0 || this.#byGroup.has(group);
  }

  emit(event: PgMembershipEvent): void {
    for (const monitor of this.#scopeWide) this.#push(monitor, event);
    const set = this.#byGroup.get(event.group);
    if (set !== undefined) for (const monitor of set) this.#push(monitor, event);
  }

  /** Events queued for `ref`, oldest first, now handed over; `[]` for an unknown ref. */
  take(ref: MonitorRef): readonly PgEvent[] {
    const monitor = this.#all.get(ref);
    if (monitor === undefined) return [];
    this.#ready.delete(ref);
    const events = monitor.queue;
    monitor.queue = [];
    if (monitor.ended) this.remove(ref);
    return events;
  }

  takeReady(): MonitorRef[] {
    if (this.#ready.size === 0) return [];
    const refs = [...this.#ready];
    this.#ready.clear();
    return refs;
  }

  has(ref: MonitorRef): boolean {
    return this.#all.has(ref);
  }

  #push(monitor: Monitor, event: PgEvent): void {
    if (monitor.queue.length >= this.#maxQueued) {
      // The consumer fell too far behind: end the monitor honestly rather than drop silently.
      monitor.queue = [OVERFLOW];
      monitor.ended = true;
      this.#detach(monitor);
      this.overflows++;
    } else {
      monitor.queue.push(event);
    }
    this.#ready.add(monitor.ref);
  }

  #detach(monitor: Monitor): void {
    if (monitor.group === undefined) this.#scopeWide.delete(monitor);
    else {
      const set = this.#byGroup.get(monitor.group);
      set?.delete(monitor);
      if (set?.size === 0) this.#byGroup.delete(monitor.group);
    }
  }
}
