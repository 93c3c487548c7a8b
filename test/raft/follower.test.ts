// The follower's append and snapshot checks (raft/follower.ts): log matching, the
// fast-backtracking hint, which entries are new, and when a snapshot needs installing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftError } from '../../raft/errors.js';
import { appendOutcome, snapshotNeeded, type AppendOutcome } from '../../raft/follower.js';
import { RaftLog } from '../../raft/log.js';
import type { AppendMessage, Entry } from '../../raft/types.js';

const members = { voters: ['a', 'b'], learners: [] };

/** A log whose entry i+1 has term terms[i]. */
function logOf(terms: readonly number[]): RaftLog {
  const log = new RaftLog(0, 0, members);
  terms.forEach((term, i) => log.append([{ kind: 'noop', term, index: i + 1 }]));
  return log;
}

function append(prevIndex: number, prevTerm: number, terms: readonly number[], commit = 0): AppendMessage {
  const entries: Entry[] = terms.map((term, i) => ({ kind: 'noop', term, index: prevIndex + 1 + i }));
  return { type: 'append', from: 'b', to: 'a', term: 9, prevIndex, prevTerm, entries, commit };
}

function outcome(log: RaftLog, commit: number, m: AppendMessage): AppendOutcome {
  const out = appendOutcome(log, commit, m);
  if (out instanceof RaftError) throw out;
  return out;
}

describe('appendOutcome', () => {
  it('acknowledges our commit for an append below it', () => {
    const out = outcome(logOf([1, 1, 2]), 3, append(1, 1, [1]));
    expect(out).toMatchObject({ reject: false, index: 3, entries: [], commit: 3 });
  });

  it('rejects a mismatch with a hint a whole term back (fast backtracking)', () => {
    // Ours: 1 1 2 2 2; the leader's entry 5 has term 3, so our term-2 run cannot match.
    const out = outcome(logOf([1, 1, 2, 2, 2]), 0, append(5, 3, []));
    expect(out).toMatchObject({ reject: true, index: 5, hintIndex: 5, hintTerm: 2 });
    // Asked about term 1 at 5: skip our term-2 entries at once.
    expect(outcome(logOf([1, 1, 2, 2, 2]), 0, append(5, 1, []))).toMatchObject({ hintIndex: 2, hintTerm: 1 });
    // Beyond our end: the hint starts at our last entry.
    expect(outcome(logOf([1, 1]), 0, append(6, 1, []))).toMatchObject({ reject: true, hintIndex: 2, hintTerm: 1 });
  });

  it('keeps what it holds, returns only the new entries, and commits no further than they prove', () => {
    const log = logOf([1, 1, 2]);
    const dup = outcome(log, 1, append(1, 1, [1, 2], 9));
    expect(dup).toMatchObject({ reject: false, index: 3, entries: [], commit: 3 });
    const more = outcome(log, 1, append(2, 1, [2, 2, 3], 4));
    expect(more.entries.map((e) => e.index)).toEqual([4, 5]);
    expect(more).toMatchObject({ index: 5, commit: 4 });
    const conflict = outcome(log, 1, append(1, 1, [3, 3]));
    expect(conflict.entries.map((e) => [e.index, e.term])).toEqual([
      [2, 3],
      [3, 3],
    ]);
  });

  it('refuses to overwrite a committed entry (only a malformed append could ask it)', () => {
    const m = append(2, 1, []);
    const out = appendOutcome(logOf([1, 1, 2]), 2, { ...m, entries: [{ kind: 'noop', term: 3, index: 2 }] });
    expect(out).toBeInstanceOf(RaftError);
    expect((out as RaftError).code).toBe('ERR_RAFT_INVARIANT');
  });

  it('after applying the outcome the log holds the append and an unchanged prefix', () => {
    const terms = fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 }).map((steps) => {
      let t = 1;
      return steps.map((s) => (t += s));
    });
    fc.assert(
      fc.property(terms, terms, fc.nat(12), fc.nat(6), (ours, leaders, at, len) => {
        const log = logOf(ours);
        const prevIndex = Math.min(at, leaders.length);
        const sent = leaders.slice(prevIndex, prevIndex + len);
        const m = append(prevIndex, prevIndex === 0 ? 0 : (leaders[prevIndex - 1] as number), sent);
        const before = log.entries.map((e) => e.term);
        const out = outcome(log, 0, m);
        if (out.reject) {
          expect(log.matchTerm(m.prevIndex, m.prevTerm)).toBe(false);
          expect(out.hintIndex).toBeLessThanOrEqual(Math.min(m.prevIndex, log.lastIndex()));
          return;
        }
        const first = out.entries[0];
        if (first !== undefined) {
          if (first.index <= log.lastIndex()) log.truncateFrom(first.index);
          log.append(out.entries);
        }
        const after = log.entries.map((e) => e.term);
        expect(after.slice(0, prevIndex)).toEqual(before.slice(0, prevIndex));
        expect(after.slice(prevIndex, prevIndex + sent.length)).toEqual(sent);
        if (first === undefined) expect(after).toEqual(before);
        expect(out.index).toBe(prevIndex + sent.length);
      }),
      { numRuns: 500, seed: 14 },
    );
  });
});

describe('snapshotNeeded', () => {
  it('is false when committed past it or holding its last entry, true otherwise', () => {
    const log = logOf([1, 1, 2]);
    const meta = (index: number, term: number) => ({ index, term, membership: members });
    expect(snapshotNeeded(log, 3, meta(3, 5))).toBe(false);
    expect(snapshotNeeded(log, 1, meta(3, 2))).toBe(false);
    expect(snapshotNeeded(log, 1, meta(3, 3))).toBe(true);
    expect(snapshotNeeded(log, 1, meta(8, 2))).toBe(true);
  });
});
