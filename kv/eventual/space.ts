// One eventual KV space as a caller sees it (`cluster.kv.eventual(name)`). Every call is local:
// reads show this node's replica as it is now (the reply says `consistency: 'eventual'`), writes
// apply here at once and reach the other nodes by gossip, repaired by anti-entropy. There is no
// cas, txn or lease on purpose: none of them means anything without coordination, so they are
// not methods (calling one is a type error), not methods that throw.
import type { KvValue } from '../types.js';
import type { EventualKv, EventualKvWatch, EventualWatchTarget } from './host.js';
import type { EventualGetReply, EventualKeyValue, EventualScanReply } from './types.js';

export class EventualKvSpace {
  constructor(
    readonly name: string,
    private readonly host: EventualKv,
  ) {}

  /** The key as this node's replica shows it now (maybe not every write yet: eventual). */
  get(key: string): EventualGetReply {
    return { kv: this.host.core(this.name).get(key), consistency: 'eventual' };
  }

  /** Keys under `prefix` in key order, at most `limit` (default 1,000); pass `next` as `after` to go on. */
  scan(scan: { readonly prefix: string; readonly after?: string; readonly limit?: number }): EventualScanReply {
    return this.host.core(this.name).scan(scan);
  }

  /** Writes here at once and gossips it; concurrent writes elsewhere are settled by the conflict rule. */
  put(key: string, value: KvValue): EventualKeyValue {
    return this.host.put(this.name, key, value);
  }

  /** Deletes a key or every key under a prefix (as this node sees them); resolves with how many went. */
  delete(what: string | { readonly prefix: string }): { deleted: number } {
    return { deleted: this.host.delete(this.name, what) };
  }

  /**
   * Changes of a key, or of every key under a prefix, as this node sees them, from now on: an
   * async iterator (`for await`; `close()`, `break` or `await using` ends it). A watcher that falls
   * MAX_EVENTUAL_WATCH_BACKLOG events behind ends with ERR_KV_WATCH_BEHIND (scan to catch up).
   */
  watch(target: EventualWatchTarget, options: { readonly signal?: AbortSignal } = {}): EventualKvWatch {
    return this.host.watch(this.name, target, options);
  }
}
