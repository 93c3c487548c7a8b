// The voter reconciler: a (state, input) -> decision table for each rule, and laws over random
// clusters driven to a fixed point (cap, odd ladder, one voter at a time, no churn).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkReconcileOptions,
  reconcile,
  type ReconcileDecision,
  type ReconcileInput,
  type ReconcileNode,
} from '../../../raft/host/index.js';

const GRACE = 1000;
const NOW = 10_000;

/** `a b+ c-` : a up, b up and caught up (when a learner), c down since long ago; `c~` down recently. */
function nodesOf(spec: string): { nodes: ReconcileNode[]; caught: Set<string> } {
  const nodes: ReconcileNode[] = [];
  const caught = new Set<string>();
  for (const tok of spec.split(/\s+/).filter(Boolean)) {
    const id = tok.replace(/[+\-~!]/g, '');
    if (tok.includes('+')) caught.add(id);
    const down = tok.includes('-') || tok.includes('~');
    nodes.push({
      id,
      up: !down,
      since: tok.includes('-') ? NOW - GRACE : tok.includes('~') ? NOW - 10 : 0,
      leaving: tok.includes('!'),
    });
  }
  return { nodes, caught };
}

interface Row {
  readonly name: string;
  readonly nodes: string;
  readonly voters: string;
  readonly learners?: string;
  readonly leader?: string;
  readonly max?: number;
  readonly inFlight?: boolean;
  readonly want: ReconcileDecision;
}

function inputOf(row: Row): ReconcileInput {
  const { nodes, caught } = nodesOf(row.nodes);
  const progress: Record<string, { match: number; caughtUp: boolean }> = {};
  for (const n of nodes) progress[n.id] = { match: caught.has(n.id) ? 100 : 10, caughtUp: caught.has(n.id) };
  const split = (s: string | undefined): string[] => (s ?? '').split(/\s+/).filter(Boolean);
  return {
    now: NOW,
    leader: row.leader ?? 'a',
    nodes,
    progress,
    config: { voters: split(row.voters), learners: split(row.learners) },
    changeInFlight: row.inFlight ?? false,
    options: { maxVoters: row.max ?? 3, graceMs: GRACE },
  };
}

const TABLE: readonly Row[] = [
  { name: 'stable 3', nodes: 'a b c', voters: 'a b c', want: { type: 'none', reason: 'stable' } },
  {
    name: 'one change at a time',
    nodes: 'a b c-',
    voters: 'a b c',
    inFlight: true,
    want: { type: 'none', reason: 'inFlight' },
  },
  { name: 'not a voter', nodes: 'a b', voters: 'b', leader: 'a', want: { type: 'none', reason: 'notVoter' } },
  {
    name: 'a voter down past grace is removed',
    nodes: 'a b c-',
    voters: 'a b c',
    want: { type: 'removeNode', id: 'c', reason: 'down' },
  },
  {
    name: 'a voter down within grace stays',
    nodes: 'a b c~',
    voters: 'a b c',
    want: { type: 'none', reason: 'stable' },
  },
  {
    name: 'dead voters go lowest name first',
    nodes: 'a b- c-',
    voters: 'a b c',
    want: { type: 'removeNode', id: 'b', reason: 'down' },
  },
  {
    name: 'a new node joins as a learner',
    nodes: 'a b c d',
    voters: 'a b c',
    want: { type: 'addLearner', id: 'd', reason: 'joined' },
  },
  {
    name: 'joiners lowest name first',
    nodes: 'a e d',
    voters: 'a',
    max: 5,
    want: { type: 'addLearner', id: 'd', reason: 'joined' },
  },
  {
    name: 'one caught-up learner cannot climb from 3 (it would make 4)',
    nodes: 'a b c d+',
    voters: 'a b c',
    learners: 'd',
    max: 5,
    want: { type: 'none', reason: 'stable' },
  },
  {
    name: 'two caught-up learners climb from 3 to 5, lowest first',
    nodes: 'a b c e+ d+',
    voters: 'a b c',
    learners: 'e d',
    max: 5,
    want: { type: 'addVoter', id: 'd', reason: 'promote' },
  },
  {
    name: 'a lagging learner is not promoted',
    nodes: 'a b c d+ e',
    voters: 'a b c',
    learners: 'd e',
    max: 5,
    want: { type: 'none', reason: 'stable' },
  },
  {
    name: 'the cap holds at 3',
    nodes: 'a b c d+ e+',
    voters: 'a b c',
    learners: 'd e',
    want: { type: 'none', reason: 'stable' },
  },
  {
    name: 'even rounds up with a caught-up learner',
    nodes: 'a b c d e+',
    voters: 'a b c d',
    learners: 'e',
    max: 5,
    want: { type: 'addVoter', id: 'e', reason: 'promote' },
  },
  {
    name: 'even waits for a learner catching up',
    nodes: 'a b c',
    voters: 'a b',
    learners: 'c',
    want: { type: 'none', reason: 'waiting' },
  },
  {
    name: 'even with no learner comes down one rung (weakest, not the leader)',
    nodes: 'a b+ c d+',
    voters: 'a b c d',
    max: 5,
    want: { type: 'removeNode', id: 'c', reason: 'demote' },
  },
  {
    name: 'even at the cap comes down',
    nodes: 'a+ b+ c+ d+ e+ f+',
    voters: 'a b c d e f',
    max: 7,
    learners: '',
    want: { type: 'removeNode', id: 'f', reason: 'demote' },
  },
  {
    name: 'over the cap demotes a down-within-grace voter first',
    nodes: 'a b+ c~ d+ e+',
    voters: 'a b c d e',
    want: { type: 'removeNode', id: 'c', reason: 'demote' },
  },
  {
    name: 'a leaving voter is removed',
    nodes: 'a b c!',
    voters: 'a b c',
    want: { type: 'removeNode', id: 'c', reason: 'leaving' },
  },
  {
    name: 'a leaving leader hands over first',
    nodes: 'a! b c+',
    voters: 'a b c',
    want: { type: 'transferLeadership', to: 'c', reason: 'leaderLeaving' },
  },
  {
    name: 'a leaving leader with nobody caught up stays',
    nodes: 'a! b c',
    voters: 'a b c',
    want: { type: 'none', reason: 'stable' },
  },
  {
    name: 'a dead learner is removed',
    nodes: 'a b c d-',
    voters: 'a b c',
    learners: 'd',
    want: { type: 'removeNode', id: 'd', reason: 'down' },
  },
  {
    name: 'a member unknown to membership is not removed',
    nodes: 'a b',
    voters: 'a b c',
    want: { type: 'none', reason: 'stable' },
  },
  { name: 'the last voter stays', nodes: 'a', voters: 'a', want: { type: 'none', reason: 'stable' } },
];

