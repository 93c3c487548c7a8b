// The linearizability checker: a history is split by key (keys and names are independent
// registers, so the history is linearizable exactly when each key's sub-history is), each key
// is searched within a bound (an `unknown` verdict, never a hang), and a violation is narrowed
// to the smallest failing window:
//   1. the earliest time T at which the key's history already fails: operations called after T
//      are left out and those still running at T are taken as indeterminate (a relaxation, so a
//      failure at T is a failure of the whole; and failing is monotone in T, so T is bisected);
//   2. then, delta-debugging style, completed operations are relaxed to indeterminate (a read
//      dropped, a write that may or may not have taken effect) as long as the rest still fails.
// What stays completed is a set of operations that cannot all have happened as observed: the
// window. Every narrowing step only relaxes, so the window is a proof, never a guess.
import type { HistoryOp } from './history.js';
import { kvModel, namesModel, type Model, type SameOwnerRule } from './models.js';
import { searchKey, type Budget, type SearchOp, type SearchResult } from './wgl.js';

export interface CheckOptions {
  /** Model steps granted to each key's search (default 2,000,000). */
  readonly maxStepsPerKey?: number;
  /** Cache entries granted to each key's search (default 2,000,000). */
  readonly maxCachePerKey?: number;
  /** Wall-clock bound of the whole check, with `now` (ms); none by default. */
  readonly timeLimitMs?: number;
  /** The clock for `timeLimitMs` (the checker reads none of its own). */
  readonly now?: () => number;
  /** Steps granted to narrowing a violation to its window (default 2,000,000). */
  readonly maxNarrowingSteps?: number;
  /** A register of a name its owner already holds: refused (the format) or idempotent (a registry). */
  readonly sameOwner?: SameOwnerRule;
}

export type Namespace = 'kv' | 'names';

export interface Window {
  /** The call of the earliest and the return of the latest operation of the window. */
  readonly from: number;
  readonly to: number;
  /** The completed operations that cannot all have happened as observed, by call time. */
  readonly ops: readonly HistoryOp[];
  /** Whether narrowing ran to its end (false: it ran out of steps; the window is still failing). */
  readonly minimal: boolean;
}

interface Counts {
  /** Keys and names checked, operations read. */
  readonly keys: number;
  readonly ops: number;
  /** Model steps the searches took. */
  readonly steps: number;
}

export type Verdict =
  | ({ readonly verdict: 'linearizable' } & Counts)
  | ({
      readonly verdict: 'violation';
      readonly namespace: Namespace;
      readonly key: string;
      readonly model: string;
      readonly window: Window;
    } & Counts)
  | ({
      readonly verdict: 'unknown';
      readonly reason: 'steps' | 'time' | 'memory';
      /** Keys whose search ran out (namespace:key). */
      readonly undecided: readonly string[];
    } & Counts);

const DEFAULT_STEPS = 2_000_000;

function namespaceOf(op: HistoryOp): Namespace {
  return op.op === 'register' || op.op === 'unregister' || op.op === 'lookup' ? 'names' : 'kv';
}

const isRead = (op: HistoryOp): boolean => op.op === 'get' || op.op === 'lookup';

/** The operations that matter to the search: definite failures and indeterminate reads go. */
function searchOps(ops: readonly HistoryOp[]): SearchOp[] {
  return ops
    .filter((op) => op.outcome !== 'failed' && !(op.outcome === 'timeout' && isRead(op)))
    .map((op) => ({ op, indeterminate: op.outcome === 'timeout' }));
}

/** Relaxes: completed operations not in `strict` become indeterminate (reads are dropped). */
function relaxed(ops: readonly SearchOp[], strict: ReadonlySet<SearchOp>): SearchOp[] {
  const out: SearchOp[] = [];
  for (const o of ops) {
    if (o.indeterminate || strict.has(o)) out.push(o);
    else if (!isRead(o.op)) out.push({ op: o.op, indeterminate: true });
  }
  return out;
}

