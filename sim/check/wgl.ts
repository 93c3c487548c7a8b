// The search for one key's history: Wing & Gong's algorithm as Lowe improved it (and as
// porcupine implements it). Calls and returns sit in one list ordered by time; the search
// linearizes a call whose operation fits the model's state, lifting it (and its return) out
// of the list, and backtracks when it meets the return of an operation not yet linearized.
// A cache of (linearized set, model state) pairs already explored prunes the search. An
// indeterminate operation has no return (it may take effect any time after its call, or never),
// so the history is linearizable once every completed operation is linearized.
import type { HistoryOp } from './history.js';
import type { Model } from './models.js';

/** Steps and time granted to a search; shared across the searches of one check. */
export interface Budget {
  /** Model steps left (one per operation tried at a position). */
  steps: number;
  /** Cache entries left (memory). */
  cache: number;
  /** True when the time granted is over (checked every few thousand steps). */
  readonly expired: () => boolean;
}

export type SearchResult = 'ok' | 'violation' | 'steps' | 'time' | 'memory';

/** One operation as the search sees it: completed (with a return) or indeterminate. */
export interface SearchOp {
  readonly op: HistoryOp;
  readonly indeterminate: boolean;
}

interface Entry {
  readonly id: number;
  readonly call: boolean;
  readonly time: number;
  /** A call's return entry (null for an indeterminate operation). */
  ret: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

function buildList(ops: readonly SearchOp[]): Entry {
  const entries: Entry[] = [];
  ops.forEach(({ op, indeterminate }, id) => {
    const call: Entry = { id, call: true, time: op.call, ret: null, prev: null, next: null };
    entries.push(call);
    if (!indeterminate) {
      const ret: Entry = { id, call: false, time: op.ret as number, ret: null, prev: null, next: null };
      call.ret = ret;
      entries.push(ret);
    }
  });
  // Closed intervals: at equal times calls come first (the operations are concurrent).
  entries.sort((a, b) => a.time - b.time || (a.call === b.call ? a.id - b.id : a.call ? -1 : 1));
  const head: Entry = { id: -1, call: false, time: -Infinity, ret: null, prev: null, next: null };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function unlink(e: Entry): void {
  (e.prev as Entry).next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function relink(e: Entry): void {
  (e.prev as Entry).next = e;
  if (e.next !== null) e.next.prev = e;
}

const TIME_CHECK_EVERY = 4096;

/** Searches for a linearization of `ops` (one key) against `model`, within `budget`. */
export function searchKey<S>(ops: readonly SearchOp[], model: Model<S>, budget: Budget): SearchResult {
  const completed = ops.filter((o) => !o.indeterminate).length;
  if (completed === 0) return 'ok';
  const head = buildList(ops);
  const words = new Uint32Array(Math.ceil(ops.length / 32));
  // Cache: model key + linearized set → seen. Exact (the set is part of the string key).
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: S }> = [];
  let state = model.init();
  let done = 0;
  let entry: Entry | null = head.next;
  let sinceTimeCheck = 0;
  const flip = (id: number): void => {
    words[id >>> 5] = (words[id >>> 5] as number) ^ (1 << (id & 31));
  };
  for (;;) {
    if (done === completed) return 'ok';
    if (entry !== null && entry.call) {
      if (budget.steps-- <= 0) return 'steps';
      if (++sinceTimeCheck >= TIME_CHECK_EVERY) {
        sinceTimeCheck = 0;
        if (budget.expired()) return 'time';
      }
      const { op, indeterminate } = ops[entry.id] as SearchOp;
      const next = model.step(state, op, indeterminate);
      if (next !== null) {
        flip(entry.id);
        const key = `${model.key(next)}|${words.join(',')}`;
        if (!seen.has(key)) {
          if (budget.cache-- <= 0) return 'memory';
          seen.add(key);
          stack.push({ entry, state });
          state = next;
          if (!indeterminate) done++;
          unlink(entry);
          if (entry.ret !== null) unlink(entry.ret);
          entry = head.next;
          continue;
        }
        flip(entry.id);
      }
      entry = entry.next;
      continue;
    }
    // A return of an operation not linearized yet (or the end): undo the last choice.
    const top = stack.pop();
    if (top === undefined) return 'violation';
    state = top.state;
    flip(top.entry.id);
    if (!(ops[top.entry.id] as SearchOp).indeterminate) done--;
    if (top.entry.ret !== null) relink(top.entry.ret);
    relink(top.entry);
    entry = top.entry.next;
  }
}
