// The KV store's types: commands (what goes through the Raft log), their typed results, watch
// events, and the key-value records reads return. Everything here is plain data, so a command
// travels in msgpack and a result comes back the same way from the leader.
import type { KvErrorCode } from '../runtime/base.js';

/** A value: a string, or bytes. */
export type KvValue = string | Uint8Array;

/** A lease id (the Raft index of the entry that granted it); 0 means "no lease". */
export type LeaseId = number;

/** One key as stored: its value and its revisions (etcd's mvccpb.KeyValue). */
export interface KeyValue {
  readonly key: string;
  readonly value: KvValue;
  /** The space revision of the write that created the key (since its last delete). */
  readonly createRevision: number;
  /** The space revision of the last write to the key. */
  readonly modRevision: number;
  /** Writes since the key was created: 1 after its creation. */
  readonly version: number;
  /** The lease the key is attached to, or 0. */
  readonly lease: LeaseId;
}

/** The per-space limits (each one named, validated, with its own typed error). */
export interface SpaceLimits {
  /** Longest key, in UTF-8 bytes (ERR_KV_KEY_TOO_LARGE). */
  readonly maxKeyBytes: number;
  /** Largest value, in bytes (UTF-8 for a string) (ERR_KV_VALUE_TOO_LARGE). */
  readonly maxValueBytes: number;
  /** Most compares plus operations in one txn (ERR_KV_TXN_TOO_LARGE). */
  readonly maxOpsPerTxn: number;
  /** Revisions kept readable behind the current one; older ones are compacted automatically. */
  readonly retainedRevisions: number;
  /** Most live keys (ERR_KV_SPACE_FULL). */
  readonly maxKeys: number;
  /** Most leases alive at once (ERR_KV_SPACE_FULL). */
  readonly maxLeases: number;
}

/** What a cas expects: a value, a mod revision, or that the key is absent (create-if-absent). */
export type CasExpectation = { readonly value: KvValue } | { readonly modRevision: number } | { readonly absent: true };

/** One comparison of a txn. An absent key has version, createRevision and modRevision 0 and no value. */
export interface TxnCompare {
  readonly key: string;
  readonly target: 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';
  readonly op: '==' | '!=' | '<' | '>';
  /** A value for target 'value' (a comparison with an absent key's value is false); otherwise a number. */
  readonly against: KvValue | number;
}

/** One operation of a txn branch. Writes of one txn share one revision. */
export type TxnOp =
  | { readonly op: 'put'; readonly key: string; readonly value: KvValue; readonly lease?: LeaseId }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'delete'; readonly prefix: string }
  | { readonly op: 'get'; readonly key: string };

export type TxnOpResult =
  | { readonly op: 'put'; readonly prev: KeyValue | null }
  | { readonly op: 'delete'; readonly deleted: number }
  | { readonly op: 'get'; readonly kv: KeyValue | null };

/** A command: one committed Raft entry of the KV group. */
export type KvCommand =
  /** Creates a space, or changes its limits (smaller limits apply to later writes only). */
  | { readonly type: 'space-define'; readonly space: string; readonly limits?: Partial<SpaceLimits> }
  | {
      readonly type: 'put';
      readonly space: string;
      readonly key: string;
      readonly value: KvValue;
      readonly lease?: LeaseId;
      /** Apply only if the key's mod revision is this one (0: only if absent). */
      readonly prevRevision?: number;
    }
  | { readonly type: 'delete'; readonly space: string; readonly key: string }
  | { readonly type: 'delete'; readonly space: string; readonly prefix: string }
  | {
      readonly type: 'cas';
      readonly space: string;
      readonly key: string;
      readonly expected: CasExpectation;
      readonly value: KvValue;
      readonly lease?: LeaseId;
    }
  | {
      readonly type: 'txn';
      readonly space: string;
      readonly compare: readonly TxnCompare[];
      readonly success: readonly TxnOp[];
      readonly failure: readonly TxnOp[];
    }
  /** `now` is the leader's clock (ms) when it proposed; the lease's id is the entry's index. */
  | { readonly type: 'lease-grant'; readonly space: string; readonly ttlMs: number; readonly now: number }
  | { readonly type: 'lease-revoke'; readonly space: string; readonly id: LeaseId }
  | { readonly type: 'lease-keepalive'; readonly space: string; readonly id: LeaseId; readonly now: number }
  /** Decided by the leader: every lease whose deadline is <= now expires (at most a bounded number per entry). */
  | { readonly type: 'expire-leases'; readonly now: number }
  /** Proposed by a new leader: every lease keeps its remaining time, plus `electionMs`, on the new clock. */
  | { readonly type: 'leader-changed'; readonly now: number; readonly electionMs: number }
  | { readonly type: 'compact'; readonly space: string; readonly revision: number };

