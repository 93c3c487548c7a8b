// Plain data of eventual KV spaces: what reads return, the events watchers get, the counters, and
// the outputs of the pure core (what its host must do).
import type { KvValue } from '../types.js';
import type { EventualKvMessage } from './messages.js';

/** A key as this replica shows it: the value the conflict rule picked, and who wrote it when. */
export interface EventualKeyValue {
  readonly key: string;
  readonly value: KvValue;
  /** The write's stamp (hybrid time, ms): what the conflict rule orders concurrent writes by. */
  readonly stamp: number;
  /** The node incarnation that wrote it, `node#incarnation`. */
  readonly writer: string;
  /** Values the key holds from concurrent writes, this one included (1 without a conflict). */
  readonly siblings: number;
}

/** A local read: this node's replica as it is now, which may not have seen every write yet. */
export interface EventualGetReply {
  readonly kv: EventualKeyValue | null;
  readonly consistency: 'eventual';
}

export interface EventualScanReply {
  readonly items: readonly EventualKeyValue[];
  /** Pass as `after` to read the next page; null when this page is the last. */
  readonly next: string | null;
  readonly consistency: 'eventual';
}

/** A change of what a key shows on this node (a local write, or one learnt by gossip). */
export type EventualKvEvent =
  | { readonly type: 'put'; readonly space: string; readonly key: string; readonly kv: EventualKeyValue }
  | { readonly type: 'delete'; readonly space: string; readonly key: string };

export type EventualKvOutput =
  | { readonly type: 'send'; readonly to: string; readonly message: EventualKvMessage }
  | { readonly type: 'broadcast'; readonly to: readonly string[]; readonly message: EventualKvMessage }
  | { readonly type: 'event'; readonly event: EventualKvEvent };

export interface EventualKvCounters {
  puts: number;
  deletes: number;
  deltasSent: number;
  deltasReceived: number;
  aeRounds: number;
  aeChunksSent: number;
  aeChunksReceived: number;
  /** Messages that failed validation (counted, dropped). */
  malformedDropped: number;
  /** Messages that would grow the space past MAX_EVENTUAL_KEYS or MAX_EVENTUAL_ACTORS (dropped). */
  overLimitDropped: number;
  /** Changes dropped from the outbox (full, or no peer up); anti-entropy repairs them. */
  outboxDropped: number;
}

export function zeroEventualCounters(): EventualKvCounters {
  return {
    puts: 0,
    deletes: 0,
    deltasSent: 0,
    deltasReceived: 0,
    aeRounds: 0,
    aeChunksSent: 0,
    aeChunksReceived: 0,
    malformedDropped: 0,
    overLimitDropped: 0,
    outboxDropped: 0,
  };
}
