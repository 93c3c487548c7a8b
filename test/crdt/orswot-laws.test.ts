// The lattice laws of the delta-state ORSWOT map, over random operation sequences on several
// replicas: full-state merge is commutative, associative and idempotent; deltas delivered in any
// order, any number of times, reach the same state as full-state merge; an add concurrent with
// a remove survives; a removed element never comes back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyDelta } from '../../crdt/index.js';
import { OrswotMap, actorOf, joinKeyDeltas } from '../../crdt/index.js';
import { canonicalMap, stringOps, visible } from './helpers.js';

const REPLICAS = 3;
const KEYS = ['a', 'b', 'c'];
const VALUES = ['x', 'y', 'z'];

type Op =
  | { kind: 'add'; replica: number; key: string; value: string }
  | { kind: 'remove'; replica: number; key: string; value: string }
  | { kind: 'merge'; from: number; to: number }
  | { kind: 'delta'; from: number; to: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    replica: fc.nat(REPLICAS - 1),
    key: fc.constantFrom(...KEYS),
    value: fc.constantFrom(...VALUES),
  }),
  fc.record({
    kind: fc.constant('remove' as const),
    replica: fc.nat(REPLICAS - 1),
    key: fc.constantFrom(...KEYS),
    value: fc.constantFrom(...VALUES),
  }),
  fc.record({ kind: fc.constant('merge' as const), from: fc.nat(REPLICAS - 1), to: fc.nat(REPLICAS - 1) }),
  fc.record({ kind: fc.constant('delta' as const), from: fc.nat(REPLICAS - 1), to: fc.nat(REPLICAS - 1) }),
);

interface World {
  replicas: OrswotMap<string>[];
  /** Every delta each replica produced, in order. */
  deltas: KeyDelta<string>[][];
  /** How many of replica i's deltas replica j has received through 'delta' ops. */
  cursor: number[][];
}

function actor(i: number): string {
  return actorOf(`r${i}`, 1);
}

function copy(map: OrswotMap<string>): OrswotMap<string> {
  const out = new OrswotMap(stringOps);
  out.joinChunk(map.cutChunk(null, Number.MAX_SAFE_INTEGER));
  return out;
}

function join(a: OrswotMap<string>, b: OrswotMap<string>): OrswotMap<string> {
  const out = copy(a);
  out.joinChunk(b.cutChunk(null, Number.MAX_SAFE_INTEGER));
  return out;
}

function run(ops: readonly Op[]): World {
  const world: World = {
    replicas: Array.from({ length: REPLICAS }, () => new OrswotMap(stringOps)),
    deltas: Array.from({ length: REPLICAS }, () => []),
    cursor: Array.from({ length: REPLICAS }, () => new Array<number>(REPLICAS).fill(0)),
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'add': {
        const r = world.replicas[op.replica] as OrswotMap<string>;
        world.deltas[op.replica]?.push(r.add(op.key, op.value, actor(op.replica)));
        break;
      }
      case 'remove': {
        const d = world.replicas[op.replica]?.remove(op.key, op.value);
        if (d !== undefined) world.deltas[op.replica]?.push(d);
        break;
      }
      case 'merge': {
        const from = world.replicas[op.from] as OrswotMap<string>;
        world.replicas[op.to]?.joinChunk(from.cutChunk(null, Number.MAX_SAFE_INTEGER));
        break;
      }
      case 'delta': {
        // Ship the next unsent delta of `from` to `to` (causal per origin, like one link).
        const row = world.cursor[op.from] as number[];
        const next = row[op.to] ?? 0;
        const d = world.deltas[op.from]?.[next];
        if (d !== undefined) {
          world.replicas[op.to]?.applyDelta(d);
          row[op.to] = next + 1;
        }
        break;
      }
    }
  }
  return world;
}

const opsArb = fc.array(opArb, { maxLength: 60 });

