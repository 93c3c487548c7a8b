// One KV space as a caller sees it: etcd's operations on the space's keys. Writes are commands
// through the KV group's Raft log (from any node; a follower forwards them to the leader); reads
// run on this node's replica, linearizable by default (a read index confirmed by a quorum) or
// local (stale, with the revision it saw). A space is created with default limits on the first
// write that finds it missing; `defineSpace` sets its limits.
import type { ReadConsistency } from '../raft/host/index.js';
import { KvError } from './errors.js';
import { DEFAULT_SCAN_LIMIT } from './limits.js';
import type { KvStore } from './store.js';
import type {
  CasExpectation,
  GetReply,
  KeyValue,
  KvCommand,
  KvResult,
  KvValue,
  LeaseId,
  ScanReply,
  TxnCompare,
  TxnOp,
  TxnOpResult,
} from './types.js';
import type { KvWatch, WatchTarget } from './watch.js';

/** Every call takes a bound and a signal. */
export interface KvCallOptions {
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

export interface KvReadOptions extends KvCallOptions {
  /** 'linearizable' (default), or 'local': this node's replica as it is, stale by up to its lag. */
  readonly consistency?: Exclude<ReadConsistency, 'lease'>;
  /** Read at a retained past revision (default: the current one). */
  readonly revision?: number;
}

export type PutReply =
  | { readonly ok: true; readonly revision: number; readonly prev: KeyValue | null }
  /** `prevRevision` did not match: nothing was written; `current` is the key as it is. */
  | { readonly ok: false; readonly revision: number; readonly current: KeyValue | null };

export type CasReply =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly revision: number; readonly current: KeyValue | null };

export interface TxnReply {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly results: readonly TxnOpResult[];
}

/** A lease: keys put with its id are deleted when it expires (decided by the leader). */
export interface KvLease {
  readonly id: LeaseId;
  readonly ttlMs: number;
  /** Extends the lease by its TTL from now; ERR_KV_NO_LEASE once it expired or was revoked. */
  keepAlive(options?: KvCallOptions): Promise<void>;
  /** Ends the lease now and deletes its keys; resolves with how many were deleted. */
  revoke(options?: KvCallOptions): Promise<number>;
}

type Of<T extends KvResult['type']> = Extract<KvResult, { type: T }>;

export class KvSpace {
  constructor(
    readonly name: string,
    private readonly store: KvStore,
  ) {}

  async get(key: string, options: KvReadOptions = {}): Promise<GetReply> {
    return this.#read((t) => t.get(this.name, key, revisionOf(options)), options, { kv: null, revision: 0 });
  }

