// From history text to a verdict: a malformed history is rejected whole (its own verdict).
import { checkOps, type CheckOptions, type Verdict } from './checker.js';
import { parseHistory } from './history.js';

export type HistoryVerdict =
  Verdict | { readonly verdict: 'malformed'; readonly line: number; readonly reason: string };

/** Parses and checks JSON Lines text in the history format. */
export function checkHistory(text: string, opts: CheckOptions = {}): HistoryVerdict {
  const parsed = parseHistory(text);
  if (!parsed.ok) return { verdict: 'malformed', line: parsed.line, reason: parsed.reason };
  return checkOps(parsed.ops, opts);
}
