// The founders search (a pure core): a table of (answers, peers up) → decision.
import { describe, expect, it } from 'vitest';
import { FounderSearch } from '../../../raft/host/founders.js';

describe('FounderSearch', () => {
  it('waits for enough nodes, for every answer, and for the same nodes twice; then founds with them', () => {
    const s = new FounderSearch('b', 3);
    expect(s.round(['a'])).toMatchObject({ type: 'wait', why: '2 of 3 nodes up' });
    expect(s.round(['a', 'c'])).toMatchObject({ type: 'wait', why: 'waiting for a, c to answer' });
    s.answer('a', null);
    s.answer('c', null);
    expect(s.round(['c', 'a'])).toEqual({ type: 'found', voters: ['a', 'b', 'c'] });
  });

  it('never picks among more new nodes than expected', () => {
    const s = new FounderSearch('a', 3);
    for (const n of ['b', 'c', 'd']) s.answer(n, null);
    s.round(['b', 'c', 'd']);
    expect(s.round(['b', 'c', 'd'])).toMatchObject({ type: 'wait' });
  });

  it('adopts the founders a peer knows, whatever it sees itself', () => {
    const s = new FounderSearch('d', 3);
    s.answer('a', ['a', 'b', 'c']);
    expect(s.round(['a'])).toEqual({ type: 'adopt', voters: ['a', 'b', 'c'], from: 'a' });
  });

  it('forgets the answer of a node that went away until it answers again', () => {
    const s = new FounderSearch('a', 3);
    s.answer('b', null);
    s.answer('c', null);
    s.round(['b', 'c']);
    s.lost('c');
    expect(s.round(['b', 'c'])).toMatchObject({ type: 'wait', why: 'waiting for c to answer' });
    s.answer('c', null);
    expect(s.round(['b', 'c'])).toEqual({ type: 'found', voters: ['a', 'b', 'c'] });
  });

  it('a one-voter cluster founds alone', () => {
    const s = new FounderSearch('solo', 1);
    s.round([]);
    expect(s.round([])).toEqual({ type: 'found', voters: ['solo'] });
  });
});
