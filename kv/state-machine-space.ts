// One space of the KV state machine: a multi-version key store with one revision counter
// (etcd's MVCC in miniature). Each key keeps its versions since the compacted revision; keys
// are kept in one sorted array for scans; leases hold the keys attached to them. Pure: no I/O,
// no clock (lease deadlines are times the leader put into the commands).
import type { KeyValue, KvEvent, KvValue, LeaseId, SpaceLimits } from './types.js';

/** A version of a key; `value` null is a tombstone (the key was deleted at modRevision). */
export interface Version {
  readonly value: KvValue | null;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: LeaseId;
}

export interface Lease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  deadline: number;
  readonly keys: Set<string>;
}

/** UTF-8 length of a string (or length of bytes), without allocating. */
export function byteLength(v: KvValue): number {
  if (typeof v !== 'string') return v.length;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < v.length) {
      const d = v.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Index of the first element of sorted `arr` that is >= key (strict: > key). */
export function lowerBound(arr: readonly string[], key: string, strict = false): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = arr[mid] as string;
    if (k < key || (strict && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toKeyValue(key: string, v: Version): KeyValue | null {
  if (v.value === null) return null;
  return {
    key,
    value: v.value,
    createRevision: v.createRevision,
    modRevision: v.modRevision,
    version: v.version,
    lease: v.lease,
  };
}

export class Space {
  readonly name: string;
  limits: SpaceLimits;
  revision = 0;
  compactRevision = 0;
  /** Every key with a retained version, sorted. */
  readonly keys: string[] = [];
  readonly history = new Map<string, Version[]>();
  live = 0;
  readonly leases = new Map<LeaseId, Lease>();
  /** (revision, key) of every write not yet compacted, in revision order: what compaction visits. */
  #writes: Array<readonly [number, string]> = [];
  #writesHead = 0;

  constructor(name: string, limits: SpaceLimits) {
    this.name = name;
    this.limits = limits;
  }

  current(key: string): KeyValue | null {
    const h = this.history.get(key);
    return h === undefined ? null : toKeyValue(key, h[h.length - 1] as Version);
  }

  /** The key as of `revision` (the caller checked compactRevision <= revision <= this.revision). */
  at(key: string, revision: number): KeyValue | null {
    const h = this.history.get(key);
    if (h === undefined) return null;
    for (let i = h.length - 1; i >= 0; i--) {
      const v = h[i] as Version;
      if (v.modRevision <= revision) return toKeyValue(key, v);
    }
    return null;
  }

  /** Live keys with `prefix`, after `after`, at `revision`, up to `limit`; `next` when more match. */
  scan(prefix: string, after: string | undefined, limit: number, revision: number): [KeyValue[], string | null] {
    const start =
      after !== undefined && after >= prefix ? lowerBound(this.keys, after, true) : lowerBound(this.keys, prefix);
    const items: KeyValue[] = [];
    for (let i = start; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      const kv = revision === this.revision ? this.current(key) : this.at(key, revision);
      if (kv === null) continue;
      if (items.length === limit) return [items, items[items.length - 1]!.key];
      items.push(kv);
    }
    return [items, null];
  }

  /** Live keys with `prefix`, now, in order. */
  liveKeysWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (let i = lowerBound(this.keys, prefix); i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (!key.startsWith(prefix)) break;
      if (this.current(key) !== null) out.push(key);
    }
    return out;
  }

  /** Writes `value` at `revision`; the event goes to `events`. Returns the previous key. */
  put(key: string, value: KvValue, lease: LeaseId, revision: number, events: KvEvent[]): KeyValue | null {
    let h = this.history.get(key);
    if (h === undefined) {
      h = [];
      this.history.set(key, h);
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    const prevVersion = h[h.length - 1];
    const prev = prevVersion === undefined ? null : toKeyValue(key, prevVersion);
    if (prev === null) this.live++;
    else if (prev.lease !== 0) this.leases.get(prev.lease)?.keys.delete(key);
    const v: Version = {
      value,
      createRevision: prev === null ? revision : prev.createRevision,
      modRevision: revision,
      version: prev === null ? 1 : prev.version + 1,
      lease,
    };
    h.push(v);
    if (lease !== 0) this.leases.get(lease)?.keys.add(key);
    this.#writes.push([revision, key]);
    events.push({ space: this.name, type: 'put', key, revision, kv: toKeyValue(key, v) });
    return prev;
  }

  /** Deletes a live key at `revision`; false when it was not live. */
  delete(key: string, revision: number, events: KvEvent[]): boolean {
    const h = this.history.get(key);
    const prev = h === undefined ? null : toKeyValue(key, h[h.length - 1] as Version);
    if (prev === null) return false;
    if (prev.lease !== 0) this.leases.get(prev.lease)?.keys.delete(key);
    (h as Version[]).push({ value: null, createRevision: 0, modRevision: revision, version: 0, lease: 0 });
    this.live--;
    this.#writes.push([revision, key]);
    events.push({ space: this.name, type: 'delete', key, revision, kv: null });
    return true;
  }

  /** Drops every version no read at or after `revision` can see. */
  compactTo(revision: number): void {
    if (revision <= this.compactRevision) return;
    this.compactRevision = revision;
    while (this.#writesHead < this.#writes.length) {
      const [rev, key] = this.#writes[this.#writesHead] as readonly [number, string];
      if (rev > revision) break;
      this.#writesHead++;
      this.#prune(key, revision);
    }
    if (this.#writesHead > 1024 && this.#writesHead * 2 > this.#writes.length) {
      this.#writes = this.#writes.slice(this.#writesHead);
      this.#writesHead = 0;
    }
  }

  /** Compacts so that at most `retainedRevisions` revisions stay behind the current one. */
  autoCompact(): void {
    if (this.revision - this.compactRevision > this.limits.retainedRevisions)
      this.compactTo(this.revision - this.limits.retainedRevisions);
  }

  /** Rebuilds the write list from the histories (after a restore). */
  rebuildWrites(): void {
    const writes: Array<readonly [number, string]> = [];
    for (const key of this.keys)
      for (const v of this.history.get(key) as Version[])
        if (v.modRevision > this.compactRevision) writes.push([v.modRevision, key]);
    writes.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.#writes = writes;
    this.#writesHead = 0;
  }

  #prune(key: string, revision: number): void {
    const h = this.history.get(key);
    if (h === undefined) return;
    let i = h.length - 1;
    while (i >= 0 && (h[i] as Version).modRevision > revision) i--;
    if (i < 0) return;
    // h[i] is the newest version at or before `revision`: older ones are invisible from now on,
    // and so is h[i] itself when it is a tombstone.
    const drop = (h[i] as Version).value === null ? i + 1 : i;
    if (drop > 0) h.splice(0, drop);
    if (h.length === 0) {
      this.history.delete(key);
      this.keys.splice(lowerBound(this.keys, key), 1);
    }
  }
}