describe('ORSWOT map: full-state merge is a join', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const [a, b] = run(ops).replicas as [OrswotMap<string>, OrswotMap<string>];
        expect(canonicalMap(join(a, b))).toBe(canonicalMap(join(b, a)));
      }),
      { numRuns: 300 },
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const [a, b, c] = run(ops).replicas as [OrswotMap<string>, OrswotMap<string>, OrswotMap<string>];
        expect(canonicalMap(join(join(a, b), c))).toBe(canonicalMap(join(a, join(b, c))));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const [a, b] = run(ops).replicas as [OrswotMap<string>, OrswotMap<string>];
        expect(canonicalMap(join(a, a))).toBe(canonicalMap(a));
        const ab = join(a, b);
        expect(canonicalMap(join(ab, b))).toBe(canonicalMap(ab));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the digest equal exactly when the states are equal', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const [a, b] = run(ops).replicas as [OrswotMap<string>, OrswotMap<string>];
        const sameState = canonicalMap(a) === canonicalMap(b);
        expect(a.digest().join() === b.digest().join()).toBe(sameState);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ORSWOT map: deltas', () => {
  it('applied in any order, any number of times, converge to the full-state merge', () => {
    fc.assert(
      fc.property(opsArb, fc.integer(), fc.nat(3), (ops, seed, dupRounds) => {
        const world = run(ops);
        const all = world.deltas.flat();
        // Every delta once plus some duplicates, shuffled by a seeded permutation.
        const sequence = [...all];
        for (let i = 0; i < dupRounds; i++) sequence.push(...all.filter((_, j) => (j + i + seed) % 3 === 0));
        const order =
          fc.sample(fc.shuffledSubarray(sequence, { minLength: sequence.length, maxLength: sequence.length }), {
            seed,
            numRuns: 1,
          })[0] ?? [];
        const fromDeltas = new OrswotMap(stringOps);
        for (const d of order) fromDeltas.applyDelta(d);
        const merged = world.replicas.reduce((acc, r) => join(acc, r), new OrswotMap(stringOps));
        expect(canonicalMap(fromDeltas)).toBe(canonicalMap(merged));
      }),
      { numRuns: 300 },
    );
  });

  it('joined into delta groups, give the same state as applied one by one', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const world = run(ops);
        const groups = new Map<string, KeyDelta<string>>();
        for (const d of world.deltas.flat()) {
          const prev = groups.get(d.key);
          groups.set(d.key, prev === undefined ? d : joinKeyDeltas(prev, d));
        }
        const byGroups = new OrswotMap(stringOps);
        for (const g of groups.values()) byGroups.applyDelta(g);
        const oneByOne = new OrswotMap(stringOps);
        for (const d of world.deltas.flat()) oneByOne.applyDelta(d);
        expect(canonicalMap(byGroups)).toBe(canonicalMap(oneByOne));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ORSWOT map: add wins, removes stay removed', () => {
  it('an add concurrent with a remove of the same value survives every merge', () => {
    fc.assert(
      fc.property(opsArb, opsArb, fc.boolean(), (before, background, deltasOnly) => {
        const world = run([...before, { kind: 'add', replica: 0, key: 'k', value: 'v' }]);
        const [a, b] = world.replicas as [OrswotMap<string>, OrswotMap<string>];
        b.joinChunk(a.cutChunk(null, Number.MAX_SAFE_INTEGER)); // b observed v
        // Concurrently: a re-adds v (fresh dot), b removes v.
        const add = a.add('k', 'v', actor(0));
        const rm = b.remove('k', 'v');
        expect(rm).toBeDefined();
        // Unrelated background work on other keys, then exchange.
        for (const op of background)
          if (op.kind === 'add') world.replicas[op.replica]?.add(op.key, op.value, actor(op.replica));
        if (deltasOnly) {
          b.applyDelta(add);
          a.applyDelta(rm as KeyDelta<string>);
        } else {
          const ab = join(a, b);
          expect(ab.values('k')).toEqual(['v']);
          b.joinChunk(a.cutChunk(null, Number.MAX_SAFE_INTEGER));
          a.joinChunk(b.cutChunk(null, Number.MAX_SAFE_INTEGER));
        }
        expect(a.values('k')).toEqual(['v']);
        expect(b.values('k')).toEqual(['v']);
      }),
      { numRuns: 200 },
    );
  });

  it('a value removed after being observed everywhere does not come back from stale replicas', () => {
    fc.assert(
      fc.property(
        opsArb,
        fc.array(fc.tuple(fc.nat(REPLICAS - 1), fc.nat(REPLICAS - 1), fc.boolean()), { maxLength: 30 }),
        fc.boolean(),
        (ops, merges, useStale) => {
          const world = run(ops);
          const reps = world.replicas;
          // Everyone converges, then snapshots (stale copies) are taken, then one replica removes 'a'.
          const all = reps.reduce((acc, r) => join(acc, r), new OrswotMap<string>(stringOps));
          for (const r of reps) r.joinChunk(all.cutChunk(null, Number.MAX_SAFE_INTEGER));
          const stale = reps.map(copy);
          const rm = (reps[0] as OrswotMap<string>).removeKey('a');
          for (const [from, to, staleSource] of merges) {
            const source =
              useStale && staleSource ? (stale[from] as OrswotMap<string>) : (reps[from] as OrswotMap<string>);
            reps[to]?.joinChunk(source.cutChunk(null, Number.MAX_SAFE_INTEGER));
          }
          if (rm !== undefined) for (const r of reps) r.applyDelta(rm);
          for (const s of stale) for (const r of reps) r.joinChunk(s.cutChunk(null, Number.MAX_SAFE_INTEGER));
          for (const r of reps) expect(r.values('a')).toEqual([]);
          // And nothing else was lost: the other keys are what they were after convergence.
          const others = (m: OrswotMap<string>): string =>
            visible(m)
              .split(' ')
              .filter((s) => !s.startsWith('a='))
              .join(' ');
          for (const r of reps) expect(others(r)).toBe(others(all));
        },
      ),
      { numRuns: 200 },
    );
  });
});
