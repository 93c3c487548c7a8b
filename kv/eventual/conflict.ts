// The conflict rule of eventual spaces. Concurrent puts of one key (neither saw the other) leave
// several entries — a multi-value register; reads show one, chosen the same on every replica:
// the highest stamp, then the highest actor (`node#incarnation`, compared as strings), then the
// highest counter. It depends on the entries alone, never on arrival order, so replicas that
// hold the same entries show the same value. A write that saw the key removed every entry it saw,
// so it never competes with them: the rule only orders writes that were truly concurrent.
import type { OrswotEntry } from '../../crdt/index.js';
import type { Stamped } from './stamped.js';

/** > 0 when `a` wins over `b`. */
export function compareWrites(a: OrswotEntry<Stamped>, b: OrswotEntry<Stamped>): number {
  if (a.value.stamp !== b.value.stamp) return a.value.stamp - b.value.stamp;
  if (a.actor !== b.actor) return a.actor > b.actor ? 1 : -1;
  return a.counter - b.counter;
}

/** The entry a read shows, or undefined for none. */
export function winningWrite(entries: readonly OrswotEntry<Stamped>[]): OrswotEntry<Stamped> | undefined {
  let best: OrswotEntry<Stamped> | undefined;
  for (const e of entries) if (best === undefined || compareWrites(e, best) > 0) best = e;
  return best;
}
