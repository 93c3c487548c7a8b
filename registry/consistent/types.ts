// Commands, results and events of the consistent name registry (a Raft tenant). One Raft entry
// carries a batch of operations, so that many callers share one round; each operation gets its
// own result. The fence of a binding is the index of the entry that made it: it only grows.
import type { NamesErrorCode, Pid } from '../../runtime/base.js';

export type NameOperation =
  /** Bind `name` to `pid` (idempotent for the same pid: same fence). */
  | { readonly op: 'register'; readonly name: string; readonly pid: Pid }
  /**
   * Unbind `name`. Allowed from the owner's node (`by`), or by anyone holding the current
   * `fence`; a fence given must be the current one.
   */
  | { readonly op: 'unregister'; readonly name: string; readonly by: string; readonly fence?: number }
  /** These processes exited: their names go (their node reports it, many exits in one). */
  | { readonly op: 'exits'; readonly pids: readonly Pid[] }
  /**
   * Remove up to `limit` names of `node` (the leader's duty): every name of it when
   * `belowIncarnation` is absent (it is down past the grace), else those of older incarnations.
   */
  | {
      readonly op: 'purge';
      readonly node: string;
      readonly belowIncarnation?: number;
      readonly limit: number;
    };

export interface NamesCommand {
  readonly type: 'batch';
  readonly ops: readonly NameOperation[];
}

export type NameResult =
  | { readonly type: 'registered'; readonly fence: number }
  | { readonly type: 'conflict'; readonly owner: Pid; readonly fence: number }
  | { readonly type: 'unregistered'; readonly fence: number }
  | { readonly type: 'not-registered' }
  | { readonly type: 'removed'; readonly count: number }
  | { readonly type: 'purged'; readonly count: number; readonly more: boolean }
  | {
      readonly type: 'error';
      readonly code: NamesErrorCode | 'ERR_BAD_NAME';
      readonly message: string;
      /** ERR_NAMES_LIMIT: which limit. */
      readonly limit?: string;
      /** ERR_NAMES_STALE_FENCE / ERR_NAMES_NOT_OWNER: the current binding's fence. */
      readonly fence?: number;
    };

export type NameErrorResult = Extract<NameResult, { type: 'error' }>;

/** What one entry returned: one result per operation, in order. */
export interface NamesBatchResult {
  readonly type: 'batch';
  readonly results: readonly NameResult[];
}

/** A binding as the registry holds it. */
export interface NameBinding {
  readonly name: string;
  readonly pid: Pid;
  readonly fence: number;
}

/** What a watcher sees: every change, at the revision (entry index) that made it. */
export type NameEvent =
  | {
      readonly type: 'registered';
      readonly name: string;
      readonly pid: Pid;
      readonly fence: number;
      readonly revision: number;
    }
  | {
      readonly type: 'unregistered';
      readonly name: string;
      readonly pid: Pid;
      readonly fence: number;
      readonly revision: number;
      /** Why: the owner asked, its process exited, or its node left (down or restarted). */
      readonly reason: 'unregister' | 'exit' | 'node-down' | 'node-restarted' | 'replaced';
    };

export interface NamesApplyOutput {
  readonly result: NamesBatchResult | NameErrorResult;
  readonly events: readonly NameEvent[];
}