export type KvCommandType = KvCommand['type'];

/** The typed codes a command's result may carry: every kv/ code but those of snapshots and watches. */
export type KvResultErrorCode = Exclude<
  KvErrorCode,
  'ERR_KV_BAD_SNAPSHOT' | 'ERR_KV_WATCH_BEHIND' | 'ERR_KV_TOO_MANY_WATCHERS'
>;

/** The result of applying a command: what the proposer gets back. */
export type KvResult =
  | { readonly type: 'space-defined'; readonly space: string; readonly limits: SpaceLimits }
  | { readonly type: 'put'; readonly ok: true; readonly revision: number; readonly prev: KeyValue | null }
  /** prevRevision did not match: nothing written. */
  | { readonly type: 'put'; readonly ok: false; readonly revision: number; readonly current: KeyValue | null }
  /** `revision` is the space revision after the command (unchanged when nothing was deleted). */
  | { readonly type: 'delete'; readonly deleted: number; readonly revision: number }
  | { readonly type: 'cas'; readonly ok: true; readonly revision: number }
  | { readonly type: 'cas'; readonly ok: false; readonly revision: number; readonly current: KeyValue | null }
  | {
      readonly type: 'txn';
      readonly succeeded: boolean;
      readonly revision: number;
      readonly results: readonly TxnOpResult[];
    }
  | { readonly type: 'lease-granted'; readonly id: LeaseId; readonly ttlMs: number; readonly deadline: number }
  | { readonly type: 'lease-revoked'; readonly id: LeaseId; readonly deleted: number; readonly revision: number }
  | { readonly type: 'lease-kept'; readonly id: LeaseId; readonly ttlMs: number; readonly deadline: number }
  /** `more`: further leases are due (the leader proposes another expire-leases). */
  | { readonly type: 'leases-expired'; readonly expired: readonly LeaseId[]; readonly more: boolean }
  | { readonly type: 'leases-extended'; readonly leases: number }
  | { readonly type: 'compacted'; readonly space: string; readonly revision: number }
  | {
      readonly type: 'error';
      readonly code: KvResultErrorCode;
      readonly message: string;
      /** ERR_KV_COMPACTED / ERR_KV_FUTURE_REVISION: the space's compacted and current revisions. */
      readonly compactRevision?: number;
      readonly currentRevision?: number;
    };

/** A change to one key, as watchers see it; events of one revision come in the order applied. */
export interface KvEvent {
  readonly space: string;
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The revision of the change (a txn's changes share one). */
  readonly revision: number;
  /** The key after a put; null after a delete. */
  readonly kv: KeyValue | null;
}

/** What `apply` returns: the result for the proposer and the events for watchers. */
export interface ApplyOutput {
  readonly result: KvResult;
  readonly events: readonly KvEvent[];
}

/** A read at a revision (default: the current one). */
export interface ReadOptions {
  /** A retained revision; 0 or absent reads the current one (as etcd). */
  readonly revision?: number;
}

export interface ScanOptions extends ReadOptions {
  readonly prefix: string;
  /** Continue after this key (exclusive): the `next` of the previous page. */
  readonly after?: string;
  readonly limit: number;
}

export interface GetReply {
  readonly kv: KeyValue | null;
  /** The revision the read saw. */
  readonly revision: number;
}

export interface ScanReply {
  readonly items: readonly KeyValue[];
  readonly revision: number;
  /** Set when more keys match: pass it as `after`, with `revision`, to read the next page. */
  readonly next: string | null;
}