  /** Keys with `prefix` in key order, at most `limit` (default 1,000); pass `next` as `after` to go on. */
  async scan(
    scan: { readonly prefix: string; readonly after?: string; readonly limit?: number },
    options: KvReadOptions = {},
  ): Promise<ScanReply> {
    const opts = { prefix: scan.prefix, limit: scan.limit ?? DEFAULT_SCAN_LIMIT, ...revisionOf(options) };
    return this.#read(
      (t) => t.scan(this.name, scan.after !== undefined ? { ...opts, after: scan.after } : opts),
      options,
      {
        items: [],
        revision: 0,
        next: null,
      },
    );
  }

  async put(
    key: string,
    value: KvValue,
    options: KvCallOptions & { readonly lease?: LeaseId; readonly prevRevision?: number } = {},
  ): Promise<PutReply> {
    const r = await this.#write<'put'>(
      {
        type: 'put',
        space: this.name,
        key,
        value,
        ...(options.lease !== undefined ? { lease: options.lease } : {}),
        ...(options.prevRevision !== undefined ? { prevRevision: options.prevRevision } : {}),
      },
      options,
    );
    return r.ok
      ? { ok: true, revision: r.revision, prev: r.prev }
      : { ok: false, revision: r.revision, current: r.current };
  }

  /** Deletes a key, or every key with a prefix; resolves with how many went and the revision after. */
  async delete(
    what: string | { readonly prefix: string },
    options: KvCallOptions = {},
  ): Promise<{ deleted: number; revision: number }> {
    const cmd: KvCommand =
      typeof what === 'string'
        ? { type: 'delete', space: this.name, key: what }
        : { type: 'delete', space: this.name, prefix: what.prefix };
    const r = await this.#write<'delete'>(cmd, options);
    return { deleted: r.deleted, revision: r.revision };
  }

  /** Writes `next` only if the key is as `expected` (a value, a mod revision, or absent). */
  async cas(
    key: string,
    expected: CasExpectation,
    next: KvValue,
    options: KvCallOptions & { readonly lease?: LeaseId } = {},
  ): Promise<CasReply> {
    const r = await this.#write<'cas'>(
      {
        type: 'cas',
        space: this.name,
        key,
        expected,
        value: next,
        ...(options.lease !== undefined ? { lease: options.lease } : {}),
      },
      options,
    );
    return r.ok ? { ok: true, revision: r.revision } : { ok: false, revision: r.revision, current: r.current };
  }

  /** All compares hold → `success` runs, else `failure`; atomically, at one revision. */
  async txn(
    txn: {
      readonly compare: readonly TxnCompare[];
      readonly success: readonly TxnOp[];
      readonly failure?: readonly TxnOp[];
    },
    options: KvCallOptions = {},
  ): Promise<TxnReply> {
    const r = await this.#write<'txn'>(
      { type: 'txn', space: this.name, compare: txn.compare, success: txn.success, failure: txn.failure ?? [] },
      options,
    );
    return { succeeded: r.succeeded, revision: r.revision, results: r.results };
  }

  async lease(ttlMs: number, options: KvCallOptions = {}): Promise<KvLease> {
    const r = await this.#write<'lease-granted'>(
      { type: 'lease-grant', space: this.name, ttlMs, now: this.store.now() },
      options,
    );
    const id = r.id;
    return {
      id,
      ttlMs: r.ttlMs,
      keepAlive: async (o = {}) => {
        await this.#write<'lease-kept'>({ type: 'lease-keepalive', space: this.name, id, now: this.store.now() }, o);
      },
      revoke: async (o = {}) =>
        (await this.#write<'lease-revoked'>({ type: 'lease-revoke', space: this.name, id }, o)).deleted,
    };
  }

  /** Drops the history below `revision` (reads and watches before it fail with ERR_KV_COMPACTED). */
  async compact(revision: number, options: KvCallOptions = {}): Promise<void> {
    await this.#write<'compacted'>({ type: 'compact', space: this.name, revision }, options);
  }

  /**
   * Changes to a key or to every key under a prefix, in revision order, as an async iterator
   * (`for await`; `close()` or `await using` ends it). From `fromRevision` if given (it must be
   * held by this node), else from the next change. Ends with ERR_KV_WATCH_BEHIND (and the
   * `resumeRevision` to watch from) if the caller stops reading for too long.
   */
  watch(target: WatchTarget, options: { readonly fromRevision?: number; readonly signal?: AbortSignal } = {}): KvWatch {
    return this.store.watch(this.name, target, options);
  }

  async #read<R>(fn: (machine: KvStore['tenant']['machine']) => R, options: KvReadOptions, empty: R): Promise<R> {
    const group = await this.store.group(options);
    const r = await group.read(
      (t) => {
        try {
          return fn(t.machine);
        } catch (error) {
          // A space nobody wrote to yet holds no keys.
          if (error instanceof KvError && error.code === 'ERR_KV_NO_SPACE') return empty;
          throw error;
        }
      },
      { consistency: options.consistency ?? 'linearizable', ...callOptions(options) },
    );
    return r.value;
  }

  async #write<T extends KvResult['type']>(cmd: KvCommand, options: KvCallOptions): Promise<Of<T>> {
    try {
      return (await this.store.propose(cmd, options)) as Of<T>;
    } catch (error) {
      if (!(error instanceof KvError) || error.code !== 'ERR_KV_NO_SPACE') throw error;
      await this.store.defineSpace(this.name, undefined, options);
      return (await this.store.propose(cmd, options)) as Of<T>;
    }
  }
}

const revisionOf = (o: KvReadOptions) => (o.revision !== undefined ? { revision: o.revision } : {});

export function callOptions(o: KvCallOptions): KvCallOptions {
  return {
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
  };
}
