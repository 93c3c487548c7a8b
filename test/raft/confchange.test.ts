// Properties of single-server membership changes and the transfer state (raft/confchange.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderTransfer, nextMembership, type ChangeContext } from '../../raft/confchange.js';
import { RaftError } from '../../raft/errors.js';
import type { ConfigChange, Membership, RaftEvent } from '../../raft/types.js';

const RUNS = { numRuns: 500, seed: 11 };
const ids = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A membership over a..f: at least one voter, learners disjoint from voters. */
const membership: fc.Arbitrary<Membership> = fc
  .tuple(fc.subarray(ids, { minLength: 1 }), fc.subarray(ids))
  .map(([voters, l]) => ({ voters, learners: l.filter((x) => !voters.includes(x)) }));
const change: fc.Arbitrary<ConfigChange> = fc.record({
  type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'removeNode' as const),
  id: fc.constantFrom(...ids),
});

const ctx = (m: Membership, caughtUp: boolean): ChangeContext => ({
  self: 'a',
  membership: m,
  membershipIndex: 3,
  commit: 5,
  committedInTerm: true,
  matchOf: () => (caughtUp ? 5 : 4),
});

describe('nextMembership', () => {
  it('changes exactly the one member named, keeps a voter, and never makes a node both', () => {
    fc.assert(
      fc.property(membership, change, fc.boolean(), (m, c, caughtUp) => {
        const next = nextMembership(ctx(m, caughtUp), c);
        if (next instanceof RaftError) return;
        expect(next.voters.length).toBeGreaterThan(0);
        expect(next.voters.filter((v) => next.learners.includes(v))).toEqual([]);
        const before = new Set([...m.voters.map((v) => `v${v}`), ...m.learners.map((l) => `l${l}`)]);
        const after = new Set([...next.voters.map((v) => `v${v}`), ...next.learners.map((l) => `l${l}`)]);
        const changed = [...before, ...after].filter((x) => before.has(x) !== after.has(x));
        expect(changed.every((x) => x.slice(1) === c.id)).toBe(true);
        expect(changed.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('refuses while a change is uncommitted or before the leader committed in its term', () => {
    const m = { voters: ['a', 'b', 'c'], learners: [] };
    const add: ConfigChange = { type: 'addLearner', id: 'd' };
    expect(nextMembership({ ...ctx(m, true), membershipIndex: 6 }, add)).toMatchObject({
      code: 'ERR_RAFT_CONFIG_PENDING',
    });
    expect(nextMembership({ ...ctx(m, true), committedInTerm: false }, add)).toMatchObject({
      code: 'ERR_RAFT_NOT_READY',
    });
    const promote = { voters: ['a'], learners: ['b'] };
    expect(nextMembership(ctx(promote, false), { type: 'addVoter', id: 'b' })).toMatchObject({
      code: 'ERR_RAFT_NOT_CAUGHT_UP',
    });
    expect(nextMembership(ctx(promote, true), { type: 'addVoter', id: 'b' })).toEqual({
      voters: ['a', 'b'],
      learners: [],
    });
  });
});

describe('LeaderTransfer', () => {
  it('reports started, then aborted when a new target replaces it or time runs out, or completed', () => {
    const events: RaftEvent[] = [];
    const t = new LeaderTransfer();
    expect(t.start('b', events)).toBe(true);
    expect(t.start('b', events)).toBe(false);
    expect(t.start('c', events)).toBe(true);
    t.tick(2, events);
    t.tick(2, events);
    expect(t.target).toBe(null);
    t.start('b', events);
    t.completedBy('c', events);
    t.completedBy('b', events);
    t.end('aborted', events);
    expect(events.map((e) => (e.type === 'transfer' ? `${e.to}:${e.outcome}` : e.type))).toEqual([
      'b:started',
      'b:aborted',
      'c:started',
      'c:aborted',
      'b:started',
      'b:completed',
    ]);
  });
});
