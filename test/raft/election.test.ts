// The election rules and tally (raft/election.ts): vote requests, the grant decision, which
// answers a (pre-)candidate counts, and a tally whose own vote waits for durability.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countsAnswer, grantsVote, voteAnswer, voteRequests, VoteTally } from '../../raft/election.js';
import { majorityVote } from '../../raft/quorum.js';
import type { VoteMessage, VoteResponse } from '../../raft/types.js';

const voters = ['a', 'b', 'c', 'd', 'e'];
const ask = (over: Partial<VoteMessage> = {}): VoteMessage => ({
  type: 'vote',
  from: 'b',
  to: 'a',
  term: 5,
  pre: false,
  transfer: false,
  lastIndex: 7,
  lastTerm: 4,
  ...over,
});
const answer = (over: Partial<VoteResponse> = {}): VoteResponse => ({
  type: 'voteResp',
  from: 'b',
  to: 'a',
  term: 5,
  pre: false,
  granted: true,
  ...over,
});

describe('voteRequests', () => {
  it('asks every other voter the same question', () => {
    const req = { from: 'a', term: 6, pre: true, transfer: false, lastIndex: 9, lastTerm: 5 };
    const out = voteRequests(voters, req);
    expect(out.map((m) => m.to)).toEqual(['b', 'c', 'd', 'e']);
    for (const m of out) expect(m).toEqual({ type: 'vote', to: m.to, ...req });
    expect(voteRequests(['a'], req)).toEqual([]);
  });
});

describe('grantsVote', () => {
  it('grants once per term: to whom it voted for, or when it has neither voted nor heard a leader', () => {
    expect(grantsVote(ask(), 5, 'b', null, true)).toBe(true);
    expect(grantsVote(ask(), 5, null, null, true)).toBe(true);
    expect(grantsVote(ask(), 5, 'c', null, true)).toBe(false);
    expect(grantsVote(ask(), 5, null, 'c', true)).toBe(false);
  });

  it('a pre-vote for a later term is granted whatever this term holds', () => {
    expect(grantsVote(ask({ pre: true, term: 6 }), 5, 'c', 'c', true)).toBe(true);
    expect(grantsVote(ask({ pre: true, term: 5 }), 5, 'c', null, true)).toBe(false);
  });

  it('never grants to a candidate whose log is behind', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom(null, 'b', 'c'), fc.constantFrom(null, 'c'), (pre, vote, leader) => {
        expect(grantsVote(ask({ pre, term: 6 }), 5, vote, leader, false)).toBe(false);
      }),
      { numRuns: 50, seed: 12 },
    );
  });
});

describe('voteAnswer', () => {
  it('a grant echoes the term asked; a refusal carries ours', () => {
    const m = ask({ pre: true, term: 6 });
    expect(voteAnswer('a', m, 5, true)).toEqual(answer({ from: 'a', to: 'b', term: 6, pre: true, granted: true }));
    expect(voteAnswer('a', m, 5, false)).toEqual(answer({ from: 'a', to: 'b', term: 5, pre: true, granted: false }));
  });
});

describe('countsAnswer', () => {
  it('counts only answers of the election run, from voters, about the term asked', () => {
    // A candidate at term 5.
    expect(countsAnswer(answer(), false, 5, voters)).toBe(true);
    expect(countsAnswer(answer({ granted: false }), false, 5, voters)).toBe(true);
    expect(countsAnswer(answer({ term: 4 }), false, 5, voters)).toBe(false);
    expect(countsAnswer(answer({ pre: true, term: 6 }), false, 5, voters)).toBe(false);
    expect(countsAnswer(answer({ from: 'x' }), false, 5, voters)).toBe(false);
    // A pre-candidate at term 5 asks about term 6; refusals carry the voter's own term.
    expect(countsAnswer(answer({ pre: true, term: 6 }), true, 5, voters)).toBe(true);
    expect(countsAnswer(answer({ pre: true, term: 5 }), true, 5, voters)).toBe(false);
    expect(countsAnswer(answer({ pre: true, term: 5, granted: false }), true, 5, voters)).toBe(true);
    expect(countsAnswer(answer({ term: 6 }), true, 5, voters)).toBe(false);
  });
});

describe('VoteTally', () => {
  it('a candidate does not win before its own vote is durable, however many others grant', () => {
    const t = new VoteTally();
    t.start('a', 3);
    for (const v of ['b', 'c', 'd', 'e']) t.record(v, true);
    expect(t.result(voters)).toBe('pending');
    expect(t.persisted('a', 2)).toBe(false);
    expect(t.result(voters)).toBe('pending');
    expect(t.persisted('a', 4)).toBe(true);
    expect(t.persisted('a', 5)).toBe(false);
    expect(t.result(voters)).toBe('won');
  });

  it('can lose while its own vote waits; only the first answer of each voter counts', () => {
    const t = new VoteTally();
    t.start('a', 1);
    t.record('b', false);
    t.record('c', false);
    t.record('b', true);
    expect(t.result(voters)).toBe('pending');
    t.record('d', false);
    expect(t.result(voters)).toBe('lost');
  });

  it('is the majority of the answers, our own included once it counts; clear forgets all', () => {
    const ans = fc.array(fc.constantFrom(true, false, undefined), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(ans, fc.boolean(), (others, durable) => {
        const t = new VoteTally();
        t.start('a', durable ? 0 : 7);
        others.forEach((g, i) => {
          if (g !== undefined) t.record(voters[i + 1] as string, g);
        });
        const byVoter = new Map<string, boolean | undefined>([['a', durable ? true : undefined]]);
        others.forEach((g, i) => byVoter.set(voters[i + 1] as string, g));
        const plain = majorityVote(voters, (v) => byVoter.get(v));
        expect(t.result(voters)).toBe(!durable && plain === 'won' ? 'pending' : plain);
        t.clear();
        expect(t.persisted('a', 7)).toBe(false);
        expect(t.result(voters)).toBe('pending');
      }),
      { numRuns: 200, seed: 13 },
    );
  });
});
