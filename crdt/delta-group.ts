// Joining key deltas into a delta group, so several changes to one key ship as one delta. The
// join is the ORSWOT join restricted to what the deltas know: an entry survives unless the
// other delta has seen its dot without holding it.
import type { Dot } from './dot.js';
import type { OrswotEntry, KeyDelta } from './orswot-map.js';

function sameDot(a: Dot, b: Dot): boolean {
  return a.counter === b.counter && a.actor === b.actor;
}

function seenBy(delta: KeyDelta<unknown>, d: Dot): boolean {
  return delta.entries.some((e) => sameDot(e, d)) || delta.removed.some((r) => sameDot(r, d));
}

export function joinKeyDeltas<E>(a: KeyDelta<E>, b: KeyDelta<E>): KeyDelta<E> {
  if (a.key !== b.key) throw new RangeError(`joining deltas of different keys ${a.key} and ${b.key}`);
  const entries: OrswotEntry<E>[] = [];
  for (const e of a.entries) if (b.entries.some((x) => sameDot(x, e)) || !seenBy(b, e)) entries.push(e);
  for (const e of b.entries) if (!entries.some((x) => sameDot(x, e)) && !seenBy(a, e)) entries.push(e);
  const removed: Dot[] = [];
  for (const d of [...a.entries, ...a.removed, ...b.entries, ...b.removed]) {
    if (entries.some((x) => sameDot(x, d)) || removed.some((x) => sameDot(x, d))) continue;
    removed.push({ actor: d.actor, counter: d.counter });
  }
  return { key: a.key, entries, removed };
}
