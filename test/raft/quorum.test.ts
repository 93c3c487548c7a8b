// Properties of the quorum arithmetic (raft/quorum.ts), checked against brute-force definitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jointIndex, jointVote, majorityIndex, majorityVote, type VoteResult } from '../../raft/quorum.js';

const RUNS = { numRuns: 500, seed: 10 };
const IDS = 12;
const id = (i: number): string => `n${i}`;

/** A voter set: 1..9 distinct ids out of n0..n11. */
const voters = fc.uniqueArray(fc.nat(IDS - 1).map(id), { minLength: 1, maxLength: 9 });
/** What each of n0..n11 has reached. */
const indexes = fc.array(fc.nat(20), { minLength: IDS, maxLength: IDS });
/** How each of n0..n11 answered (undefined: not yet). */
const votes = fc.array(fc.constantFrom(true, false, undefined), { minLength: IDS, maxLength: IDS });

const of =
  <T>(values: readonly T[]) =>
  (v: string): T =>
    values[Number(v.slice(1))] as T;
const quorum = (n: number): number => (n >> 1) + 1;
const rank: Record<VoteResult, number> = { lost: 0, pending: 1, won: 2 };

describe('majorityIndex', () => {
  it('is the largest index that a majority of the voters have reached', () => {
    fc.assert(
      fc.property(voters, indexes, (vs, idx) => {
        const reachedBy = (x: number): number => vs.filter((v) => of(idx)(v) >= x).length;
        const expected = Math.max(...vs.map(of(idx)).filter((x) => reachedBy(x) >= quorum(vs.length)));
        const got = majorityIndex(vs, of(idx));
        expect(got).toBe(expected);
        expect(reachedBy(got + 1)).toBeLessThan(quorum(vs.length));
      }),
      RUNS,
    );
  });

  it('never goes down when one voter advances, and does not depend on the voters order', () => {
    fc.assert(
      fc.property(voters, indexes, fc.nat(IDS - 1), fc.nat(5), (vs, idx, who, by) => {
        const before = majorityIndex(vs, of(idx));
        const after = idx.map((x, i) => (i === who ? x + by : x));
        expect(majorityIndex(vs, of(after))).toBeGreaterThanOrEqual(before);
        expect(majorityIndex([...vs].reverse(), of(idx))).toBe(before);
      }),
      RUNS,
    );
  });

  it('an empty voter set agrees to everything', () => {
    expect(majorityIndex([], () => 0)).toBe(Infinity);
    expect(majorityVote([], () => false)).toBe('won');
  });
});

describe('majorityVote', () => {
  it('is won by a majority granting, lost once a majority can no longer grant', () => {
    fc.assert(
      fc.property(voters, votes, (vs, vt) => {
        const granted = vs.filter((v) => of(vt)(v) === true).length;
        const open = vs.filter((v) => of(vt)(v) === undefined).length;
        const q = quorum(vs.length);
        const expected: VoteResult = granted >= q ? 'won' : granted + open < q ? 'lost' : 'pending';
        expect(majorityVote(vs, of(vt))).toBe(expected);
      }),
      RUNS,
    );
  });

  it('is monotone in granted votes: one more grant never makes the result worse', () => {
    fc.assert(
      fc.property(voters, votes, fc.nat(IDS - 1), (vs, vt, who) => {
        const before = majorityVote(vs, of(vt));
        const after = majorityVote(vs, of(vt.map((x, i) => (i === who ? true : x))));
        expect(rank[after]).toBeGreaterThanOrEqual(rank[before]);
      }),
      RUNS,
    );
  });

  it('is monotone in refusals the other way: one more refusal never makes it better', () => {
    fc.assert(
      fc.property(voters, votes, fc.nat(IDS - 1), (vs, vt, who) => {
        const before = majorityVote(vs, of(vt));
        const after = majorityVote(vs, of(vt.map((x, i) => (i === who ? false : x))));
        expect(rank[after]).toBeLessThanOrEqual(rank[before]);
      }),
      RUNS,
    );
  });
});

describe('joint quorums', () => {
  it('the joint index is the smaller of the two majorities', () => {
    fc.assert(
      fc.property(voters, voters, indexes, (a, b, idx) => {
        const got = jointIndex(a, b, of(idx));
        expect(got).toBe(Math.min(majorityIndex(a, of(idx)), majorityIndex(b, of(idx))));
        expect(jointIndex(a, [], of(idx))).toBe(majorityIndex(a, of(idx)));
        expect(jointIndex(a, a, of(idx))).toBe(majorityIndex(a, of(idx)));
      }),
      RUNS,
    );
  });

  it('a joint vote is won by both majorities and lost by either', () => {
    fc.assert(
      fc.property(voters, voters, votes, (a, b, vt) => {
        const ra = majorityVote(a, of(vt));
        const rb = majorityVote(b, of(vt));
        const got = jointVote(a, b, of(vt));
        expect(got).toBe(rank[ra] <= rank[rb] ? ra : rb);
        expect(jointVote(a, [], of(vt))).toBe(ra);
      }),
      RUNS,
    );
  });
});