describe('voter reconciler table', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      expect(reconcile(inputOf(row))).toEqual(row.want);
    });
  }

  it('refuses an even or non-positive cap', () => {
    expect(() => checkReconcileOptions({ maxVoters: 4, graceMs: 0 })).toThrow(/odd/);
    expect(() => checkReconcileOptions({ maxVoters: 0, graceMs: 0 })).toThrow(/odd/);
    expect(() => checkReconcileOptions({ maxVoters: 3, graceMs: -1 })).toThrow(/grace/);
    expect(() => checkReconcileOptions({ maxVoters: 5, graceMs: 10 })).not.toThrow();
  });
});

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];

const arbCluster = fc
  .record({
    states: fc.array(fc.constantFrom('up', 'down', 'dead', 'absent'), { minLength: 7, maxLength: 7 }),
    caught: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    roles: fc.array(fc.constantFrom('voter', 'learner', 'none'), { minLength: 7, maxLength: 7 }),
    leaving: fc.array(
      fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      { minLength: 7, maxLength: 7 },
    ),
    leader: fc.integer({ min: 0, max: 6 }),
    max: fc.constantFrom(1, 3, 5, 7),
  })
  .map((c) => {
    const leader = IDS[c.leader] as string;
    const nodes: ReconcileNode[] = [];
    IDS.forEach((id, i) => {
      const st = id === leader ? 'up' : c.states[i];
      if (st === 'absent') return;
      nodes.push({ id, up: st === 'up', since: st === 'dead' ? 0 : NOW - 1, leaving: c.leaving[i] === true });
    });
    const voters = IDS.filter((id, i) => id === leader || c.roles[i] === 'voter');
    const learners = IDS.filter((id, i) => id !== leader && c.roles[i] === 'learner');
    const caught = new Set(IDS.filter((_, i) => c.caught[i] === true));
    return { leader, nodes, voters, learners, caught, max: c.max };
  });

describe('voter reconciler laws', () => {
  it('driven to a fixed point: capped, odd, one voter at a time, no dead member left', () => {
    fc.assert(
      fc.property(arbCluster, (c) => {
        let { leader } = c;
        let voters = [...c.voters];
        let learners = [...c.learners];
        const make = (): ReconcileInput => {
          const progress: Record<string, { match: number; caughtUp: boolean }> = {};
          for (const id of IDS) progress[id] = { match: c.caught.has(id) ? 9 : 1, caughtUp: c.caught.has(id) };
          return {
            now: NOW,
            leader,
            nodes: c.nodes,
            progress,
            config: { voters, learners },
            changeInFlight: false,
            options: { maxVoters: c.max, graceMs: GRACE },
          };
        };
        const startVoters = voters.length;
        for (let step = 0; step < 40; step++) {
          const input = make();
          const d = reconcile(input);
          expect(reconcile(input)).toEqual(d); // deterministic
          const before = new Set(voters);
          if (d.type === 'none') {
            if (d.reason === 'stable') {
              expect(voters.length % 2).toBe(1);
              expect(voters.length).toBeLessThanOrEqual(Math.max(c.max, 1));
              for (const n of c.nodes) {
                const member = voters.includes(n.id) || learners.includes(n.id);
                if (n.up && n.leaving !== true) expect(member).toBe(true);
                if (!n.up && n.since === 0 && n.id !== leader) expect(member).toBe(false);
              }
            }
            return;
          }
          if (d.type === 'addLearner') learners = [...learners, d.id];
          else if (d.type === 'addVoter') {
            expect(voters.length + 1).toBeLessThanOrEqual(c.max);
            expect(learners).toContain(d.id);
            learners = learners.filter((l) => l !== d.id);
            voters = [...voters, d.id];
          } else if (d.type === 'removeNode') {
            expect(d.id).not.toBe(leader);
            voters = voters.filter((v) => v !== d.id);
            learners = learners.filter((l) => l !== d.id);
          } else {
            expect(voters).toContain(d.to);
            expect(d.to).not.toBe(leader);
            leader = d.to;
          }
          const changed =
            [...before].filter((v) => !voters.includes(v)).length + voters.filter((v) => !before.has(v)).length;
          expect(changed).toBeLessThanOrEqual(1);
          expect(voters.length).toBeGreaterThanOrEqual(1);
          expect(voters.length).toBeLessThanOrEqual(Math.max(c.max, startVoters));
        }
        throw new Error('the reconciler did not settle within 40 changes');
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});
