// Sequential models of one key (a register with revisions) and of one name (a binding with
// fence tokens), as docs/history-format.md defines them. A model is a pure step function over
// small immutable states, with a string key so the search can cache (linearized set, state).
import type { HistoryOp } from './history.js';

export interface Model<S> {
  readonly name: string;
  init(): S;
  /**
   * The state after `op` takes effect here, or null when it cannot: a completed operation whose
   * reported result does not fit `state`; an indeterminate one (`indeterminate` true, its result
   * ignored) that would change nothing, since leaving it out is always allowed.
   */
  step(state: S, op: HistoryOp, indeterminate: boolean): S | null;
  /** Equal keys for equal states (the search's cache). */
  key(state: S): string;
}

/**
 * One key: its value (null = absent), its mod revision (0 while absent, null when an
 * indeterminate write set it and nothing reported it yet) and `lo`, the highest revision known
 * to have been used on this key (a new write's revision must exceed it).
 */
export interface KvState {
  readonly v: string | null;
  readonly rev: number | null;
  readonly lo: number;
}

function written(s: KvState, v: string | null, rev: number | undefined): KvState | null {
  if (rev === undefined) return { v, rev: v === null ? 0 : null, lo: s.lo };
  if (rev <= s.lo) return null;
  return { v, rev: v === null ? 0 : rev, lo: rev };
}

/** `s` with its unknown revision learned as `rev`, or null if `rev` cannot be it. */
function learnRev(s: KvState, rev: number): KvState | null {
  if (s.rev === null) return rev > s.lo ? { v: s.v, rev, lo: rev } : null;
  return s.rev === rev ? s : null;
}

export const kvModel: Model<KvState> = {
  name: 'kv',
  init: () => ({ v: null, rev: 0, lo: 0 }),
  key: (s) => JSON.stringify([s.v, s.rev, s.lo]),
  step(s, op, indeterminate) {
    const rev = indeterminate ? undefined : op.rev;
    switch (op.op) {
      case 'get':
        if (op.read !== s.v) return null;
        return op.rev === undefined || s.v === null ? s : learnRev(s, op.rev);
      case 'put':
        return written(s, op.value, rev);
      case 'delete':
        if (indeterminate || op.ok === undefined)
          return s.v === null ? (indeterminate ? null : s) : written(s, null, rev);
        if (op.ok) return s.v === null ? null : written(s, null, rev);
        return s.v === null ? s : null;
      case 'cas': {
        let matched: boolean | null; // null: unknown (expected revision vs an unknown one)
        let base = s;
        if (op.expectRev === undefined) matched = s.v === (op.expect ?? null);
        else if (s.v === null) matched = op.expectRev === 0;
        else if (s.rev !== null) matched = s.rev === op.expectRev;
        else matched = op.expectRev > s.lo ? null : false;
        if (indeterminate) return matched === false ? null : written(s, op.value, undefined);
        if (op.ok === true) {
          if (matched === false) return null;
          if (matched === null) base = learnRev(s, op.expectRev as number) as KvState;
          return written(base, op.value, rev);
        }
        return matched === true ? null : s;
      }
      default:
        throw new Error(`the kv model has no ${op.op}`);
    }
  },
};

/**
 * One name: its owner (null = unbound), the binding's fence (null when an indeterminate register
 * made it and nothing reported it yet) and `lo`, the highest fence the name is known to have had.
 */
export interface NameState {
  readonly o: string | null;
  readonly f: number | null;
  readonly lo: number;
}

function bound(s: NameState, o: string, fence: number | undefined): NameState | null {
  if (fence === undefined) return { o, f: null, lo: s.lo };
  return fence > s.lo ? { o, f: fence, lo: fence } : null;
}

function learnFence(s: NameState, fence: number): NameState | null {
  if (s.f === null) return fence > s.lo ? { o: s.o, f: fence, lo: fence } : null;
  return s.f === fence ? s : null;
}

/** Whether a `register` of a name already bound to the same owner is refused (the format) or idempotent. */
export type SameOwnerRule = 'refuse' | 'idempotent';

export function namesModel(sameOwner: SameOwnerRule = 'refuse'): Model<NameState> {
  return {
    name: sameOwner === 'refuse' ? 'names' : 'names(idempotent)',
    init: () => ({ o: null, f: 0, lo: 0 }),
    key: (s) => JSON.stringify([s.o, s.f, s.lo]),
    step(s, op, indeterminate) {
      const owner = op.value as string;
      switch (op.op) {
        case 'register': {
          const same = s.o === owner && sameOwner === 'idempotent';
          if (indeterminate) return s.o === null ? bound(s, owner, undefined) : null;
          if (op.ok === true) {
            if (s.o === null) return bound(s, owner, op.fence);
            if (!same) return null;
            return op.fence === undefined ? s : learnFence(s, op.fence);
          }
          if (s.o === null || same) return null;
          if (op.read !== undefined && op.read !== s.o) return null;
          return op.fence === undefined ? s : learnFence(s, op.fence);
        }
        case 'unregister': {
          if (s.o !== owner) return indeterminate || op.ok === true ? null : s;
          // Bound to this owner: the request's fence decides (an unknown fence may be either).
          const fenceFits = op.fence === undefined || s.f === null || s.f === op.fence;
          const fenceSure = op.fence === undefined || s.f === op.fence;
          if (indeterminate) return fenceFits ? { o: null, f: 0, lo: s.lo } : null;
          if (op.ok === true) {
            if (!fenceFits) return null;
            const learned = op.fence === undefined ? s : learnFence(s, op.fence);
            return learned === null ? null : { o: null, f: 0, lo: learned.lo };
          }
          return fenceSure ? null : s;
        }
        case 'lookup':
          if (op.read !== s.o) return null;
          return op.fence === undefined || s.o === null ? s : learnFence(s, op.fence);
        default:
          throw new Error(`the names model has no ${op.op}`);
      }
    },
  };
}