/** The sub-history at time `t`: nothing called after t; what had not returned by t is indeterminate. */
function cutAt(ops: readonly SearchOp[], t: number): SearchOp[] {
  const out: SearchOp[] = [];
  for (const o of ops) {
    if (o.op.call > t) continue;
    if (!o.indeterminate && (o.op.ret as number) > t) {
      if (!isRead(o.op)) out.push({ op: o.op, indeterminate: true });
    } else out.push(o);
  }
  return out;
}

function narrow<S>(ops: readonly SearchOp[], model: Model<S>, maxSteps: number, expired: () => boolean): Window {
  const budget = { steps: maxSteps };
  let exhausted = false;
  const fails = (candidate: readonly SearchOp[]): boolean => {
    if (budget.steps <= 0) {
      exhausted = true;
      return false;
    }
    const attempt: Budget = { steps: budget.steps, cache: maxSteps, expired };
    const result: SearchResult = searchKey(candidate, model, attempt);
    budget.steps = attempt.steps;
    if (result !== 'violation' && result !== 'ok') exhausted = true;
    return result === 'violation';
  };
  // 1. The earliest failing time, among the return times (failing is monotone in the cut).
  const times = [...new Set(ops.filter((o) => !o.indeterminate).map((o) => o.op.ret as number))].sort((a, b) => a - b);
  let lo = 0;
  let hi = times.length - 1; // the full history fails
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fails(cutAt(ops, times[mid] as number))) hi = mid;
    else lo = mid + 1;
  }
  const cut = cutAt(ops, times[hi] as number);
  // 2. Relax completed operations while the rest still fails (ddmin over the completed ones).
  let strict = cut.filter((o) => !o.indeterminate);
  let chunk = Math.max(1, Math.ceil(strict.length / 2));
  for (;;) {
    let changed = false;
    for (let i = 0; i < strict.length;) {
      const keep = [...strict.slice(0, i), ...strict.slice(i + chunk)];
      if (keep.length > 0 && fails(relaxed(cut, new Set(keep)))) {
        strict = keep;
        changed = true;
      } else i += chunk;
    }
    if (chunk === 1 && !changed) break;
    if (!changed) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  const windowOps = strict.map((o) => o.op).sort((a, b) => a.call - b.call || a.line - b.line);
  return {
    from: Math.min(...windowOps.map((o) => o.call)),
    to: Math.max(...windowOps.map((o) => o.ret as number)),
    ops: windowOps,
    minimal: !exhausted,
  };
}

/** Checks a parsed history (see parseHistory). */
export function checkOps(history: readonly HistoryOp[], opts: CheckOptions = {}): Verdict {
  const start = opts.now?.();
  const expired = (): boolean =>
    opts.timeLimitMs !== undefined && opts.now !== undefined && opts.now() - (start as number) > opts.timeLimitMs;
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    const k = `${namespaceOf(op)}:${op.key}`;
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [op]);
    else list.push(op);
  }
  const names = namesModel(opts.sameOwner ?? 'refuse');
  let steps = 0;
  const undecided: string[] = [];
  let reason: 'steps' | 'time' | 'memory' = 'steps';
  for (const k of [...byKey.keys()].sort()) {
    const ops = searchOps(byKey.get(k) as HistoryOp[]);
    const namespace: Namespace = k.startsWith('kv:') ? 'kv' : 'names';
    const model = (namespace === 'kv' ? kvModel : names) as Model<unknown>;
    const granted = opts.maxStepsPerKey ?? DEFAULT_STEPS;
    const budget: Budget = { steps: granted, cache: opts.maxCachePerKey ?? DEFAULT_STEPS, expired };
    const result = expired() ? 'time' : searchKey(ops, model, budget);
    steps += granted - Math.max(0, budget.steps);
    if (result === 'ok') continue;
    if (result === 'violation') {
      const window = narrow(ops, model, opts.maxNarrowingSteps ?? DEFAULT_STEPS, expired);
      return {
        verdict: 'violation',
        namespace,
        key: k.slice(k.indexOf(':') + 1),
        model: model.name,
        window,
        keys: byKey.size,
        ops: history.length,
        steps,
      };
    }
    undecided.push(k);
    reason = result;
  }
  const counts = { keys: byKey.size, ops: history.length, steps };
  return undecided.length === 0
    ? { verdict: 'linearizable', ...counts }
    : { verdict: 'unknown', reason, undecided, ...counts };
}
